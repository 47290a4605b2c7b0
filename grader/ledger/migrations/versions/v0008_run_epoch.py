"""Every run records the epoch whose hidden cases grade it: ``0`` is the built-in corpus,
any other id a generated epoch (golden._epochs). Runs made before this revision were all
graded on the built-in corpus, so they get ``0``.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

__all__ = ["branch_labels", "depends_on", "down_revision", "downgrade", "revision", "upgrade"]

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("epoch", sa.String(), nullable=False, server_default="0"))
    op.create_index("ix_runs_epoch", "runs", ["epoch"])


def downgrade() -> None:
    op.drop_index("ix_runs_epoch", table_name="runs")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("epoch")
