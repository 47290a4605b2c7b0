"""The taxonomy on runs the real stage machine produced (bwrap sandboxes, real grading)."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from golden import CaseKind, Split, Stage, builtin_corpus
from grader._grading import GradingError
from grader._machine import StageMachine
from grader.ledger import Ledger, UsageEvent
from grader.taxonomy import diagnose_run
from tests.support import backend_missing
from toolchain._manifest import Profile

BACKEND = "bwrap"


@pytest.fixture
def machine(ledger: Ledger) -> Iterator[StageMachine]:
    if backend_missing(BACKEND) or backend_missing(BACKEND, Profile.MINIMAL):
        pytest.skip("bwrap not ready")
    cases = [
        c for c in builtin_corpus() if c.split is Split.HIDDEN and c.kind is CaseKind.FUNCTIONAL
    ][:2]
    root = Path(tempfile.mkdtemp(prefix="ramp-test-taxonomy-", dir="/tmp"))
    root.chmod(0o755)
    yield StageMachine(ledger, cases=cases, runs_root=root)
    shutil.rmtree(root, ignore_errors=True)


def _tool_call(run_id: str, tool: str, outcome: str = "ok") -> UsageEvent:
    return UsageEvent(
        run_id=run_id,
        at=datetime.now(UTC),
        kind="tool_call",
        source="mcp",
        tool=tool,
        duration_s=0.2,
        outcome=outcome,
    )


def test_a_build_that_fails_then_an_agent_that_stops(machine: StageMachine) -> None:
    run = machine.create_run(agent="test", model="none", sandbox=BACKEND)
    build = Path(run.workspace) / "build.sh"
    build.write_text("#!/bin/sh\necho 'sysyc/lexer.c:12:5: error: expected ;' >&2\nexit 2\n")
    build.chmod(0o755)
    machine.ledger.add_usage_events([_tool_call(run.id, "build")])
    outcome = machine.submit(run.id, Stage.T0)
    assert outcome.resurrected and outcome.next_open is Stage.T1
    diagnosis = diagnose_run(machine.ledger, run.id)
    t0 = diagnosis.stages[0]
    assert (t0.stage, t0.category, t0.precise, t0.rule) == (
        "T0",
        "tooling_integration",
        "build_failure",
        "S2",
    )
    assert any(
        e.startswith("build.sh failed on the submitted workspace: build.sh: exited with status 2")
        for e in t0.evidence
    )
    stop = diagnosis.hard_stop
    assert stop is not None and diagnosis.provisional
    assert (stop.stage, stop.category, stop.precise, stop.rule) == (
        "T1",
        "planning",
        "not_attempted",
        "H10",
    )


def test_a_workspace_without_build_sh_is_charged_to_the_model(machine: StageMachine) -> None:
    run = machine.create_run(agent="test", model="none", sandbox=BACKEND)
    (Path(run.workspace) / "build.sh").unlink(missing_ok=True)
    machine.ledger.add_usage_events([_tool_call(run.id, "submit_stage", "error")])
    with pytest.raises(GradingError, match=r"no build\.sh"):
        machine.submit(run.id, Stage.T0)
    stop = diagnose_run(machine.ledger, run.id).hard_stop
    assert stop is not None
    assert (stop.rule, stop.precise, stop.charged_to_model) == ("H1", "build_failure", True)


def test_a_spent_budget_is_a_timeout(machine: StageMachine) -> None:
    run = machine.create_run(agent="test", model="none", sandbox=BACKEND, budget_s=0.5)
    machine.ledger.add_usage_events([_tool_call(run.id, "read_file"), _tool_call(run.id, "build")])
    with machine.ledger.locked_run(run.id) as locked:  # the clock starts at the first call
        locked.run.started_at, locked.run.status = datetime.now(UTC), "running"
    time.sleep(0.7)
    assert machine.status(run.id).status == "finished"  # the machine expires the run
    diagnosis = diagnose_run(machine.ledger, run.id)
    stop = diagnosis.hard_stop
    assert stop is not None and not diagnosis.provisional
    assert (stop.stage, stop.category, stop.precise, stop.rule) == (
        "T0",
        "reasoning",
        "timeout",
        "H5",
    )
    assert any("budget of 0.5 s ran out" in e for e in stop.evidence)
    assert [f.rule for f in diagnosis.stages] == ["H5", "S7", "S7", "S7", "S7", "S7"]
