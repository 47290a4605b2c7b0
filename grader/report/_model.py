"""The per-run metrics model: what every report format renders, and the JSON report's schema.

Every model is frozen and keeps full precision; renderers round for presentation only.
Timestamps are timezone-aware UTC, as the ledger stores them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from grader.ledger import StageName
from grader.metrics import (
    REFERENCE_BUDGETS,
    AeiBreakdown,
    CohortMaxima,
    ReferenceBudgets,
    RunEfficiency,
    RunRewards,
)
from grader.taxonomy import RunDiagnosis
from grader.usage import RunUsage

__all__ = [
    "SCHEMA_VERSION",
    "AeiFigures",
    "AeiInput",
    "ElapsedTime",
    "FindingEntry",
    "Funnel",
    "ReportDocument",
    "ResurrectionEntry",
    "RunIdentity",
    "RunMetrics",
    "StageMetrics",
    "SubmissionEntry",
    "TimelineEntry",
    "ToolCallEntry",
]

SCHEMA_VERSION: Final = "1"
"""The version of the JSON report's schema; it changes whenever a field changes meaning."""

Seconds = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
Score = Annotated[float, Field(ge=0.0, le=100.0, allow_inf_nan=False)]
Count = Annotated[int, Field(ge=0)]
AeiInput = Literal["elapsed_s", "cost_usd", "total_tokens"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RunIdentity(_Frozen):
    """Who ran, on what, and where the run stands (copied from the ledger's run row)."""

    run_id: str
    agent: str
    model: str
    harness: str | None
    label: str | None
    workload: str
    status: str = Field(description="the run's status in the ledger: created, running or finished")
    sandbox: str
    toolchain: str | None = Field(
        default=None,
        description="the grading toolchain's fingerprint the run was made with (the scoring "
        "packages' versions in the images); runs are comparable when it is equal",
    )
    epoch: str = Field(
        default="0",
        description="the epoch whose hidden cases graded the run (`0`: the built-in corpus); "
        "runs are comparable only within one epoch",
    )
    attempts_per_stage: Count
    budget_s: float | None = Field(description="the run's wall-clock budget, if it had one")
    created_at: datetime
    started_at: datetime | None = Field(description="when the first submission was claimed")
    finished_at: datetime | None


class ElapsedTime(_Frozen):
    """The run's elapsed wall time: from its first recorded event to its last.

    Events are: the run's start and finish, every submission (claimed and graded), every stage
    closing, every resurrection, and every usage event (a tool call counts from its start,
    ``at - duration_s``, to its end ``at``; a token report at its ``at``). The run's creation
    and T0's opening are not events: a run may be created long before an agent starts on it.
    ``elapsed_s`` is ``None`` when the run has no event at all.
    """

    first_event_at: datetime | None
    last_event_at: datetime | None
    elapsed_s: Seconds | None


class StageMetrics(_Frozen):
    """One stage of one run, as the stage machine left it."""

    stage: StageName
    state: str = Field(description="locked, open, grading, passed, failed or resurrected")
    attempts: Count = Field(description="attempts used (errored gradings give theirs back)")
    submissions: Count = Field(description="every submission row, errored ones included")
    chained_score: Score | None = Field(
        description="the score on the agent's own upstream outputs (or golden ones where a "
        "stage was resurrected); None until graded"
    )
    isolated_score: Score | None = Field(
        description="the score with every upstream input golden; None until graded"
    )
    passed: bool = Field(description="the stage machine passed it (state 'passed')")
    resurrected: bool = Field(description="it failed with no attempts left, or its time ran out")
    reached: bool = Field(description="it was opened to the agent at some point")
    affected: bool = Field(
        description="an earlier stage scored below 100, so the paper gives it the smaller bonus"
    )
    opened_at: datetime | None
    closed_at: datetime | None
    seconds_open: Seconds | None = Field(description="from opening to closing, when closed")
    resurrection_reason: str | None


class FindingEntry(_Frozen):
    """An integrity finding, with its evidence (which the agent is never shown)."""

    at: datetime
    stage: StageName | None = Field(description="the stage the finding concerns")
    submission_id: int | None = Field(description="the submission being graded when found")
    category: str = Field(
        description="toolchain-copy, toolchain-call, findings-tamper, measurement-tamper, "
        "workspace-too-large, build-failed, ...: all the agent was told"
    )
    evidence: str = Field(
        description="what was found, as recorded; it may quote text a stage program wrote"
    )


class Funnel(_Frozen):
    """How many of the six stages were reached, passed and resurrected."""

    reached: Count
    passed: Count
    resurrected: Count


class AeiFigures(_Frozen):
    """The run's Agent Efficiency Index, the paper's cohort-relative form and the stable form.

    Both need the run's elapsed time, cost and total tokens; when any is unknown (``missing``
    names which) neither is computed, rather than counting the unknown as zero spend.
    The cohort form is normalised by the maxima over ``cohort_runs`` (the runs with every
    input known, this one included), so it moves when that cohort changes. The stable form
    divides by the fixed ``budgets`` and never moves.
    """

    inputs: RunEfficiency | None
    missing: list[AeiInput]
    cohort: AeiBreakdown | None
    cohort_runs: list[str]
    cohort_maxima: CohortMaxima | None
    stable: AeiBreakdown | None
    budgets: ReferenceBudgets = REFERENCE_BUDGETS


class ToolCallEntry(_Frozen):
    """A tool call on the time line."""

    kind: Literal["tool_call"] = "tool_call"
    at: datetime = Field(description="when the call started")
    offset_s: float = Field(description="seconds after the run's first event")
    duration_s: Seconds | None
    stage: StageName | None = Field(description="the stage open when the call started")
    tool: str | None
    outcome: str | None = Field(description="ok or error, as recorded")
    source: str


class SubmissionEntry(_Frozen):
    """A submission on the time line."""

    kind: Literal["submission"] = "submission"
    at: datetime = Field(description="when the submission was claimed")
    offset_s: float
    duration_s: Seconds | None = Field(description="claim to recorded grade")
    stage: StageName
    submission_id: int
    attempt: int
    status: str = Field(description="grading, done or error")
    chained_score: Score | None
    isolated_score: Score | None
    passed: bool | None
    error: str | None


class ResurrectionEntry(_Frozen):
    """A resurrection on the time line."""

    kind: Literal["resurrection"] = "resurrection"
    at: datetime
    offset_s: float
    stage: StageName
    reason: str


TimelineEntry = Annotated[
    ToolCallEntry | SubmissionEntry | ResurrectionEntry, Field(discriminator="kind")
]


class RunMetrics(_Frozen):
    """Everything a report says about one run."""

    run: RunIdentity
    elapsed: ElapsedTime
    stages: list[StageMetrics]
    funnel: Funnel
    rewards: RunRewards = Field(
        description="the paper's tier, Mean Reward, pipeline and pass scores over the chained "
        "scores (an ungraded stage counts 0)"
    )
    aei: AeiFigures
    usage: RunUsage
    findings: list[FindingEntry] = Field(
        default_factory=list,
        description="every integrity finding of the run, oldest first; any finding scored "
        "the submission it was found in 0",
    )
    diagnosis: RunDiagnosis | None = Field(
        description="why the run stopped and why each stage it did not pass failed; null only "
        "when computed without it (never in `ramp-grade report`)"
    )
    timeline: list[TimelineEntry] = Field(description="oldest first")


class ReportDocument(_Frozen):
    """The JSON report: ``{"schema_version": "1", "runs": [RunMetrics, ...]}``."""

    schema_version: Literal["1"] = SCHEMA_VERSION
    generated_at: datetime
    runs: list[RunMetrics]
