"""The taxonomy's rules: one run's hard stop (H0..H10) and each unpassed stage (S1..S8), in a
fixed order where the first rule that holds decides. docs/failure-taxonomy.md is the table
of these rules; keep the two in step.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from typing import Final

from grader.ledger import REFUSED, STAGES, CaseResult, Submission, UsageEvent
from grader.taxonomy._cases import CASE_PRIORITY, CaseClass, case_class, count_classes
from grader.taxonomy._evidence import RunEvidence
from grader.taxonomy._models import Category, Failure, Precise
from grader.usage import INFRASTRUCTURE_ERRORS

__all__ = ["hard_stop", "stage_failure", "stop_stage"]

_BUILD_FAILED: Final = "build-failed"
_TOOL_ERROR_SHARE: Final = 0.5
_TOOL_ERROR_MIN_CALLS: Final = 4
_EXAMPLES: Final = 3
_DEFAULT_PASS: Final = 60.0
_CASE_OUTCOME: Final[dict[CaseClass, tuple[Category, Precise | None]]] = {
    "build_failure": ("tooling_integration", "build_failure"),
    "crash": ("reasoning", "crash"),
    "timeout": ("reasoning", "timeout"),
    "wrong_output": ("reasoning", "wrong_output"),
    "slow": ("reasoning", None),
    "infrastructure_error": ("infrastructure", "infrastructure_error"),
    "no_input": ("reasoning", "wrong_output"),
}
_CASE_WORDS: Final[dict[CaseClass, str]] = {
    "build_failure": "output did not build",
    "crash": "crashed or wrote no output",
    "timeout": "timed out",
    "wrong_output": "wrong output",
    "slow": "correct but slower than allowed",
    "infrastructure_error": "could not be measured",
    "no_input": "no input (the upstream stage lost them)",
    "not_graded": "not graded",
}


def _failure(
    stage: str | None,
    category: Category,
    precise: Precise | None,
    rule: str,
    evidence: list[str],
) -> Failure:
    return Failure(
        stage=stage,
        category=category,
        precise=precise,
        rule=rule,
        evidence=evidence,
        charged_to_model=category != "infrastructure",
    )


# -- where the run stopped ----------------------------------------------------------------


def _budget_event(ev: RunEvidence) -> tuple[str, str] | None:
    """(stage, reason) of the resurrection the wall-clock budget caused, if any."""
    for stage in STAGES:
        for event in ev.resurrections.get(stage, []):
            if "budget" in event.reason:
                return stage, event.reason
    return None


def stop_stage(ev: RunEvidence) -> str | None:
    """The stage the run stopped at; None when every stage was graded or closed."""
    spent = _budget_event(ev)
    if spent is not None:
        return spent[0]
    for stage in STAGES:
        if ev.states.get(stage) is not None and ev.states[stage].state in ("open", "grading"):
            return stage
    return None


def _budget_spent(ev: RunEvidence) -> str | None:
    """Why the wall-clock budget counts as spent, or None."""
    spent = _budget_event(ev)
    if spent is not None:
        return f"{spent[0]} resurrected: {spent[1]}"
    if ev.run.budget_s is None or ev.run.status == "finished":
        return None
    started = ev.run.started_at or ev.run.created_at
    elapsed = (ev.now - started).total_seconds()
    if elapsed >= ev.run.budget_s:
        return f"the run's wall-clock budget of {ev.run.budget_s:g} s ran out ({elapsed:.0f} s since it started)"
    return None


def _terminal_error(ev: RunEvidence) -> UsageEvent | None:
    """The last error a transcript recorded, if no model response came after it."""
    if not ev.errors:
        return None
    last = max(ev.errors, key=lambda e: (e.at, e.id or 0))
    return None if ev.tokens_after(last.at) else last


def _describe_error(event: UsageEvent, terminal: bool) -> str:
    after = "; no model response after it" if terminal else ""
    return (
        f"transcript error {event.outcome} at {_when(event.at)} ({event.source}): "
        f"{event.detail or '-'}{after}"
    )


def _activity(ev: RunEvidence, stage: str) -> tuple[int, int]:
    """(tool calls, submissions) while ``stage`` was open."""
    return len(ev.tool_calls_in(stage)), len(ev.submissions.get(stage, []))


def hard_stop(ev: RunEvidence) -> Failure | None:
    """Why the run stopped where it did; None when it went through every stage."""
    stage = stop_stage(ev)
    if stage is None:
        return None
    evidence = _context(ev, stage)
    if not ev.tool_calls and not ev.submissions and ev.last_token_at is None and not ev.errors:
        return _failure(
            stage,
            "infrastructure",
            "infrastructure_error",
            "H0",
            [
                *evidence,
                "nothing from the agent reached the ledger: no tool call, no submission, no "
                "token usage, no transcript; the harness may not have started the agent or "
                "connected it to the MCP server",
            ],
        )
    submissions = ev.submissions.get(stage, [])
    if submissions and submissions[-1].status == "error":
        reasons = _grading_errors(submissions)
        if _workspace_caused(submissions[-1]):
            return _failure(
                stage, "tooling_integration", "build_failure", "H1", [*evidence, *reasons]
            )
        return _failure(
            stage, "infrastructure", "infrastructure_error", "H2", [*evidence, *reasons]
        )
    terminal = _terminal_error(ev)
    if terminal is not None and terminal.outcome in INFRASTRUCTURE_ERRORS - {"aborted"}:
        return _failure(
            stage,
            "infrastructure",
            "infrastructure_error",
            "H3",
            [*evidence, _describe_error(terminal, True)],
        )
    if terminal is not None and terminal.outcome == "context_length":
        return _failure(
            stage, "context", "context_length", "H4", [*evidence, _describe_error(terminal, True)]
        )
    active = any(_activity(ev, stage))
    spent = _budget_spent(ev)
    if spent is not None:
        category: Category = "reasoning" if active else "planning"
        return _failure(stage, category, "timeout", "H5", [*evidence, spent])
    if terminal is not None and terminal.outcome in ("max_turns", "budget"):
        category = "reasoning" if active else "planning"
        return _failure(
            stage,
            category,
            "budget_exhausted",
            "H6",
            [*evidence, _describe_error(terminal, True)],
        )
    if terminal is not None and terminal.outcome == "aborted":
        return _failure(
            stage,
            "infrastructure",
            "infrastructure_error",
            "H7",
            [*evidence, "the agent's session was aborted", _describe_error(terminal, True)],
        )
    graded = ev.done(stage)
    if graded:
        failed = stage_failure(ev, stage, None)
        left = ev.run.attempts_per_stage - ev.states[stage].attempts_used
        return _failure(
            stage,
            "planning",
            failed.precise if failed is not None else None,
            "H8",
            [
                f"the agent stopped after {len(graded)} failed attempt(s) at {stage} with "
                f"{left} left",
                *(failed.evidence if failed is not None else evidence),
            ],
        )
    calls = ev.tool_calls_in(stage)
    errors = [c for c in calls if c.outcome != "ok"]
    if len(calls) >= _TOOL_ERROR_MIN_CALLS and len(errors) >= _TOOL_ERROR_SHARE * len(calls):
        return _failure(
            stage,
            "tooling_integration",
            None,
            "H9",
            [*evidence, f"{len(errors)} of {len(calls)} tool calls failed while {stage} was open"],
        )
    return _failure(
        stage,
        "planning",
        "not_attempted",
        "H10",
        [*evidence, f"the agent stopped without submitting {stage}"],
    )


def _workspace_caused(submission: Submission) -> bool:
    """A submission error the submitted workspace caused (no build.sh, an unreadable entry,
    over its caps: the stage machine records it as ``REFUSED``), not the grader. Only the
    stage machine writes that prefix, at the start of the error, before any text the
    workspace supplied."""
    error = submission.error or ""
    return error.startswith(REFUSED) or "no build.sh" in error


def _context(ev: RunEvidence, stage: str) -> list[str]:
    """Facts every diagnosis of ``stage`` shows: the run's state, activity, errors."""
    lines: list[str] = []
    if ev.run.status in ("created", "running"):
        lines.append(f"run status {ev.run.status}: the run is not finished, so this is provisional")
    calls = ev.tool_calls_in(stage)
    if calls:
        failed = Counter(c.tool or "unknown" for c in calls if c.outcome != "ok")
        listed = ", ".join(f"{tool} x{n}" for tool, n in sorted(failed.items()))
        lines.append(
            f"tool calls while {stage} was open: {len(calls)}, errors {sum(failed.values())}"
            + (f" ({listed})" if listed else "")
        )
    elif ev.window(stage) is not None:
        lines.append(f"no tool call while {stage} was open")
    if ev.errors:
        counts = Counter(e.outcome or "api_error" for e in ev.errors)
        listed = ", ".join(f"{name} x{n}" for name, n in sorted(counts.items()))
        lines.append(f"transcript errors in the run: {listed}")
    return lines


# -- each stage ---------------------------------------------------------------------------


def _pass_mark(ev: RunEvidence) -> float:
    try:
        value = json.loads(ev.run.config).get("pass_threshold", _DEFAULT_PASS)
    except (ValueError, AttributeError):
        return _DEFAULT_PASS
    return float(value) if isinstance(value, int | float) else _DEFAULT_PASS


def _grading_errors(submissions: list[Submission]) -> list[str]:
    return [
        f"grading of submission {s.id} (attempt {s.attempt}) ended {s.status}: {s.error or '-'}"
        for s in submissions
        if s.status == "error"
    ]


def stage_failure(ev: RunEvidence, stage: str, stop: Failure | None) -> Failure | None:
    """Why ``stage`` was not passed; None if it passed, is being graded, or is untouched in a
    run that has not stopped."""
    state = ev.states.get(stage)
    if state is None or state.state in ("passed", "grading"):
        return None
    graded = ev.done(stage)
    evidence = [f"resurrected: {e.reason}" for e in ev.resurrections.get(stage, [])]
    evidence += _grading_errors(ev.submissions.get(stage, []))
    if graded:
        return _graded_failure(ev, stage, graded[-1], evidence)
    submitted = ev.submissions.get(stage, [])
    if submitted:
        if _workspace_caused(submitted[-1]):
            return _failure(stage, "tooling_integration", "build_failure", "S4", evidence)
        return _failure(stage, "infrastructure", "infrastructure_error", "S5", evidence)
    if stop is not None and stop.stage == stage:
        return stop
    budget = _budget_event(ev)
    if budget is not None and budget[0] == stage:
        category: Category = "reasoning" if any(_activity(ev, stage)) else "planning"
        return _failure(stage, category, "timeout", "S6", evidence)
    if state.state == "locked" and stop is not None:
        return Failure(
            stage=stage,
            category=stop.category,
            precise="not_attempted",
            rule="S7",
            evidence=[f"never opened: the run stopped at {stop.stage} ({stop.rule})"],
            charged_to_model=stop.charged_to_model,
        )
    if state.state == "open" and stop is None:
        return None
    return _failure(
        stage,
        "planning",
        "not_attempted",
        "S8",
        [*evidence, f"{stage} was {state.state}, never submitted"],
    )


def _graded_failure(
    ev: RunEvidence, stage: str, latest: Submission, evidence: list[str]
) -> Failure | None:
    if latest.passed:
        return None
    assert latest.id is not None
    score = latest.chained_score if latest.chained_score is not None else 0.0
    evidence = [
        f"{stage} submission {latest.id} (attempt {latest.attempt}): chained score "
        f"{score:.2f}, below the pass mark {_pass_mark(ev):g}",
        *evidence,
        *_context(ev, stage),
    ]
    findings = [
        f
        for f in ev.findings
        if f.submission_id == latest.id or (f.submission_id is None and f.stage == stage)
    ]
    blocking = [f for f in findings if f.kind != _BUILD_FAILED]
    if blocking:
        evidence += [f"integrity finding {f.kind}: {f.detail}" for f in blocking]
        return _failure(stage, "tooling_integration", "integrity_violation", "S1", evidence)
    broken = [f for f in findings if f.kind == _BUILD_FAILED]
    if broken:
        evidence += [f"build.sh failed on the submitted workspace: {f.detail}" for f in broken]
        return _failure(stage, "tooling_integration", "build_failure", "S2", evidence)
    results = ev.cases.get(latest.id, [])
    counts = count_classes(results)
    if not counts:
        return _failure(stage, "reasoning", None, "S3", evidence)
    dominant = max(counts, key=lambda c: (counts[c], -CASE_PRIORITY.index(c)))
    listed = ", ".join(f"{counts[c]} {_CASE_WORDS[c]}" for c in CASE_PRIORITY if counts[c])
    evidence.append(f"hidden cases of submission {latest.id}: {listed} (of {len(results)})")
    examples = list(
        dict.fromkeys(
            r.diagnosis
            for r in results
            if r.diagnosis and r.score < 100.0 and _class_is(r, dominant)
        )
    )[:_EXAMPLES]
    evidence += [f"e.g. {text!r}" for text in examples]
    if dominant == "not_graded":
        return _failure(stage, "tooling_integration", "build_failure", "S3", evidence)
    category, precise = _CASE_OUTCOME[dominant]
    return _failure(stage, category, precise, "S3", evidence)


def _class_is(result: CaseResult, wanted: CaseClass) -> bool:
    return case_class(result.score, result.diagnosis) == wanted


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")
