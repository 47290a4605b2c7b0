"""Everything the taxonomy reads about a run, gathered from the ledger in one pass."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlmodel import col, func, select

from grader.ledger import (
    STAGES,
    CaseResult,
    IntegrityFinding,
    Ledger,
    ResurrectionEvent,
    Run,
    StageState,
    Submission,
    UsageEvent,
)

__all__ = ["RunEvidence", "gather"]


@dataclass(frozen=True)
class RunEvidence:
    run: Run
    states: dict[str, StageState]
    submissions: dict[str, list[Submission]]  # per stage, oldest first
    cases: dict[int, list[CaseResult]]  # chained results per graded submission
    resurrections: dict[str, list[ResurrectionEvent]]
    findings: list[IntegrityFinding]
    tool_calls: list[UsageEvent]
    errors: list[UsageEvent]  # kind "error": what transcripts recorded
    last_token_at: datetime | None  # the latest model response imported or reported
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def end(self) -> datetime:
        """When the run ended, or now if it has not."""
        return self.run.finished_at or self.now

    def window(self, stage: str) -> tuple[datetime, datetime] | None:
        """When ``stage`` was open: from its opening to its closing (or the run's end)."""
        state = self.states.get(stage)
        if state is None or state.opened_at is None:
            return None
        return state.opened_at, state.closed_at or self.end

    def tool_calls_in(self, stage: str) -> list[UsageEvent]:
        span = self.window(stage)
        if span is None:
            return []
        return [e for e in self.tool_calls if span[0] <= e.at <= span[1]]

    def done(self, stage: str) -> list[Submission]:
        return [s for s in self.submissions.get(stage, []) if s.status == "done"]

    def tokens_after(self, moment: datetime) -> bool:
        return self.last_token_at is not None and self.last_token_at > moment


def gather(ledger: Ledger, run_id: str) -> RunEvidence:
    """Read run ``run_id``'s rows (RunNotFoundError if there is none)."""
    run = ledger.get_run(run_id)
    states = {s.stage: s for s in ledger.stage_states(run_id)}
    findings = ledger.findings(run_id)
    with ledger.session(write=False) as session:
        # Token records can number tens of thousands: only the latest time matters here.
        usage = list(
            session.exec(
                select(UsageEvent)
                .where(
                    UsageEvent.run_id == run_id, col(UsageEvent.kind).in_(("tool_call", "error"))
                )
                .order_by(col(UsageEvent.at), col(UsageEvent.id))
            ).all()
        )
        last_token_at = session.exec(
            select(func.max(UsageEvent.at)).where(
                UsageEvent.run_id == run_id, UsageEvent.kind == "tokens"
            )
        ).one()
        submissions = list(
            session.exec(
                select(Submission)
                .where(Submission.run_id == run_id)
                .order_by(col(Submission.created_at), col(Submission.id))
            ).all()
        )
        graded = [s.id for s in submissions if s.status == "done" and s.id is not None]
        results = (
            list(
                session.exec(
                    select(CaseResult)
                    .where(col(CaseResult.submission_id).in_(graded), CaseResult.mode == "chained")
                    .order_by(col(CaseResult.case))
                ).all()
            )
            if graded
            else []
        )
        resurrections = list(
            session.exec(
                select(ResurrectionEvent)
                .where(ResurrectionEvent.run_id == run_id)
                .order_by(col(ResurrectionEvent.at))
            ).all()
        )
    per_stage: dict[str, list[Submission]] = defaultdict(list)
    for submission in submissions:
        per_stage[submission.stage].append(submission)
    cases: dict[int, list[CaseResult]] = defaultdict(list)
    for result in results:
        cases[result.submission_id].append(result)
    revived: dict[str, list[ResurrectionEvent]] = defaultdict(list)
    for event in resurrections:
        revived[event.stage].append(event)
    return RunEvidence(
        run=run,
        states={stage: states[stage] for stage in STAGES if stage in states},
        submissions=dict(per_stage),
        cases=dict(cases),
        resurrections=dict(revived),
        findings=findings,
        tool_calls=[e for e in usage if e.kind == "tool_call"],
        errors=[e for e in usage if e.kind == "error"],
        last_token_at=_aware(last_token_at),
    )


def _aware(moment: datetime | None) -> datetime | None:
    """An aggregate bypasses the column type: SQLite hands back a naive UTC time (or text)."""
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
