"""Runs and submissions record the grading toolchain's fingerprint (the scoring packages'
versions inside the images), so a report can say which runs are comparable.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

__all__ = ["branch_labels", "depends_on", "down_revision", "downgrade", "revision", "upgrade"]

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("toolchain_fingerprint", sa.String(), nullable=True))
    op.add_column("submissions", sa.Column("toolchain_fingerprint", sa.String(), nullable=True))


def downgrade() -> None:
    op.drop_column("submissions", "toolchain_fingerprint")
    op.drop_column("runs", "toolchain_fingerprint")
