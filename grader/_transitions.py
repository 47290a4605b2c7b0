"""The stage machine's one transition table: which state may follow which.

The ledger stores a run's status, each stage's state and each submission's status as plain
strings (``grader.ledger``'s enums name the values); which may follow which is decided here,
and every change the stage machine makes goes through :func:`move_run`,
:func:`move_stage` or :func:`move_submission`. A change the table does not list is a bug
in the grader, never the agent's doing: it raises :class:`IllegalTransitionError` inside the
ledger's locked transaction, so nothing of it is written.

A move also stamps the times its new state implies (a run's ``finished_at``, a stage's
``opened_at`` and ``closed_at``), so the state and its time cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Final, TypeVar

from grader.ledger import (
    Run,
    RunStatus,
    StageState,
    StageStateName,
    Submission,
    SubmissionStatus,
    utc_now,
)
from toolchain import RampError

__all__ = [
    "TRANSITIONS",
    "IllegalTransitionError",
    "move_run",
    "move_stage",
    "move_submission",
]

_State = TypeVar("_State", bound=StrEnum)

_RUN: Final[Mapping[RunStatus, frozenset[RunStatus]]] = {
    # The agent's first call, or its first submission, starts the run; a launcher may
    # finish a run whose agent never called a tool.
    RunStatus.CREATED: frozenset({RunStatus.RUNNING, RunStatus.FINISHED}),
    RunStatus.RUNNING: frozenset({RunStatus.FINISHED}),
    # A run finished before it ever started (its agent made no call) is started by a
    # submission of its open stage while its budget lasts; a finished run whose last stage
    # is graded after it finished is finished again, at that time.
    RunStatus.FINISHED: frozenset({RunStatus.RUNNING, RunStatus.FINISHED}),
}
_STAGE: Final[Mapping[StageStateName, frozenset[StageStateName]]] = {
    # Opened when the stage before it closes (T0 is created open by the ledger).
    StageStateName.LOCKED: frozenset({StageStateName.OPEN}),
    # Claimed by a submission, or resurrected when the run's budget runs out.
    StageStateName.OPEN: frozenset({StageStateName.GRADING, StageStateName.RESURRECTED}),
    # Graded: passed, out of attempts (resurrected), or open again (attempts left, or
    # the attempt was given back after a refusal or a failure on the grader's side).
    StageStateName.GRADING: frozenset(
        {StageStateName.OPEN, StageStateName.PASSED, StageStateName.RESURRECTED}
    ),
    StageStateName.PASSED: frozenset(),
    StageStateName.RESURRECTED: frozenset(),
}
_SUBMISSION: Final[Mapping[SubmissionStatus, frozenset[SubmissionStatus]]] = {
    # A submission is made "grading" (or "error" at once, when refused before its claim).
    SubmissionStatus.GRADING: frozenset({SubmissionStatus.DONE, SubmissionStatus.ERROR}),
    SubmissionStatus.DONE: frozenset(),
    SubmissionStatus.ERROR: frozenset(),
}

TRANSITIONS: Final[Mapping[type[StrEnum], Mapping[Any, frozenset[StrEnum]]]] = {
    RunStatus: _RUN,
    StageStateName: _STAGE,
    SubmissionStatus: _SUBMISSION,
}
"""The table, per kind of state: each state and the states that may follow it."""


class IllegalTransitionError(RampError):
    """The stage machine tried a change of state its transition table does not allow: a
    bug in the grader (the ledger is left as it was); report it with the message."""


def _checked(what: str, kind: type[_State], current: str, to: _State) -> str:
    """``to``'s stored value if ``current`` may be followed by it; else the error."""
    allowed = TRANSITIONS[kind]
    try:
        now = kind(current)
    except ValueError:
        raise IllegalTransitionError(
            f"{what} is {current!r}, which is not a {kind.__name__} "
            f"({', '.join(s.value for s in kind)}); the ledger holds a value this RAMP never "
            "writes (changed by hand, or by another RAMP?): correct the row or report it"
        ) from None
    if to not in allowed[now]:
        options = ", ".join(sorted(s.value for s in allowed[now])) or "none: it is final"
        raise IllegalTransitionError(
            f"{what} cannot go from {now.value!r} to {to.value!r} (allowed next: {options}); "
            "this is a bug in RAMP's stage machine: report it with this message"
        )
    return to.value


def move_run(run: Run, to: RunStatus) -> None:
    """Change ``run``'s status (a finished run gets its ``finished_at``)."""
    run.status = _checked(f"run {run.id}", RunStatus, run.status, to)
    if to is RunStatus.FINISHED:
        run.finished_at = utc_now()


def move_stage(state: StageState, to: StageStateName) -> None:
    """Change a stage's state (opened from locked: ``opened_at``; closed: ``closed_at``)."""
    was = state.state
    state.state = _checked(f"stage {state.stage} of run {state.run_id}", StageStateName, was, to)
    if was == StageStateName.LOCKED and to is StageStateName.OPEN:
        state.opened_at = utc_now()
    if to in (StageStateName.PASSED, StageStateName.RESURRECTED):
        state.closed_at = utc_now()


def move_submission(submission: Submission, to: SubmissionStatus) -> None:
    """Change a submission's status (ended: ``finished_at``)."""
    what = f"submission {submission.id} of run {submission.run_id}"
    submission.status = _checked(what, SubmissionStatus, submission.status, to)
    submission.finished_at = utc_now()
