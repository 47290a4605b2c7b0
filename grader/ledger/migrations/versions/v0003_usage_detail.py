"""Usage events carry a free-text detail (the message of an error an agent's transcript
recorded); kinds ``error`` and ``cost`` join ``tool_call`` and ``tokens`` (plain strings, so
no schema change for those).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

__all__ = ["branch_labels", "depends_on", "down_revision", "downgrade", "revision", "upgrade"]

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("usage_events", sa.Column("detail", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("usage_events", "detail")
