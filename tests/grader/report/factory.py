"""Runs written into a real ledger the way the stage machine and the MCP server write them,
with chosen scores and times, so that figures can be checked by hand (and a benchmark can
make a hundred runs in a second).

A stage with a score was submitted once: ``passed`` at >= 60, else ``resurrected`` (with a
resurrection event); the stage after the last scored one is ``open``; the rest are locked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from grader.ledger import STAGES, Ledger, ResurrectionEvent, Submission, UsageEvent

__all__ = ["T0_TIME", "TokenReport", "ToolCall", "make_run"]

T0_TIME = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)


@dataclass(frozen=True)
class ToolCall:
    """A tool call ending ``end_s`` seconds after the run's start."""

    end_s: float
    tool: str = "run_command"
    duration_s: float = 0.5
    outcome: str = "ok"


@dataclass(frozen=True)
class TokenReport:
    """One model response's usage, with a reported cost (or none)."""

    at_s: float
    model: str = "test-model"
    input_tokens: int = 1000
    cache_read: int = 0
    cache_write: int = 0
    output_tokens: int = 100
    reasoning: int = 0
    cost_usd: float | None = None


def make_run(
    ledger: Ledger,
    *,
    agent: str,
    model: str,
    scores: Sequence[float],
    harness: str | None = None,
    label: str | None = None,
    isolated: Sequence[float] | None = None,
    start: datetime = T0_TIME,
    stage_s: float = 60.0,
    tool_calls: Sequence[ToolCall] = (),
    tokens: Sequence[TokenReport] = (),
    epoch: str = "0",
) -> str:
    """A run (graded on ``epoch``) whose first ``len(scores)`` stages were each graded once,
    ``stage_s`` apart, starting at ``start``; returns its id."""
    if len(scores) > len(STAGES):
        raise ValueError("at most six scores")
    run = ledger.create_run(
        agent=agent,
        model=model,
        harness=harness,
        label=label,
        workspace="/nonexistent",
        sandbox="bwrap",
        golden_key="test",
        created_at=start - timedelta(seconds=30),
        epoch=epoch,
    )
    with ledger.locked_run(run.id) as locked:
        states = {state.stage: state for state in locked.stage_states()}
        if scores:  # the machine starts a run at its first submission
            locked.run.started_at = start
            locked.run.status = "running"
        states["T0"].opened_at = start
        for index, score in enumerate(scores):
            stage = STAGES[index]
            submitted = start + timedelta(seconds=stage_s * (index + 1) - 5)
            graded = start + timedelta(seconds=stage_s * (index + 1))
            other = score if isolated is None else isolated[index]
            state = states[stage]
            state.attempts_used = 1
            state.chained_score, state.isolated_score = score, other
            state.state = "passed" if score >= 60 else "resurrected"
            state.closed_at = graded
            locked.session.add(
                Submission(
                    run_id=run.id,
                    stage=stage,
                    attempt=1,
                    status="done",
                    created_at=submitted,
                    finished_at=graded,
                    chained_score=score,
                    isolated_score=other,
                    passed=score >= 60,
                )
            )
            if score < 60:
                locked.session.add(
                    ResurrectionEvent(
                        run_id=run.id,
                        stage=stage,
                        at=graded,
                        reason=f"chained score {score:.2f} below 60 with no attempts left",
                    )
                )
            if index + 1 < len(STAGES):
                states[STAGES[index + 1]].opened_at = graded
                states[STAGES[index + 1]].state = "open"
        if len(scores) == len(STAGES):
            locked.run.status = "finished"
            locked.run.finished_at = start + timedelta(seconds=stage_s * len(STAGES))
    events = [
        UsageEvent(
            run_id=run.id,
            at=start + timedelta(seconds=call.end_s),
            kind="tool_call",
            source="mcp",
            tool=call.tool,
            duration_s=call.duration_s,
            outcome=call.outcome,
            arguments_bytes=10,
            result_bytes=100,
        )
        for call in tool_calls
    ]
    events.extend(
        UsageEvent(
            run_id=run.id,
            at=start + timedelta(seconds=report.at_s),
            kind="tokens",
            source="jsonl",
            dedup_key=f"test-{index}",
            provider="test",
            request_model=report.model,
            input_tokens=report.input_tokens,
            cache_read_input_tokens=report.cache_read,
            cache_creation_input_tokens=report.cache_write,
            output_tokens=report.output_tokens,
            reasoning_output_tokens=report.reasoning,
            cost_usd=report.cost_usd,
            cost_source=None if report.cost_usd is None else "reported",
        )
        for index, report in enumerate(tokens)
    )
    if events:
        ledger.add_usage_events(events)
    return run.id
