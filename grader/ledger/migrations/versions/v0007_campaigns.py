"""Campaigns: a campaign file's parsed form and hash, its trials (agent x model x index, the
run that counts) and every attempt at a trial (its run, how it ended, where it ran).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

__all__ = ["branch_labels", "depends_on", "down_revision", "downgrade", "revision", "upgrade"]

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def _when(name: str, *, nullable: bool) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("spec", sa.Text(), nullable=False),
        sa.Column("spec_hash", sa.String(), nullable=False),
        _when("created_at", nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_campaigns"),
    )
    op.create_table(
        "campaign_trials",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("campaign", sa.String(), nullable=False),
        sa.Column("agent", sa.String(), nullable=False),
        sa.Column("model", sa.String(), nullable=False),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=True),
        sa.Column("claimed_by", sa.String(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        _when("created_at", nullable=False),
        _when("started_at", nullable=True),
        _when("finished_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign"], ["campaigns.name"], name="fk_campaign_trials_campaign_campaigns"
        ),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_campaign_trials_run_id_runs"),
        sa.PrimaryKeyConstraint("id", name="pk_campaign_trials"),
        sa.UniqueConstraint(
            "campaign",
            "agent",
            "model",
            "index",
            name="uq_campaign_trials_campaign_agent_model_index",
        ),
    )
    op.create_index("ix_campaign_trials_campaign", "campaign_trials", ["campaign"])
    op.create_table(
        "campaign_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=True),
        sa.Column("outcome", sa.String(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("node", sa.String(), nullable=True),
        _when("started_at", nullable=False),
        _when("finished_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["trial_id"],
            ["campaign_trials.id"],
            name="fk_campaign_attempts_trial_id_campaign_trials",
        ),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_campaign_attempts_run_id_runs"),
        sa.PrimaryKeyConstraint("id", name="pk_campaign_attempts"),
        sa.UniqueConstraint("trial_id", "attempt", name="uq_campaign_attempts_trial_id_attempt"),
    )
    op.create_index("ix_campaign_attempts_trial_id", "campaign_attempts", ["trial_id"])


def downgrade() -> None:
    op.drop_index("ix_campaign_attempts_trial_id", table_name="campaign_attempts")
    op.drop_table("campaign_attempts")
    op.drop_index("ix_campaign_trials_campaign", table_name="campaign_trials")
    op.drop_table("campaign_trials")
    op.drop_table("campaigns")
