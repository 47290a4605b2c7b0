"""The stage machine on a real ledger (SQLite and PostgreSQL) and real sandboxes."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from golden import CaseKind, Split, Stage, build_golden, builtin_corpus
from grader._grading import GradingError
from grader._machine import StageMachine, StageRefusedError, grader_failure
from grader._run_home import grading_uid
from grader.ledger import Ledger, ResurrectionEvent, Submission
from tests.grader.oracle import write_oracle
from tests.support import backend_missing
from toolchain._manifest import Profile

BACKEND = "bwrap"


def _graded_cases() -> list:  # type: ignore[type-arg]
    # Stand-ins for the hidden set: grading every hidden case takes minutes.
    return [
        c for c in builtin_corpus() if c.split is Split.HIDDEN and c.kind is CaseKind.FUNCTIONAL
    ][:2]


@pytest.fixture
def machine(ledger: Ledger) -> Iterator[StageMachine]:
    if backend_missing(BACKEND) or backend_missing(BACKEND, Profile.MINIMAL):
        pytest.skip("bwrap not ready")
    root = Path(tempfile.mkdtemp(prefix="ramp-test-runs-", dir="/tmp"))
    root.chmod(0o755)
    yield StageMachine(ledger, cases=_graded_cases(), runs_root=root)
    shutil.rmtree(root, ignore_errors=True)


def _oracle(workspace: Path, stages: tuple[Stage, ...]) -> None:
    cases = _graded_cases()
    golden = build_golden(cases, backend=BACKEND)
    write_oracle(workspace, golden.cases, {c.name: c.source for c in cases}, stages=stages)


def test_new_run_workspace_has_public_material_only(machine: StageMachine) -> None:
    run = machine.create_run(agent="test", model="none", sandbox=BACKEND)
    workspace = Path(run.workspace)
    names = {p.name for p in (workspace / "cases").iterdir()}
    hidden = {c.name for c in builtin_corpus() if c.split is Split.HIDDEN}
    assert not any(n.split(".")[0] in hidden for n in names)
    assert (workspace / "contracts" / "T0.md").is_file() and (workspace / "README.md").is_file()
    assert not (workspace / "reference").exists()
    status = machine.status(run.id)
    assert status.open_stage is Stage.T0
    assert [s.state for s in status.stages] == ["open"] + ["locked"] * 5


def test_out_of_order_submission_is_refused(machine: StageMachine) -> None:
    run = machine.create_run(sandbox=BACKEND)
    with pytest.raises(StageRefusedError, match=r"T2 is locked, not open.*the open stage is T0"):
        machine.submit(run.id, Stage.T2)


def test_pass_then_resurrection_then_golden_input(machine: StageMachine) -> None:
    run = machine.create_run(sandbox=BACKEND)
    workspace = Path(run.workspace)
    _oracle(workspace, (Stage.T0, Stage.T1, Stage.T3))
    first = machine.submit(run.id, Stage.T0)
    assert first.passed and first.next_open is Stage.T1
    # T1's inputs, public cases only: beside the workspace, never in it.
    assert (workspace.parent / "reference" / "T0").is_dir()
    assert not (workspace / "reference").exists()
    with pytest.raises(StageRefusedError, match="T0 is passed"):
        machine.submit(run.id, Stage.T0)
    assert machine.submit(run.id, Stage.T1).passed
    t2 = machine.submit(run.id, Stage.T2)
    assert (t2.passed, t2.resurrected, t2.next_open) == (False, True, Stage.T3)
    assert t2.reference_dir == "/ramp/reference/T2"
    assert (workspace.parent / "reference" / "T2-RESURRECTED.md").is_file()
    t3 = machine.submit(run.id, Stage.T3)
    assert t3.chained_score == t3.isolated_score == 100.0
    status = machine.status(run.id)
    assert [s.state for s in status.stages] == [
        "passed",
        "passed",
        "resurrected",
        "passed",
        "open",
        "locked",
    ]
    assert status.rewards.tier == 1  # T2 scored 0
    assert status.stages[0].seconds_open is not None and status.elapsed_s is not None
    hidden = {c.name for c in builtin_corpus() if c.split is Split.HIDDEN}
    for text in [*t2.feedback, *t3.feedback, *(p.name for p in workspace.rglob("*"))]:
        assert not any(name in text for name in hidden), text


def test_attempts_and_budget(ledger: Ledger, machine: StageMachine) -> None:
    run = machine.create_run(sandbox=BACKEND, attempts_per_stage=2)
    _oracle(Path(run.workspace), ())
    failed = machine.submit(run.id, Stage.T0)
    assert (failed.passed, failed.resurrected, failed.attempts_left) == (False, False, 1)
    assert machine.status(run.id).open_stage is Stage.T0
    final = machine.submit(run.id, Stage.T0)
    assert final.resurrected and final.attempts_left == 0
    late = machine.create_run(sandbox=BACKEND, budget_s=0.001)
    time.sleep(0.01)
    with pytest.raises(StageRefusedError, match="budget"):
        machine.submit(late.id, Stage.T0)
    expired = machine.status(late.id)
    assert expired.status == "finished"
    assert expired.stages[0].state == "resurrected"  # its time ran out


def test_concurrent_submissions_one_wins(machine: StageMachine) -> None:
    run = machine.create_run(sandbox=BACKEND)
    _oracle(Path(run.workspace), (Stage.T0,))
    results: list[object] = []

    def submit() -> None:
        try:
            results.append(machine.submit(run.id, Stage.T0))
        except StageRefusedError as exc:
            results.append(exc)

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    refused = [r for r in results if isinstance(r, StageRefusedError)]
    assert len(refused) == 1 and len(results) == 2
    assert "being graded" in str(refused[0]) or "passed" in str(refused[0])


def _submit_in_child(url: str, runs_root: str, run_id: str) -> None:
    with Ledger.open(url) as ledger:
        StageMachine(ledger, cases=_graded_cases(), runs_root=Path(runs_root)).submit(
            run_id, Stage.T0
        )


def _kill_mid_grade(ledger: Ledger, machine: StageMachine, run_id: str) -> None:
    child = multiprocessing.get_context("spawn").Process(
        target=_submit_in_child, args=(ledger.url, str(machine.runs_root), run_id)
    )
    child.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with ledger.session(write=False) as session:
            rows = list(session.exec(select(Submission).where(Submission.run_id == run_id)).all())
        if rows and rows[0].snapshot_hash:
            break
        time.sleep(0.05)
    assert child.pid is not None
    os.kill(child.pid, signal.SIGKILL)
    child.join()
    assert machine.status(run_id).stages[0].state == "grading"


def _one_done_submission(ledger: Ledger, run_id: str) -> None:
    with ledger.session(write=False) as session:
        rows = list(session.exec(select(Submission).where(Submission.run_id == run_id)).all())
    assert [(r.status, r.attempt) for r in rows] == [("done", 1)]


def test_a_grader_killed_mid_grade_is_regraded(ledger: Ledger, machine: StageMachine) -> None:
    run = machine.create_run(sandbox=BACKEND)
    _oracle(Path(run.workspace), (Stage.T0,))
    _kill_mid_grade(ledger, machine, run.id)
    recovered = machine.recover()
    assert [(o.stage, o.passed) for o in recovered] == [(Stage.T0, True)]
    assert machine.status(run.id).stages[0].state == "passed"
    _one_done_submission(ledger, run.id)


def test_submitting_again_after_a_dead_grader_returns_its_grade(
    ledger: Ledger, machine: StageMachine
) -> None:
    run = machine.create_run(sandbox=BACKEND)
    _oracle(Path(run.workspace), (Stage.T0,))
    _kill_mid_grade(ledger, machine, run.id)
    # The agent retries its submit: it gets the grade of what it submitted, not a refusal.
    outcome = machine.submit(run.id, Stage.T0)
    assert (outcome.stage, outcome.passed, outcome.attempt) == (Stage.T0, True, 1)
    assert machine.status(run.id).stages[0].state == "passed"
    _one_done_submission(ledger, run.id)


def _snapshots(run_workspace: Path) -> list[Path]:
    submissions = run_workspace.parent / "submissions"
    return sorted(submissions.iterdir()) if submissions.is_dir() else []


def test_a_submission_without_build_sh_costs_nothing_and_keeps_nothing(
    machine: StageMachine,
) -> None:
    run = machine.create_run(sandbox=BACKEND)
    workspace = Path(run.workspace)
    _oracle(workspace, (Stage.T0,))
    (workspace / "build.sh").unlink()
    secret = Path(tempfile.mkdtemp(prefix="ramp-test-secret-", dir="/root"))
    (secret / "present").write_text("root's\n")
    refusals: list[str] = []
    try:
        # Missing; a directory; links to a root-only host file that exists and to one that
        # does not (the same answer: no oracle on host paths); a link to a workspace file
        # (past the first look, refused on the copy).
        for make in (
            lambda p: None,
            lambda p: p.mkdir(),
            lambda p: p.symlink_to(secret / "present"),
            lambda p: p.symlink_to(secret / "absent"),
            lambda p: p.symlink_to("README.md"),
        ):
            make(workspace / "build.sh")
            with pytest.raises(StageRefusedError, match=r"no build\.sh") as refused:
                machine.submit(run.id, Stage.T0)
            refusals.append(str(refused.value))
            subprocess.run(["rm", "-rf", str(workspace / "build.sh")], check=True)
    finally:
        shutil.rmtree(secret)
    assert len(set(refusals)) == 1, refusals
    assert not any(part in refusals[0] for part in ("/root", "/var/lib", "/tmp", "/work"))
    t0 = machine.status(run.id).stages[0]
    assert (t0.state, t0.attempts_used, t0.attempts_left) == ("open", 0, 1)
    assert _snapshots(workspace) == [], "a refused submission left its copy"


def test_failures_on_the_graders_side_are_given_back_twice_then_count(
    ledger: Ledger, machine: StageMachine
) -> None:
    run = machine.create_run(sandbox=BACKEND, attempts_per_stage=2, sample=2)
    workspace = Path(run.workspace)
    _oracle(workspace, (Stage.T0,))
    # A grader that lacks the run's cases fails every grading after the claim: a real
    # failure on the grader's side, provoked the same way each time.
    other = [c for c in builtin_corpus() if c.split is Split.HIDDEN and c not in _graded_cases()][
        :1
    ]
    broken = StageMachine(ledger, cases=other, runs_root=machine.runs_root)
    for given_back in (1, 2):
        with pytest.raises(GradingError, match="attempt was given back") as failed:
            broken.submit(run.id, Stage.T0)
        assert str(machine.runs_root) not in str(failed.value)
        # The failure names the run's hidden cases; the agent is told fixed words only.
        assert str(failed.value).startswith(grader_failure(Stage.T0)), failed.value
        assert not any(c.name in str(failed.value) for c in _graded_cases())
        t0 = machine.status(run.id).stages[0]
        assert (t0.state, t0.attempts_used) == ("open", 0), given_back
        assert _snapshots(workspace) == [], "a failed grading left its snapshot"
    counted = broken.submit(run.id, Stage.T0)
    assert (counted.chained_score, counted.passed, counted.attempts_left) == (0.0, False, 1)
    assert "this attempt counts" in counted.feedback[0]
    assert counted.feedback[0].startswith(grader_failure(Stage.T0)), counted.feedback
    t0 = machine.status(run.id).stages[0]
    assert (t0.state, t0.attempts_used) == ("open", 1)
    with ledger.session(write=False) as session:
        rows = session.exec(select(Submission).where(Submission.run_id == run.id)).all()
        statuses = [(r.status, (r.error or "")[:30]) for r in rows]
        errors = [r.error or "" for r in rows]
    assert [s for s, _ in statuses] == ["error", "error", "done"], statuses
    # The operator's detail (which cases are missing) is in the ledger, every time.
    assert all(any(c.name in e for c in _graded_cases()) for e in errors), errors
    assert len(_snapshots(workspace)) == 1  # the counted attempt's, as for any graded one
    # The grader fixed: the attempt left is graded as usual.
    assert machine.submit(run.id, Stage.T0).passed


def _program_uids(stop: threading.Event, found: set[tuple[str, int]]) -> None:
    """Every uid that a process running build.sh or bin/t0 had, until ``stop``."""
    while not stop.is_set():
        for proc in Path("/proc").iterdir():
            try:
                argv = (proc / "cmdline").read_bytes().split(b"\0")
                status = (proc / "status").read_text()
            except OSError:
                continue
            for name in ("build.sh", "bin/t0"):
                if any(arg.endswith(name.encode()) for arg in argv):
                    uid = next(line for line in status.splitlines() if line.startswith("Uid:"))
                    found.add((name, int(uid.split()[1])))
        time.sleep(0.02)


def test_grading_runs_as_the_grading_uid_and_ends_the_runs_processes(
    machine: StageMachine,
) -> None:
    """The agent's uid and the grading uid share no per-uid counter: build.sh and the stage
    programs run as the grading uid, and whatever ran as the run's uid (a command of any
    server process of the run) is killed when grading starts; another run's is not."""
    run = machine.create_run(sandbox=BACKEND)
    other = machine.create_run(sandbox=BACKEND)
    assert run.sandbox_uid is not None and other.sandbox_uid is not None
    workspace = Path(run.workspace)
    _oracle(workspace, (Stage.T0,))
    # Both take a second, so that the watcher sees them.
    build = workspace / "build.sh"
    build.write_text(build.read_text().replace("set -e\n", "set -e\nsleep 1\n", 1))
    bin_t0 = workspace / "src" / "t0"  # build.sh copies it to bin/t0
    bin_t0.write_text(
        bin_t0.read_text().replace(
            "import hashlib,", "import time; time.sleep(1)\nimport hashlib,", 1
        )
    )
    mine = subprocess.Popen(["sleep", "300"], user=run.sandbox_uid, group=run.sandbox_uid)
    theirs = subprocess.Popen(["sleep", "300"], user=other.sandbox_uid, group=other.sandbox_uid)
    stop, found = threading.Event(), set[tuple[str, int]]()
    watcher = threading.Thread(target=_program_uids, args=(stop, found))
    watcher.start()
    try:
        graded = machine.submit(run.id, Stage.T0)
    finally:
        stop.set()
        watcher.join()
        theirs_alive = theirs.poll() is None
        theirs.kill()
        mine.kill()
    assert graded.passed, graded.feedback
    grading = grading_uid(run.sandbox_uid)
    assert grading == run.sandbox_uid + 100_000
    assert {uid for _, uid in found} == {grading}, found
    assert {name for name, _ in found} == {"build.sh", "bin/t0"}, found
    assert mine.wait(timeout=10) == -signal.SIGKILL
    assert theirs_alive


def test_view_only_reads_and_status_catches_up(machine: StageMachine) -> None:
    """``view`` reads the ledger; ``status`` first writes what ``catch_up`` documents (a
    spent budget resurrects the open stage and finishes the run), once."""
    run = machine.create_run(sandbox=BACKEND, budget_s=0.001)
    time.sleep(0.01)
    before = machine.view(run.id)
    assert (before.status, before.stages[0].state, before.budget_left_s) == ("created", "open", 0)

    def events() -> int:
        with machine.ledger.session(write=False) as session:
            query = select(ResurrectionEvent).where(ResurrectionEvent.run_id == run.id)
            return len(session.exec(query).all())

    assert events() == 0
    after = machine.status(run.id)
    assert (after.status, after.stages[0].state, after.open_stage) == (
        "finished",
        "resurrected",
        None,
    )
    assert machine.status(run.id) == machine.view(run.id) and events() == 1
