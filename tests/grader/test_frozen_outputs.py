"""Outputs frozen at grading: later submissions are fed what earlier ones froze, never re-run
earlier stage programs, and findings show the agent their category only (real ledger,
real bwrap sandboxes, real store)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from golden import CaseKind, Split, Stage, build_golden, builtin_corpus
from grader import _grading
from grader._machine import StageMachine
from grader._store import OutputStore
from grader.ledger import CaseResult, IntegrityFinding, Ledger, StageOutput, Submission
from grader.report import render_report
from tests.grader.oracle import write_oracle
from tests.support import backend_missing
from toolchain._errors import RampError
from toolchain._manifest import Profile
from toolchain.workspace import Workspace

BACKEND = "bwrap"
PAYLOAD = "SMUGGLED-4f1c2e"


def _cases() -> list[Any]:
    return [
        c for c in builtin_corpus() if c.split is Split.HIDDEN and c.kind is CaseKind.FUNCTIONAL
    ][:2]


@pytest.fixture
def runs_root() -> Iterator[Path]:
    if backend_missing(BACKEND) or backend_missing(BACKEND, Profile.MINIMAL):
        pytest.skip("bwrap not ready")
    root = Path(tempfile.mkdtemp(prefix="ramp-test-frozen-", dir="/tmp"))
    root.chmod(0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def machine(ledger: Ledger, runs_root: Path) -> StageMachine:
    return StageMachine(
        ledger, cases=_cases(), runs_root=runs_root, store=OutputStore(runs_root / "store")
    )


@pytest.fixture
def programs_run(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Stage, str, int]]:
    """Every stage program run grading starts: (stage, chained/isolated, inputs), counted on
    the real chain runner as it runs."""
    seen: list[tuple[Stage, str, int]] = []
    real = _grading._Chain.run

    def counted(self: Any, stage: Stage, inputs: dict[str, Path], label: str) -> Any:
        seen.append((stage, label, len(inputs)))
        return real(self, stage, inputs, label)

    monkeypatch.setattr(_grading._Chain, "run", counted)
    return seen


def _oracle(workspace: Path) -> None:
    golden = build_golden(_cases(), backend=BACKEND)
    write_oracle(workspace, golden.cases, {c.name: c.source for c in _cases()})


def _frozen(ledger: Ledger, run_id: str, stage: Stage) -> dict[str, str | None]:
    with ledger.session(write=False) as session:
        done = session.exec(
            select(Submission).where(Submission.run_id == run_id, Submission.stage == stage.value)
        ).all()
        ids = [s.id for s in done if s.passed]
        rows = session.exec(select(StageOutput).where(StageOutput.submission_id.in_(ids))).all()  # type: ignore[attr-defined]
        return {r.case: r.sha256 for r in rows}


def test_each_submission_runs_only_its_own_stage(
    ledger: Ledger, machine: StageMachine, programs_run: list[tuple[Stage, str, int]]
) -> None:
    run = machine.create_run(sandbox=BACKEND)
    _oracle(Path(run.workspace))
    for stage in (Stage.T0, Stage.T1, Stage.T2, Stage.T3):
        before = len(programs_run)
        outcome = machine.submit(run.id, stage)
        assert outcome.passed and outcome.chained_score == 100.0, outcome
        ran = {(s, label) for s, label, _ in programs_run[before:]}
        expected = {(stage, "chained")} | (
            {(stage, "isolated")} if stage is not Stage.T0 else set()
        )
        assert ran == expected, (stage, ran)
    golden = {c.name: c for c in build_golden(_cases(), backend=BACKEND).cases}
    for stage in (Stage.T0, Stage.T1, Stage.T2):
        # The oracle writes the golden artifacts: frozen, they are the golden bytes.
        assert _frozen(ledger, run.id, stage) == {n: g.hashes[stage] for n, g in golden.items()}
        for sha in _frozen(ledger, run.id, stage).values():
            assert sha is not None
            kept = machine.store.root / sha[:2] / sha
            assert (
                kept.stat().st_mode & 0o077 == 0 and machine.store.root.stat().st_mode & 0o077 == 0
            )


def test_changing_bin_t0_after_it_passed_changes_nothing(
    machine: StageMachine, programs_run: list[tuple[Stage, str, int]]
) -> None:
    run = machine.create_run(sandbox=BACKEND)
    workspace = Path(run.workspace)
    _oracle(workspace)
    assert machine.submit(run.id, Stage.T0).passed
    # bin/t0 now appends a payload to the preprocessed text; bin/t1 would pass it on.
    (workspace / "src" / "t0").write_text(
        f'#!/bin/sh\ncat "$1" > "$2"\necho "// {PAYLOAD}" >> "$2"\n'
    )
    before = len(programs_run)
    t1 = machine.submit(run.id, Stage.T1)
    assert (t1.chained_score, t1.isolated_score) == (100.0, 100.0)
    assert all(stage is Stage.T1 for stage, _, _ in programs_run[before:])


def test_an_inexact_t0_output_hands_no_input_downstream(
    ledger: Ledger, machine: StageMachine
) -> None:
    run = machine.create_run(sandbox=BACKEND)
    workspace = Path(run.workspace)
    _oracle(workspace)
    first, second = sorted(c.name for c in _cases())
    # T0 exact on one case, a payload comment appended on the other: 100 and 59, passed.
    (workspace / "src" / "t0").write_text(
        (workspace / "src" / "t0").read_text() + f"if sys.argv[1].endswith('/{second}.sy'):\n"
        f"    open(sys.argv[2], 'a').write('// {PAYLOAD}\\n')\n"
    )
    t0 = machine.submit(run.id, Stage.T0)
    assert t0.passed and t0.chained_score == round((100.0 + 59.0) / 2, 4), t0
    frozen = _frozen(ledger, run.id, Stage.T0)
    assert frozen[first] is not None and frozen[second] is None
    t1 = machine.submit(run.id, Stage.T1)
    assert (t1.chained_score, t1.isolated_score) == (50.0, 100.0)
    assert any("1 no input (the upstream output was not accepted)" in f for f in t1.feedback)
    with ledger.session(write=False) as session:
        (t1_row,) = session.exec(
            select(Submission).where(Submission.run_id == run.id, Submission.stage == "T1")
        ).all()
        results = session.exec(
            select(CaseResult).where(
                CaseResult.submission_id == t1_row.id, CaseResult.mode == "chained"
            )
        ).all()
        diagnoses = {r.case: r.diagnosis or "" for r in results}
    assert diagnoses[second] == "no input: the upstream output for this case was not accepted"


def test_a_finding_zeroes_the_stage_and_the_agent_sees_its_category_only(
    ledger: Ledger, machine: StageMachine
) -> None:
    run = machine.create_run(sandbox=BACKEND)
    workspace = Path(run.workspace)
    _oracle(workspace)
    assert machine.submit(run.id, Stage.T0).passed
    # bin/t1 works, and also writes hidden text where the toolchain stubs record calls.
    t1 = workspace / "src" / "t1"
    t1.write_text(
        t1.read_text()
        + "import base64\n"
        + f"open('/ramp/findings/toolchain-calls', 'a').write('{PAYLOAD} <script>x</script> ' + "
        + "base64.b32encode(open(sys.argv[1], 'rb').read()[-64:]).decode() + chr(10))\n"
    )
    outcome = machine.submit(run.id, Stage.T1)
    assert (outcome.chained_score, outcome.isolated_score, outcome.passed) == (0.0, 0.0, False)
    assert outcome.integrity_findings == [
        "toolchain-call (T1): a stage program tried to run the reference toolchain"
    ]
    assert PAYLOAD not in repr(outcome)
    with ledger.session(write=False) as session:
        found = session.exec(
            select(IntegrityFinding).where(IntegrityFinding.run_id == run.id)
        ).all()
    # One record per run of bin/t1 (chained, isolated), each with its own evidence.
    assert {(f.stage, f.kind) for f in found} == {("T1", "toolchain-call")}
    assert all(PAYLOAD in f.detail for f in found)
    for output_format in ("term", "md", "json", "html"):
        text = render_report(ledger, [run.id], output_format=output_format)
        assert isinstance(text, str) and PAYLOAD in text and "toolchain-call" in text, output_format
        assert output_format not in ("md", "html") or "<script>x" not in text, output_format
        assert "Integrity findings" in text or '"findings"' in text


def test_recovery_grades_a_killed_submission_with_the_frozen_inputs(
    ledger: Ledger, machine: StageMachine
) -> None:
    run = machine.create_run(sandbox=BACKEND)
    _oracle(Path(run.workspace))
    assert machine.submit(run.id, Stage.T0).passed
    uid = run.sandbox_uid
    assert uid is not None
    with Workspace(Path(run.workspace), uid=uid, gid=uid, read_only=True, workers=1) as files:
        submission_id, snapshot = machine._claim(run.id, Stage.T1, files)
    # The grader dies here (no grade recorded); its pid is one no process has.
    with ledger.session() as session:
        row = session.get(Submission, submission_id)
        assert row is not None
        row.grader_pid = 2**22 + 1
    recovered = machine.recover(run_id=run.id)
    assert [(o.stage, o.chained_score) for o in recovered] == [(Stage.T1, 100.0)]
    assert snapshot.is_dir() and len(_frozen(ledger, run.id, Stage.T1)) == 2


def test_grading_the_same_workspace_twice_scores_the_same(ledger: Ledger, runs_root: Path) -> None:
    scores = []
    for attempt in range(2):
        machine = StageMachine(
            ledger,
            cases=_cases(),
            runs_root=runs_root / str(attempt),
            store=OutputStore(runs_root / "store"),
        )
        run = machine.create_run(sandbox=BACKEND)
        _oracle(Path(run.workspace))
        (Path(run.workspace) / "src" / "t1").write_text('#!/bin/sh\nhead -c 300 "$1" > "$2"\n')
        scores.append(
            [
                (o.chained_score, o.isolated_score, o.feedback)
                for o in (machine.submit(run.id, s) for s in (Stage.T0, Stage.T1, Stage.T2))
            ]
        )
    assert scores[0] == scores[1]


def test_a_failure_after_the_claim_gives_the_attempt_back(ledger: Ledger, runs_root: Path) -> None:
    # The store's root is a file: freezing T0's outputs fails with an OSError (not a RampError).
    blocker = runs_root / "not-a-directory"
    blocker.write_text("")
    machine = StageMachine(ledger, cases=_cases(), runs_root=runs_root, store=OutputStore(blocker))
    run = machine.create_run(sandbox=BACKEND)
    _oracle(Path(run.workspace))
    with pytest.raises(RampError, match="failed on the grader's side"):
        machine.submit(run.id, Stage.T0)
    t0 = machine.status(run.id).stages[0]
    assert (t0.state, t0.attempts_used) == ("open", 0)
    with ledger.session(write=False) as session:
        (row,) = session.exec(select(Submission).where(Submission.run_id == run.id)).all()
    assert row.status == "error" and row.error is not None and "Error" in row.error


def test_a_workspace_name_that_is_not_utf8_is_snapshotted(machine: StageMachine) -> None:
    run = machine.create_run(sandbox=BACKEND)
    workspace = Path(run.workspace)
    _oracle(workspace)
    os.close(os.open(os.fsencode(workspace) + b"/odd-\xff-name", os.O_CREAT | os.O_WRONLY, 0o644))
    assert machine.submit(run.id, Stage.T0).passed


def test_a_run_frozen_before_revision_0006_still_grades(
    ledger: Ledger, machine: StageMachine, programs_run: list[tuple[Stage, str, int]]
) -> None:
    run = machine.create_run(sandbox=BACKEND)
    _oracle(Path(run.workspace))
    assert machine.submit(run.id, Stage.T0).passed
    with ledger.session() as session:
        for row in session.exec(select(StageOutput)).all():
            session.delete(row)
    before = len(programs_run)
    assert machine.submit(run.id, Stage.T1).chained_score == 100.0
    # No frozen outputs: that one grading re-runs bin/t0, as RAMP did before.
    assert (Stage.T0, "chained") in {(s, label) for s, label, _ in programs_run[before:]}
