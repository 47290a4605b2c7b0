"""The stage machine's transition table: complete, no unused state, enforced on a real ledger
(SQLite and PostgreSQL), and the only way the grader changes a state."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from enum import StrEnum
from itertools import pairwise
from pathlib import Path

import pytest

from golden import Stage
from grader._transitions import (
    TRANSITIONS,
    IllegalTransitionError,
    move_run,
    move_stage,
    move_submission,
)
from grader.ledger import (
    CampaignTrial,
    Ledger,
    LedgerIntegrityError,
    Run,
    RunStatus,
    StageStateName,
    Submission,
    SubmissionStatus,
    TrialState,
)
from grader.ledger._transitions import TRIAL_MOVES, move_trial
from toolchain import RampError

_GRADER = Path(__file__).resolve().parents[2] / "grader"
# The states each kind starts in (written when its row is made, not by a move).
_INITIAL: dict[type[StrEnum], set[StrEnum]] = {
    RunStatus: {RunStatus.CREATED},
    StageStateName: {StageStateName.OPEN, StageStateName.LOCKED},
    SubmissionStatus: {SubmissionStatus.GRADING, SubmissionStatus.ERROR},
}


def _run(ledger: Ledger) -> Run:
    return ledger.create_run(
        agent="a", model="m", workspace="/tmp/ws", sandbox="bwrap", golden_key="g-1"
    )


def _reachable(kind: type[StrEnum]) -> set[StrEnum]:
    seen, todo = set(_INITIAL[kind]), list(_INITIAL[kind])
    while todo:
        for following in TRANSITIONS[kind][todo.pop()]:
            if following not in seen:
                seen.add(following)
                todo.append(following)
    return seen


@pytest.mark.parametrize("kind", [RunStatus, StageStateName, SubmissionStatus])
def test_the_table_lists_every_state_and_each_is_reachable(kind: type[StrEnum]) -> None:
    table = TRANSITIONS[kind]
    assert set(table) == set(kind)
    assert all(isinstance(t, kind) for targets in table.values() for t in targets)
    assert _reachable(kind) == set(kind)  # no state that nothing writes


def test_the_never_written_states_are_gone() -> None:
    assert "aborted" not in set(RunStatus)
    assert "failed" not in set(StageStateName)
    assert "interrupted" not in set(SubmissionStatus)


def test_legal_moves_are_written_with_their_times(ledger: Ledger) -> None:
    run = _run(ledger)
    with ledger.locked_run(run.id) as locked:
        move_run(locked.run, RunStatus.RUNNING)
        t0, t1 = locked.stage("T0"), locked.stage("T1")
        move_stage(t0, StageStateName.GRADING)
        move_stage(t0, StageStateName.PASSED)
        move_stage(t1, StageStateName.OPEN)
        submission = Submission(run_id=run.id, stage="T0", attempt=1)
        locked.session.add(submission)
        locked.session.flush()
        move_submission(submission, SubmissionStatus.DONE)
    stored = ledger.get_run(run.id)
    assert stored.status == "running" and stored.finished_at is None
    states = {s.stage: s for s in ledger.stage_states(run.id)}
    assert states["T0"].state == "passed" and states["T0"].closed_at is not None
    assert states["T1"].state == "open" and states["T1"].opened_at is not None
    assert states["T2"].state == "locked" and states["T2"].opened_at is None
    with ledger.session(write=False) as session:
        row = session.get(Submission, submission.id)
        assert row is not None and row.status == "done" and row.finished_at is not None
    with ledger.locked_run(run.id) as locked:
        move_run(locked.run, RunStatus.FINISHED)
    assert ledger.get_run(run.id).finished_at is not None


def test_an_illegal_move_raises_and_writes_nothing(ledger: Ledger) -> None:
    run = _run(ledger)
    with (
        pytest.raises(IllegalTransitionError, match=r"'locked' to 'passed' \(allowed next: open\)"),
        ledger.locked_run(run.id) as locked,
    ):
        move_run(locked.run, RunStatus.RUNNING)
        move_stage(locked.stage("T1"), StageStateName.PASSED)
    assert ledger.get_run(run.id).status == "created"  # rolled back with the transaction
    assert [s.state for s in ledger.stage_states(run.id)][:2] == ["open", "locked"]
    with ledger.locked_run(run.id) as locked:
        move_stage(locked.stage("T0"), StageStateName.GRADING)
        move_stage(locked.stage("T0"), StageStateName.PASSED)
    with (
        pytest.raises(IllegalTransitionError, match="none: it is final"),
        ledger.locked_run(run.id) as locked,
    ):
        move_stage(locked.stage("T0"), StageStateName.OPEN)
    assert issubclass(IllegalTransitionError, RampError)


def test_a_value_no_state_has_is_refused(ledger: Ledger) -> None:
    run = _run(ledger)
    with ledger.locked_run(run.id) as locked:
        locked.run.status = "aborted"  # as an older or hand-edited ledger might hold
    with (
        pytest.raises(IllegalTransitionError, match="'aborted', which is not a RunStatus"),
        ledger.locked_run(run.id) as locked,
    ):
        move_run(locked.run, RunStatus.FINISHED)


def test_stage_previous_and_next_walk_the_order() -> None:
    assert Stage.T0.previous is None and Stage.T5.next is None
    for before, after in pairwise(Stage):
        assert before.next is after and after.previous is before


def _state_writes(tree: ast.AST) -> Iterable[int]:
    """Lines that assign to a ``.state`` or ``.status`` attribute."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.stmt):
            continue
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            for target in node.targets:
                targets.extend(target.elts if isinstance(target, ast.Tuple) else [target])
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets.append(node.target)
        for target in targets:
            if isinstance(target, ast.Attribute) and target.attr in ("state", "status"):
                yield node.lineno


def test_only_the_transition_module_changes_a_state() -> None:
    """Every state change of the grader goes through the table (the ledger makes rows)."""
    offenders = [
        f"{path.relative_to(_GRADER)}:{line}"
        for path in sorted(_GRADER.rglob("*.py"))
        if path.name != "_transitions.py"
        for line in _state_writes(ast.parse(path.read_text(), str(path)))
    ]
    assert offenders == []


def test_a_campaign_trial_moves_only_by_its_own_table() -> None:
    assert set(TRIAL_MOVES) == set(TrialState)
    reachable = {to for moves in TRIAL_MOVES.values() for to in moves}
    assert reachable == set(TrialState)  # every state can be reached, none is unused
    trial = CampaignTrial(campaign="c", agent="a", model="m", index=0, state="queued")
    move_trial(trial, TrialState.RUNNING)
    move_trial(trial, TrialState.GRADED)
    assert trial.state == "graded"
    for to in TrialState:  # graded is final
        with pytest.raises(LedgerIntegrityError, match="cannot go from graded"):
            move_trial(trial, to)
    queued = CampaignTrial(campaign="c", agent="a", model="m", index=1, state="queued")
    with pytest.raises(LedgerIntegrityError, match="from queued to graded"):
        move_trial(queued, TrialState.GRADED)
