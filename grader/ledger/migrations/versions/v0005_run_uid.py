"""Every run gets its own unprivileged uid (and a group of the same number): its workspace,
its sandboxes and its file tools run as that uid, so nothing of one run can reach another
run's files, a token or the ledger.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

__all__ = ["branch_labels", "depends_on", "down_revision", "downgrade", "revision", "upgrade"]

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("sandbox_uid", sa.Integer(), nullable=True))
    op.create_index("ix_runs_sandbox_uid", "runs", ["sandbox_uid"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_runs_sandbox_uid", table_name="runs")
    op.drop_column("runs", "sandbox_uid")
