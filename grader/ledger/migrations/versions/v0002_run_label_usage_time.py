"""Runs get an optional human label; usage events are read per run in time order.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

__all__ = ["branch_labels", "depends_on", "down_revision", "downgrade", "revision", "upgrade"]

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("label", sa.String(), nullable=True))
    op.create_index("ix_usage_events_run_id_at", "usage_events", ["run_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_usage_events_run_id_at", table_name="usage_events")
    op.drop_column("runs", "label")
