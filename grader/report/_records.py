"""Reading what a report needs about many runs from the ledger at once.

One read transaction, one query per table for a whole batch of runs, plain rows rather than
ORM objects: a report over a hundred runs reads the ledger in a few queries, not hundreds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Table, select

from grader.ledger import (
    IntegrityFinding,
    Ledger,
    ResurrectionEvent,
    Run,
    RunNotFoundError,
    StageState,
    Submission,
    UsageEvent,
)

__all__ = [
    "FindingRow",
    "ResurrectionRow",
    "RunRecord",
    "StageRow",
    "SubmissionRow",
    "UsageRow",
    "load_records",
]

_BATCH: Final = 500  # run ids per IN (...) list, well inside every database's limits


@dataclass(frozen=True, slots=True)
class StageRow:
    stage: str
    state: str
    attempts_used: int
    opened_at: datetime | None
    closed_at: datetime | None
    chained_score: float | None
    isolated_score: float | None


@dataclass(frozen=True, slots=True)
class SubmissionRow:
    id: int
    stage: str
    attempt: int
    status: str
    created_at: datetime
    finished_at: datetime | None
    chained_score: float | None
    isolated_score: float | None
    passed: bool | None
    error: str | None


@dataclass(frozen=True, slots=True)
class ResurrectionRow:
    stage: str
    at: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class FindingRow:
    at: datetime
    stage: str | None
    submission_id: int | None
    kind: str
    detail: str


@dataclass(frozen=True, slots=True)
class UsageRow:
    at: datetime
    kind: str
    source: str
    tool: str | None
    duration_s: float | None
    outcome: str | None


@dataclass(frozen=True)
class RunRecord:
    """The ledger rows of one run that a report reads."""

    run: Run
    states: list[StageRow] = field(default_factory=list)
    submissions: list[SubmissionRow] = field(default_factory=list)
    resurrections: list[ResurrectionRow] = field(default_factory=list)
    usage: list[UsageRow] = field(default_factory=list)
    findings: list[FindingRow] = field(default_factory=list)


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


def load_records(ledger: Ledger, run_ids: Sequence[str]) -> list[RunRecord]:
    """The rows of every run in ``run_ids``, in that order, each list oldest first.

    Raises :class:`RunNotFoundError` naming every id the ledger does not hold.
    """
    wanted = list(dict.fromkeys(run_ids))
    runs: dict[str, Run] = {}
    states: dict[str, list[StageRow]] = defaultdict(list)
    submissions: dict[str, list[SubmissionRow]] = defaultdict(list)
    resurrections: dict[str, list[ResurrectionRow]] = defaultdict(list)
    usage: dict[str, list[UsageRow]] = defaultdict(list)
    findings: dict[str, list[FindingRow]] = defaultdict(list)
    stage_t, submission_t = _table(StageState), _table(Submission)
    resurrection_t, usage_t = _table(ResurrectionEvent), _table(UsageEvent)
    with ledger.session(write=False) as session:
        connection = session.connection()
        for start in range(0, len(wanted), _BATCH):
            batch = wanted[start : start + _BATCH]
            for run in session.scalars(select(Run).where(_table(Run).c.id.in_(batch))):
                runs[run.id] = run
            c = stage_t.c
            for stage_row in connection.execute(
                select(
                    c.run_id,
                    c.stage,
                    c.state,
                    c.attempts_used,
                    c.opened_at,
                    c.closed_at,
                    c.chained_score,
                    c.isolated_score,
                )
                .where(c.run_id.in_(batch))
                .order_by(c.run_id, c.stage)
            ):
                states[stage_row.run_id].append(StageRow(*stage_row[1:]))
            c = submission_t.c
            for sub_row in connection.execute(
                select(
                    c.run_id,
                    c.id,
                    c.stage,
                    c.attempt,
                    c.status,
                    c.created_at,
                    c.finished_at,
                    c.chained_score,
                    c.isolated_score,
                    c.passed,
                    c.error,
                )
                .where(c.run_id.in_(batch))
                .order_by(c.run_id, c.created_at, c.id)
            ):
                submissions[sub_row.run_id].append(SubmissionRow(*sub_row[1:]))
            c = resurrection_t.c
            for res_row in connection.execute(
                select(c.run_id, c.stage, c.at, c.reason)
                .where(c.run_id.in_(batch))
                .order_by(c.run_id, c.at, c.id)
            ):
                resurrections[res_row.run_id].append(ResurrectionRow(*res_row[1:]))
            c = usage_t.c
            for use_row in connection.execute(
                select(c.run_id, c.at, c.kind, c.source, c.tool, c.duration_s, c.outcome)
                .where(c.run_id.in_(batch))
                .order_by(c.run_id, c.at, c.id)
            ):
                usage[use_row.run_id].append(UsageRow(*use_row[1:]))
            c = _table(IntegrityFinding).c
            for found in connection.execute(
                select(c.run_id, c.at, c.stage, c.submission_id, c.kind, c.detail)
                .where(c.run_id.in_(batch))
                .order_by(c.run_id, c.at, c.id)
            ):
                findings[found.run_id].append(FindingRow(*found[1:]))
    missing = [run_id for run_id in wanted if run_id not in runs]
    if missing:
        many = len(missing) > 1
        raise RunNotFoundError(
            f"run{'s' if many else ''} {', '.join(repr(m) for m in missing)} "
            f"{'are' if many else 'is'} not in the ledger at {ledger.url}: check the run ids "
            "(`ramp-grade runs` lists them) and that --ledger / $RAMP_LEDGER_URL points at the "
            "ledger that holds them"
        )
    return [
        RunRecord(
            run=runs[run_id],
            states=states[run_id],
            submissions=submissions[run_id],
            resurrections=resurrections[run_id],
            usage=usage[run_id],
            findings=findings[run_id],
        )
        for run_id in wanted
    ]
