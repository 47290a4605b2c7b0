"""Per-run metrics from the ledger: :func:`run_metrics` and its batch form :func:`runs_metrics`.

The paper's figures come from :mod:`grader.metrics`, usage and cost from :mod:`grader.usage`,
the failure diagnosis from :mod:`grader.taxonomy`; this module gathers them per run, adds the
stage table, the elapsed time and the time line, and computes both AEIs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from grader.ledger import STAGES, Ledger
from grader.metrics import (
    REFERENCE_BUDGETS,
    ReferenceBudgets,
    RunEfficiency,
    RunRewards,
    cohort_aei,
    cohort_maxima,
    rewards,
    stable_aei,
)
from grader.report._errors import ReportError
from grader.report._model import (
    AeiFigures,
    AeiInput,
    ElapsedTime,
    FindingEntry,
    Funnel,
    ResurrectionEntry,
    RunIdentity,
    RunMetrics,
    StageMetrics,
    SubmissionEntry,
    TimelineEntry,
    ToolCallEntry,
)
from grader.report._records import RunRecord, SubmissionRow, UsageRow, load_records
from grader.taxonomy import RunDiagnosis, diagnose_run
from grader.usage import PricingTable, RunUsage, load_pricing, run_usage

__all__ = ["run_metrics", "runs_metrics"]


def run_metrics(
    ledger: Ledger,
    run_id: str,
    *,
    cohort: list[str] | None = None,
    pricing: PricingTable | None = None,
    budgets: ReferenceBudgets = REFERENCE_BUDGETS,
) -> RunMetrics:
    """Every metric of run ``run_id``.

    ``cohort`` lists the runs whose maxima normalise the paper's (cohort) AEI; ``None`` means
    every run in the ledger. The run itself always belongs to its cohort. ``pricing`` prices
    token usage that carries no reported cost (default: :func:`grader.usage.load_pricing`,
    the shipped table with ``$RAMP_PRICING`` merged over it).
    """
    return runs_metrics(ledger, [run_id], cohort=cohort, pricing=pricing, budgets=budgets)[0]


def runs_metrics(
    ledger: Ledger,
    run_ids: Sequence[str],
    *,
    cohort: list[str] | None = None,
    pricing: PricingTable | None = None,
    budgets: ReferenceBudgets = REFERENCE_BUDGETS,
    diagnose: bool = True,
) -> list[RunMetrics]:
    """:func:`run_metrics` of several runs at once, in order, reading each cohort run once.

    The cohort is ``cohort`` (``None``: every run in the ledger) together with ``run_ids``.
    ``diagnose=False`` skips the failure diagnosis (``diagnosis`` is then ``None``), the
    costliest part, for callers that do not show it.
    """
    wanted = list(dict.fromkeys(run_ids))
    if not wanted:
        raise ReportError("no runs were given: name at least one run id")
    members = [run.id for run in ledger.list_runs()] if cohort is None else cohort
    everyone = list(dict.fromkeys([*wanted, *members]))
    records = {record.run.id: record for record in load_records(ledger, everyone)}
    table = pricing if pricing is not None else load_pricing()  # read once, not per run
    usages = {run_id: run_usage(ledger, run_id, table) for run_id in everyone}
    inputs: dict[str, tuple[RunEfficiency | None, list[AeiInput]]] = {}
    for run_id in everyone:
        record = records[run_id]
        inputs[run_id] = _efficiency(_rewards(record), _elapsed(record).elapsed_s, usages[run_id])
    complete = [run_id for run_id in everyone if inputs[run_id][0] is not None]
    efficiencies = [run for run_id in complete if (run := inputs[run_id][0]) is not None]
    maxima = cohort_maxima(efficiencies) if efficiencies else None
    relative = dict(zip(complete, cohort_aei(efficiencies, maxima), strict=True))
    built: list[RunMetrics] = []
    for run_id in wanted:
        record = records[run_id]
        efficiency, missing = inputs[run_id]
        aei = AeiFigures(
            inputs=efficiency,
            missing=missing,
            cohort=relative.get(run_id),
            cohort_runs=complete,
            cohort_maxima=maxima,
            stable=None if efficiency is None else stable_aei(efficiency, budgets),
            budgets=budgets,
        )
        diagnosis = diagnose_run(ledger, run_id) if diagnose else None
        built.append(_build(record, usages[run_id], aei, diagnosis))
    return built


def _build(
    record: RunRecord, usage: RunUsage, aei: AeiFigures, diagnosis: RunDiagnosis | None
) -> RunMetrics:
    run = record.run
    stages = _stages(record)
    elapsed = _elapsed(record)
    return RunMetrics(
        run=RunIdentity(
            run_id=run.id,
            agent=run.agent,
            model=run.model,
            harness=run.harness,
            label=run.label,
            workload=run.workload,
            status=run.status,
            sandbox=run.sandbox,
            toolchain=run.toolchain_fingerprint,
            epoch=run.epoch,
            attempts_per_stage=run.attempts_per_stage,
            budget_s=run.budget_s,
            created_at=run.created_at,
            started_at=run.started_at,
            finished_at=run.finished_at,
        ),
        elapsed=elapsed,
        stages=stages,
        funnel=Funnel(
            reached=sum(s.reached for s in stages),
            passed=sum(s.passed for s in stages),
            resurrected=sum(s.resurrected for s in stages),
        ),
        rewards=_rewards(record),
        aei=aei,
        usage=usage,
        findings=[
            FindingEntry(
                at=f.at,
                stage=f.stage,
                submission_id=f.submission_id,
                category=f.kind,
                evidence=f.detail,
            )
            for f in record.findings
        ],
        diagnosis=diagnosis,
        timeline=_timeline(record, elapsed.first_event_at),
    )


def _rewards(record: RunRecord) -> RunRewards:
    _check_stages(record)
    return rewards([state.chained_score or 0.0 for state in record.states])


def _check_stages(record: RunRecord) -> None:
    found = [state.stage for state in record.states]
    if found != list(STAGES):
        raise ReportError(
            f"run {record.run.id!r} has stage rows {found or 'none'} in the ledger, not "
            f"{', '.join(STAGES)}: the ledger was written by something other than the stage "
            "machine; re-create the run with `ramp run create`"
        )


def _stages(record: RunRecord) -> list[StageMetrics]:
    affected = _rewards(record).affected
    submitted: dict[str, int] = {}
    for submission in record.submissions:
        submitted[submission.stage] = submitted.get(submission.stage, 0) + 1
    reasons = {event.stage: event.reason for event in record.resurrections}
    return [
        StageMetrics(
            stage=state.stage,  # validated against StageName
            state=state.state,
            attempts=state.attempts_used,
            submissions=submitted.get(state.stage, 0),
            chained_score=state.chained_score,
            isolated_score=state.isolated_score,
            passed=state.state == "passed",
            resurrected=state.state == "resurrected",
            reached=state.opened_at is not None or state.state != "locked",
            affected=hit,
            opened_at=state.opened_at,
            closed_at=state.closed_at,
            seconds_open=(
                (state.closed_at - state.opened_at).total_seconds()
                if state.opened_at is not None and state.closed_at is not None
                else None
            ),
            resurrection_reason=reasons.get(state.stage),
        )
        for state, hit in zip(record.states, affected, strict=True)
    ]


def _tool_span(event: UsageRow) -> tuple[datetime, datetime]:
    """A tool call's (start, end): the ledger stamps ``at`` when the call ended."""
    if event.kind == "tool_call" and event.duration_s is not None and event.duration_s > 0:
        return event.at - timedelta(seconds=event.duration_s), event.at
    return event.at, event.at


def _elapsed(record: RunRecord) -> ElapsedTime:
    run = record.run
    moments: list[datetime] = []
    moments.extend(m for m in (run.started_at, run.finished_at) if m is not None)
    for submission in record.submissions:
        moments.append(submission.created_at)
        if submission.finished_at is not None:
            moments.append(submission.finished_at)
    moments.extend(state.closed_at for state in record.states if state.closed_at is not None)
    moments.extend(event.at for event in record.resurrections)
    for event in record.usage:
        moments.extend(_tool_span(event))
    if not moments:
        return ElapsedTime(first_event_at=None, last_event_at=None, elapsed_s=None)
    first, last = min(moments), max(moments)
    return ElapsedTime(
        first_event_at=first, last_event_at=last, elapsed_s=(last - first).total_seconds()
    )


def _efficiency(
    scores: RunRewards, elapsed_s: float | None, usage: RunUsage
) -> tuple[RunEfficiency | None, list[AeiInput]]:
    missing: list[AeiInput] = []
    if elapsed_s is None:
        missing.append("elapsed_s")
    if usage.cost_usd is None:
        missing.append("cost_usd")
    if usage.tokens.reports == 0:
        missing.append("total_tokens")
    if elapsed_s is None or usage.cost_usd is None or missing:
        return None, missing
    return (
        RunEfficiency(
            elapsed_s=elapsed_s,
            cost_usd=usage.cost_usd,
            total_tokens=usage.tokens.total,
            tier=scores.tier,
            mean_reward=scores.mean_reward,
        ),
        missing,
    )


class _StageClock:
    """Which stage was open at a given moment: the latest-opened stage whose span
    ``[opened_at, closed_at]`` holds it (``closed_at`` missing: still open)."""

    def __init__(self, record: RunRecord) -> None:
        self._spans = sorted(
            (
                (state.opened_at, state.closed_at, state.stage)
                for state in record.states
                if state.opened_at is not None
            ),
            key=lambda span: span[0],
            reverse=True,
        )

    def at(self, moment: datetime) -> str | None:
        for opened, closed, stage in self._spans:
            if opened <= moment and (closed is None or moment <= closed):
                return stage
        return None


def _offset(moment: datetime, origin: datetime | None) -> float:
    return 0.0 if origin is None else (moment - origin).total_seconds()


def _timeline(record: RunRecord, origin: datetime | None) -> list[TimelineEntry]:
    clock = _StageClock(record)
    entries: list[TimelineEntry] = []
    for event in record.usage:
        if event.kind != "tool_call":
            continue
        start, _ = _tool_span(event)
        entries.append(
            ToolCallEntry(
                at=start,
                offset_s=_offset(start, origin),
                duration_s=event.duration_s,
                stage=clock.at(start),  # validated against StageName
                tool=event.tool,
                outcome=event.outcome,
                source=event.source,
            )
        )
    entries.extend(_submission_entry(s, origin) for s in record.submissions)
    entries.extend(
        ResurrectionEntry(
            at=event.at,
            offset_s=_offset(event.at, origin),
            stage=event.stage,  # validated against StageName
            reason=event.reason,
        )
        for event in record.resurrections
    )
    entries.sort(key=lambda entry: entry.at)
    return entries


def _submission_entry(submission: SubmissionRow, origin: datetime | None) -> SubmissionEntry:
    return SubmissionEntry(
        at=submission.created_at,
        offset_s=_offset(submission.created_at, origin),
        duration_s=(
            (submission.finished_at - submission.created_at).total_seconds()
            if submission.finished_at is not None
            else None
        ),
        stage=submission.stage,  # validated against StageName
        submission_id=submission.id,
        attempt=submission.attempt,
        status=submission.status,
        chained_score=submission.chained_score,
        isolated_score=submission.isolated_score,
        passed=submission.passed,
        error=submission.error,
    )
