"""Outputs frozen at grading: a graded submission's chained output of every case, by the
sha256 of its content in the grader's store, so the next stage is fed exactly those and no
earlier stage program is ever run again.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

__all__ = ["branch_labels", "depends_on", "down_revision", "downgrade", "revision", "upgrade"]

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "stage_outputs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("case", sa.String(), nullable=False),
        sa.Column("sha256", sa.String(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name="fk_stage_outputs_submission_id_submissions",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_stage_outputs"),
        sa.UniqueConstraint("submission_id", "case", name="uq_stage_outputs_submission_id_case"),
    )
    op.create_index("ix_stage_outputs_submission_id", "stage_outputs", ["submission_id"])


def downgrade() -> None:
    op.drop_index("ix_stage_outputs_submission_id", table_name="stage_outputs")
    op.drop_table("stage_outputs")
