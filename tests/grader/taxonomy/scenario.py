"""Runs written into the real ledger row by row, as the stage machine and the MCP server
write them, at chosen times: the taxonomy's fixtures."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from grader.ledger import (
    CaseResult,
    IntegrityFinding,
    Ledger,
    ResurrectionEvent,
    Submission,
    UsageEvent,
)

START = datetime(2026, 11, 25, 10, tzinfo=UTC)


def minute(n: float) -> datetime:
    return START + timedelta(minutes=n)


class Scenario:
    def __init__(self, ledger: Ledger, *, budget_s: float | None = None, attempts: int = 1) -> None:
        self.ledger = ledger
        self.run = ledger.create_run(
            agent="claude-code",
            model="claude-opus-4-7",
            workspace="/tmp/ws",
            sandbox="bwrap",
            golden_key="g",
            budget_s=budget_s,
            attempts_per_stage=attempts,
            config={"pass_threshold": 60},
            created_at=START,
        )
        self.id = self.run.id
        with ledger.locked_run(self.id) as locked:
            locked.run.status, locked.run.started_at = "running", START

    def stage(
        self,
        name: str,
        state: str,
        *,
        opened: float | None = None,
        closed: float | None = None,
        score: float | None = None,
        attempts: int = 0,
    ) -> None:
        with self.ledger.locked_run(self.id) as locked:
            row = locked.stage(name)
            row.state, row.attempts_used = state, attempts
            row.opened_at = minute(opened) if opened is not None else None
            row.closed_at = minute(closed) if closed is not None else None
            row.chained_score = row.isolated_score = score

    def passed(self, name: str, opened: float, closed: float) -> None:
        self.submit(name, at=closed, score=100.0, cases=[("c1", 100.0, "identical")])
        self.stage(name, "passed", opened=opened, closed=closed, score=100.0, attempts=1)

    def submit(
        self,
        name: str,
        *,
        at: float,
        score: float | None = None,
        cases: list[tuple[str, float, str]] | None = None,
        status: str = "done",
        error: str | None = None,
        attempt: int = 1,
    ) -> int:
        with self.ledger.session() as session:
            submission = Submission(
                run_id=self.id,
                stage=name,
                attempt=attempt,
                status=status,
                created_at=minute(at),
                finished_at=minute(at),
                chained_score=score,
                isolated_score=score,
                passed=None if score is None else score >= 60,
                error=error,
            )
            session.add(submission)
            session.flush()
            assert submission.id is not None
            session.add_all(
                CaseResult(
                    submission_id=submission.id,
                    case=case,
                    mode="chained",
                    score=value,
                    diagnosis=diagnosis,
                    details=json.dumps({}),
                )
                for case, value, diagnosis in cases or []
            )
            return submission.id

    def resurrect(self, name: str, reason: str, at: float) -> None:
        with self.ledger.session() as session:
            session.add(ResurrectionEvent(run_id=self.id, stage=name, reason=reason, at=minute(at)))

    def finding(self, name: str, kind: str, detail: str, submission_id: int) -> None:
        with self.ledger.session() as session:
            session.add(
                IntegrityFinding(
                    run_id=self.id,
                    submission_id=submission_id,
                    stage=name,
                    kind=kind,
                    detail=detail,
                    at=START,
                )
            )

    def tool_calls(self, calls: list[tuple[float, str, str]]) -> None:
        """(minute, tool, outcome) rows as the MCP server's usage middleware writes them."""
        self.ledger.add_usage_events(
            UsageEvent(
                run_id=self.id,
                at=minute(at),
                kind="tool_call",
                source="mcp",
                tool=tool,
                duration_s=1.5,
                outcome=outcome,
            )
            for at, tool, outcome in calls
        )

    def finish(self, at: float, status: str = "finished") -> None:
        with self.ledger.locked_run(self.id) as locked:
            locked.run.status, locked.run.finished_at = status, minute(at)
