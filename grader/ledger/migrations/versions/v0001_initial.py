"""The first ledger schema: runs, stages, submissions, cases, resurrections, usage, findings.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Frozen: later changes go in later revisions, never here (ledgers at 0001 exist).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

__all__ = ["branch_labels", "depends_on", "down_revision", "downgrade", "revision", "upgrade"]

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def _when(name: str, *, nullable: bool) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.String(), nullable=False),
        _when("created_at", nullable=False),
        _when("started_at", nullable=True),
        _when("finished_at", nullable=True),
        sa.Column("agent", sa.String(), nullable=False),
        sa.Column("model", sa.String(), nullable=False),
        sa.Column("harness", sa.String(), nullable=True),
        sa.Column("workload", sa.String(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=True),
        sa.Column("config", sa.Text(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("workspace", sa.String(), nullable=False),
        sa.Column("sandbox", sa.String(), nullable=False),
        sa.Column("attempts_per_stage", sa.Integer(), nullable=False),
        sa.Column("budget_s", sa.Float(), nullable=True),
        sa.Column("golden_key", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
    )
    op.create_table(
        "stage_states",
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("stage", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("attempts_used", sa.Integer(), nullable=False),
        _when("opened_at", nullable=True),
        _when("closed_at", nullable=True),
        sa.Column("chained_score", sa.Float(), nullable=True),
        sa.Column("isolated_score", sa.Float(), nullable=True),
        _when("updated_at", nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_stage_states_run_id_runs"),
        sa.PrimaryKeyConstraint("run_id", "stage", name="pk_stage_states"),
    )
    op.create_table(
        "submissions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("stage", sa.String(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        _when("created_at", nullable=False),
        _when("finished_at", nullable=True),
        sa.Column("snapshot", sa.String(), nullable=True),
        sa.Column("snapshot_hash", sa.String(), nullable=True),
        sa.Column("chained_score", sa.Float(), nullable=True),
        sa.Column("isolated_score", sa.Float(), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("grader_pid", sa.Integer(), nullable=False),
        sa.Column("grader_host", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_submissions_run_id_runs"),
        sa.PrimaryKeyConstraint("id", name="pk_submissions"),
    )
    op.create_index("ix_submissions_run_id_stage", "submissions", ["run_id", "stage"])
    op.create_index("ix_submissions_status", "submissions", ["status"])
    op.create_table(
        "case_results",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("case", sa.String(), nullable=False),
        sa.Column("mode", sa.String(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("diagnosis", sa.Text(), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name="fk_case_results_submission_id_submissions",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_case_results"),
    )
    op.create_index("ix_case_results_submission_id", "case_results", ["submission_id"])
    op.create_table(
        "resurrection_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("stage", sa.String(), nullable=False),
        _when("at", nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("artifacts_path", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_resurrection_events_run_id_runs"),
        sa.PrimaryKeyConstraint("id", name="pk_resurrection_events"),
    )
    op.create_index("ix_resurrection_events_run_id", "resurrection_events", ["run_id"])
    op.create_table(
        "usage_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(), nullable=False),
        _when("at", nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("dedup_key", sa.String(), nullable=True),
        sa.Column("tool", sa.String(), nullable=True),
        sa.Column("arguments_bytes", sa.Integer(), nullable=True),
        sa.Column("result_bytes", sa.Integer(), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("outcome", sa.String(), nullable=True),
        sa.Column("provider", sa.String(), nullable=True),
        sa.Column("request_model", sa.String(), nullable=True),
        sa.Column("conversation_id", sa.String(), nullable=True),
        sa.Column("input_tokens", sa.Integer(), nullable=True),
        sa.Column("cache_read_input_tokens", sa.Integer(), nullable=True),
        sa.Column("cache_creation_input_tokens", sa.Integer(), nullable=True),
        sa.Column("output_tokens", sa.Integer(), nullable=True),
        sa.Column("reasoning_output_tokens", sa.Integer(), nullable=True),
        sa.Column("cost_usd", sa.Float(), nullable=True),
        sa.Column("cost_source", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_usage_events_run_id_runs"),
        sa.PrimaryKeyConstraint("id", name="pk_usage_events"),
        sa.UniqueConstraint("run_id", "dedup_key", name="uq_usage_events_run_id_dedup_key"),
    )
    op.create_table(
        "integrity_findings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(), nullable=True),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.Column("stage", sa.String(), nullable=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        _when("at", nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_integrity_findings_run_id_runs"),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name="fk_integrity_findings_submission_id_submissions",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_integrity_findings"),
    )
    op.create_index("ix_integrity_findings_run_id", "integrity_findings", ["run_id"])
    op.create_index("ix_integrity_findings_submission_id", "integrity_findings", ["submission_id"])


def downgrade() -> None:
    for table in (
        "integrity_findings",
        "usage_events",
        "resurrection_events",
        "case_results",
        "submissions",
        "stage_states",
        "runs",
    ):
        op.drop_table(table)
