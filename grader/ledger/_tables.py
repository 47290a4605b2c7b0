"""The ledger's tables, as SQLModel classes (the schema at the newest migration).

The tables live in their own SQLAlchemy registry, so nothing else that uses SQLModel in the
same process can collide with them. Enumerated columns are plain strings in the database
(no constraint lists their values, so a new value needs no migration); the values the code
writes are the ``StrEnum``s here (:class:`RunStatus`, :class:`StageStateName`,
:class:`SubmissionStatus`), whose members compare equal to the stored strings. Which value
may follow which is the grader's stage machine's business (``grader._transitions``), not the
ledger's.

Every timestamp is a timezone-aware UTC ``datetime`` on the way in and on the way out, on
SQLite (which stores it naive) as on PostgreSQL (``timestamp with time zone``).
"""

from __future__ import annotations

import os
import secrets
import socket
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final, Literal

from sqlalchemy import DateTime, Dialect, Index, MetaData, Text, UniqueConstraint
from sqlalchemy.orm import registry
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

__all__ = [
    "ATTEMPT_OUTCOMES",
    "CASE_MODES",
    "COST_SOURCES",
    "METADATA",
    "STAGES",
    "USAGE_KINDS",
    "AttemptOutcome",
    "Campaign",
    "CampaignAttempt",
    "CampaignTrial",
    "CaseMode",
    "CaseResult",
    "CostSource",
    "IntegrityFinding",
    "LedgerModel",
    "ResurrectionEvent",
    "Run",
    "RunStatus",
    "StageName",
    "StageOutput",
    "StageState",
    "StageStateName",
    "Submission",
    "SubmissionStatus",
    "TrialState",
    "UTCDateTime",
    "UsageEvent",
    "UsageKind",
    "new_run_id",
    "utc_now",
]

StageName = Literal["T0", "T1", "T2", "T3", "T4", "T5"]


class RunStatus(StrEnum):
    """Where a run stands (``runs.status``)."""

    CREATED = "created"  # made; the agent has not begun
    RUNNING = "running"  # the agent has begun (its budget counts)
    FINISHED = "finished"  # the agent stopped, its budget ran out, or T5 was closed


class StageStateName(StrEnum):
    """Where one stage of a run stands (``stage_states.state``)."""

    LOCKED = "locked"  # a stage before it is not closed yet
    OPEN = "open"  # may be submitted
    GRADING = "grading"  # a submission of it is being graded
    PASSED = "passed"  # closed: a submission reached the pass threshold
    RESURRECTED = "resurrected"  # closed: attempts or budget ran out; golden inputs go on


class SubmissionStatus(StrEnum):
    """Where one submission stands (``submissions.status``)."""

    GRADING = "grading"  # claimed; being graded (or its grader died: recovery re-grades it)
    DONE = "done"  # graded and recorded
    ERROR = "error"  # refused or failed on the grader's side; recorded in ``error``


# How ``submissions.error`` begins for a submission stopped before grading started (the
# attempt is given back, nothing is charged): REFUSED when the workspace itself was the
# cause (no build.sh, an unreadable file, over its caps: the agent's to fix, and the failure
# taxonomy charges it to the model); NOT_COPIED when the copying failed on RAMP's side.
REFUSED: Final = "refused: "
NOT_COPIED: Final = "not copied: "


class TrialState(StrEnum):
    """Where one trial of a campaign stands (``campaign_trials.state``)."""

    QUEUED = "queued"  # waiting for an attempt (new, or its last attempt's infrastructure failed)
    RUNNING = "running"  # an attempt is running (``claimed_by`` is the driver running it)
    GRADED = "graded"  # an attempt went through: ``run_id`` is the run that counts
    FAILED = "failed"  # every attempt's infrastructure failed: nothing counts


# ``ok``: the run went through every stage; ``charged``: it stopped on something charged to
# the model (it counts all the same); ``infrastructure``: it stopped on something that is not
# the model's (retried, never counted); ``abandoned``: the driver running it ended first.
AttemptOutcome = Literal["ok", "charged", "infrastructure", "abandoned"]

CaseMode = Literal["chained", "isolated"]
UsageKind = Literal["tool_call", "tokens", "error", "cost"]
CostSource = Literal["reported", "priced"]

STAGES: Final[tuple[StageName, ...]] = ("T0", "T1", "T2", "T3", "T4", "T5")
CASE_MODES: Final[tuple[CaseMode, ...]] = ("chained", "isolated")
USAGE_KINDS: Final[tuple[UsageKind, ...]] = ("tool_call", "tokens", "error", "cost")
COST_SOURCES: Final[tuple[CostSource, ...]] = ("reported", "priced")
ATTEMPT_OUTCOMES: Final[tuple[AttemptOutcome, ...]] = (
    "ok",
    "charged",
    "infrastructure",
    "abandoned",
)

# Deterministic constraint names on every database, matched by the migration scripts.
METADATA: Final = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def new_run_id() -> str:
    """A short random run id: ``r-`` and ten hex digits."""
    return "r-" + secrets.token_hex(5)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    A naive ``datetime`` is refused rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} given to the ledger: use UTC")
        as_utc = value.astimezone(UTC)
        return as_utc.replace(tzinfo=None) if dialect.name == "sqlite" else as_utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"the ledger read {value!r} where a timestamp was expected")
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class LedgerModel(SQLModel, registry=registry(metadata=METADATA)):
    """Base of the ledger's tables: their own registry and metadata."""


def _when(*, nullable: bool = False, index: bool = False) -> Any:
    if nullable:
        return Field(default=None, sa_type=UTCDateTime, nullable=True, index=index)
    return Field(default_factory=utc_now, sa_type=UTCDateTime, nullable=False, index=index)


class Run(LedgerModel, table=True):
    """One evaluation run of one agent on one workload."""

    __tablename__ = "runs"

    id: str = Field(default_factory=new_run_id, primary_key=True)
    label: str | None = Field(default=None)  # revision 0002
    created_at: datetime = _when()
    started_at: datetime | None = _when(nullable=True)
    finished_at: datetime | None = _when(nullable=True)
    agent: str
    model: str
    harness: str | None = None
    workload: str = "sysy-rv64"
    seed: int | None = None
    config: str = Field(default="{}", sa_type=Text)  # JSON text
    status: str = RunStatus.CREATED.value  # a RunStatus
    workspace: str
    sandbox: str
    attempts_per_stage: int = 1
    budget_s: float | None = None
    golden_key: str
    # The grading toolchain's fingerprint when the run was made (revision 0004).
    toolchain_fingerprint: str | None = None
    # The run's own unprivileged uid (and gid) for its workspace and sandboxes (revision 0005).
    sandbox_uid: int | None = Field(default=None, unique=True, index=True)
    # The epoch whose hidden cases grade the run: "0" is the built-in corpus (revision 0008).
    epoch: str = Field(default="0", index=True, sa_column_kwargs={"server_default": "0"})


class StageState(LedgerModel, table=True):
    """Where one stage of one run stands."""

    __tablename__ = "stage_states"

    run_id: str = Field(foreign_key="runs.id", primary_key=True)
    stage: str = Field(primary_key=True)  # one of STAGES
    state: str = StageStateName.LOCKED.value  # a StageStateName
    attempts_used: int = 0
    opened_at: datetime | None = _when(nullable=True)
    closed_at: datetime | None = _when(nullable=True)
    chained_score: float | None = None
    isolated_score: float | None = None
    updated_at: datetime = Field(
        default_factory=utc_now,
        sa_type=UTCDateTime,
        nullable=False,
        sa_column_kwargs={"onupdate": utc_now},  # refreshed on every UPDATE of the row
    )


class Submission(LedgerModel, table=True):
    """One attempt at one stage: a snapshot of the workspace and its grading."""

    __tablename__ = "submissions"
    __table_args__ = (Index(None, "run_id", "stage"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(foreign_key="runs.id")
    stage: str
    attempt: int
    status: str = Field(default=SubmissionStatus.GRADING.value, index=True)  # a SubmissionStatus
    created_at: datetime = _when()
    finished_at: datetime | None = _when(nullable=True)
    snapshot: str | None = None  # path of the workspace snapshot
    snapshot_hash: str | None = None
    chained_score: float | None = None
    isolated_score: float | None = None
    passed: bool | None = None
    error: str | None = Field(default=None, sa_type=Text)
    # Who is grading it, so a restarted grader can tell an orphaned "grading" row.
    grader_pid: int = Field(default_factory=os.getpid)
    grader_host: str | None = Field(default_factory=socket.gethostname)
    # The grading toolchain's fingerprint it was graded with (revision 0004).
    toolchain_fingerprint: str | None = None


class CaseResult(LedgerModel, table=True):
    """The score of one case of one submission, in one mode."""

    __tablename__ = "case_results"

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submissions.id", index=True)
    case: str
    mode: str  # one of CASE_MODES
    score: float
    diagnosis: str | None = Field(default=None, sa_type=Text)
    details: str = Field(default="{}", sa_type=Text)  # JSON text
    duration_s: float | None = None


class ResurrectionEvent(LedgerModel, table=True):
    """A failed stage brought back with the reference artifacts."""

    __tablename__ = "resurrection_events"

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(foreign_key="runs.id", index=True)
    stage: str
    at: datetime = _when()
    reason: str = Field(sa_type=Text)
    artifacts_path: str | None = None


class UsageEvent(LedgerModel, table=True):
    """One tool call or one token report, shaped after the OTel GenAI conventions.

    ``dedup_key`` makes imports idempotent: the same (run, key) is stored once.
    ``input_tokens`` includes the cached tokens; ``cost_source`` is ``reported`` when the
    provider said what it cost, ``priced`` when RAMP priced it, ``None`` when unknown.
    Kind ``error`` is an error an agent's transcript recorded (``outcome`` its class, e.g.
    ``context_length``, ``detail`` its message); kind ``cost`` is a cost reported for a whole
    conversation (``conversation_id``) rather than per response.
    """

    __tablename__ = "usage_events"
    __table_args__ = (
        UniqueConstraint("run_id", "dedup_key"),
        Index(None, "run_id", "at"),  # revision 0002
    )

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(foreign_key="runs.id")
    at: datetime = _when()
    kind: str  # one of USAGE_KINDS
    source: str  # mcp, claude_jsonl, codex_rollout, jsonl, self_report
    dedup_key: str | None = None
    tool: str | None = None
    arguments_bytes: int | None = None
    result_bytes: int | None = None
    duration_s: float | None = None
    outcome: str | None = None
    provider: str | None = None
    request_model: str | None = None
    conversation_id: str | None = None
    input_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_output_tokens: int | None = None
    cost_usd: float | None = None
    cost_source: str | None = None  # one of COST_SOURCES, or None
    detail: str | None = Field(default=None, sa_type=Text)  # revision 0003


class IntegrityFinding(LedgerModel, table=True):
    """Something the grader found wrong with a run or a submission (tampering, drift)."""

    __tablename__ = "integrity_findings"

    id: int | None = Field(default=None, primary_key=True)
    run_id: str | None = Field(default=None, foreign_key="runs.id", index=True)
    submission_id: int | None = Field(default=None, foreign_key="submissions.id", index=True)
    stage: str | None = None
    kind: str
    detail: str = Field(sa_type=Text)
    at: datetime = _when()


class StageOutput(LedgerModel, table=True):
    """One case's chained output of a graded submission, frozen for the next stage (revision
    0006): its content is in the grader's store under ``sha256``; ``sha256`` None means the
    case had no accepted output, so the next stage gets no input for it."""

    __tablename__ = "stage_outputs"
    __table_args__ = (UniqueConstraint("submission_id", "case"),)

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submissions.id", index=True)
    case: str
    sha256: str | None = None
    size: int | None = None


class Campaign(LedgerModel, table=True):
    """A campaign (revision 0007): agents x models x trials, made from one campaign file whose
    parsed form is ``spec`` (JSON text) and whose hash says whether a re-run is the same one."""

    __tablename__ = "campaigns"

    name: str = Field(primary_key=True)
    spec: str = Field(sa_type=Text)  # JSON text of the parsed campaign file
    spec_hash: str
    created_at: datetime = _when()


class CampaignTrial(LedgerModel, table=True):
    """One trial of a campaign: one agent x model x trial index (revision 0007).

    ``run_id`` is the run of the attempt that counts, set once (in a locked transaction) when
    an attempt goes through; ``attempts`` counts the attempts made so far."""

    __tablename__ = "campaign_trials"
    __table_args__ = (UniqueConstraint("campaign", "agent", "model", "index"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign: str = Field(foreign_key="campaigns.name", index=True)
    agent: str
    model: str
    index: int
    state: str = TrialState.QUEUED.value  # a TrialState
    attempts: int = 0
    run_id: str | None = Field(default=None, foreign_key="runs.id")
    claimed_by: str | None = None  # "host:pid" of the driver running its attempt
    error: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = _when()
    started_at: datetime | None = _when(nullable=True)
    finished_at: datetime | None = _when(nullable=True)


class CampaignAttempt(LedgerModel, table=True):
    """One attempt at a trial: one agent run (revision 0007). ``outcome`` is None while it
    runs; ``run_id`` None when it failed before its run was made."""

    __tablename__ = "campaign_attempts"
    __table_args__ = (UniqueConstraint("trial_id", "attempt"),)

    id: int | None = Field(default=None, primary_key=True)
    trial_id: int = Field(foreign_key="campaign_trials.id", index=True)
    attempt: int
    run_id: str | None = Field(default=None, foreign_key="runs.id")
    outcome: str | None = None  # one of ATTEMPT_OUTCOMES
    error: str | None = Field(default=None, sa_type=Text)
    node: str | None = None  # where it ran (host name)
    started_at: datetime = _when()
    finished_at: datetime | None = _when(nullable=True)
