"""`ramp run --agent` stops the agent, and everything it started, when the run's time
budget is spent or when RAMP is interrupted; the ledger and the result say what happened."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from grader.ledger import Ledger
from tests.ramp_mcp.agents.clients import BIN, ramp_run, remove_run, require_bwrap
from tests.support import processes_with_marker

AGENT = Path(__file__).with_name("command_agent.py")


@pytest.fixture(autouse=True)
def _bwrap_ready() -> None:
    require_bwrap()


def _serving(run_id: str) -> list[int]:
    """Pids of processes whose command line names the run (its `ramp-mcp --run RUN`)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if run_id.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_time_budget_stops_the_agent_and_the_server_it_started(tmp_path: Path) -> None:
    ledger = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    marker = f"RAMP_TEST_MARK_{uuid.uuid4().hex}"
    command = shlex.join([sys.executable, str(AGENT), "sleep"])
    started = time.monotonic()
    result = ramp_run(
        ledger, command, "--transport", "stdio", "--budget-s", "20", env={**os.environ, marker: "1"}
    )
    took = time.monotonic() - started
    try:
        ended = result["ended"]
        assert ended["timed_out"] is True
        stdout = Path(ended["stdout_log"]).read_text()
        assert "connected; sleeping" in stdout, Path(ended["stderr_log"]).read_text()[-3000:]
        # Stopped at the limit (the ledger's clock starts as the agent is launched; stopping
        # the process group takes a moment), not at the end of its 600 s sleep.
        assert 15 < ended["duration_s"] <= 25, ended
        assert took < 120
        # The agent, and the `ramp-mcp --run` it started over stdio, are gone.
        assert processes_with_marker(marker) == []
        assert _serving(result["run_id"]) == []
        # The ledger's budget is spent too: the open stage was resurrected, nothing graded.
        assert result["graded"] is None
        assert "time budget" in result["grade_note"]
        states = {s["stage"]: s["state"] for s in result["status"]["stages"]}
        assert states["T0"] == "resurrected"
        assert result["status"]["status"] == "finished"
        assert result["status"]["budget_left_s"] == 0
    finally:
        remove_run(result)


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_stops_the_agent_and_still_reports(tmp_path: Path) -> None:
    ledger = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    marker = f"RAMP_TEST_MARK_{uuid.uuid4().hex}"
    command = shlex.join([sys.executable, str(AGENT), "sleep"])
    process = subprocess.Popen(
        [
            *(str(BIN / "ramp"), "run", "--agent", command),
            *("--sandbox", "bwrap", "--ledger", ledger, "--json"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, marker: "1"},
        # A shell without job control starts background jobs with SIGINT ignored, and
        # Python then never raises KeyboardInterrupt: Ctrl-C is what this test is about.
        preexec_fn=_default_sigint,
    )
    try:
        deadline = time.monotonic() + 120
        sleeping = False
        while not sleeping and time.monotonic() < deadline:
            time.sleep(0.5)
            with Ledger.open(ledger) as opened:
                runs = opened.list_runs()
            if runs:
                log = Path(runs[0].workspace).parent / "agent" / "agent.stdout"
                sleeping = log.is_file() and "connected; sleeping" in log.read_text()
        assert sleeping, "the agent never connected"
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr
    result = json.loads(stdout)
    try:
        assert result["ended"]["interrupted"] is True
        assert processes_with_marker(marker) == []
        assert _serving(result["run_id"]) == []
        assert result["graded"] is None and "interrupted" in result["grade_note"]
        assert result["status"]["open_stage"] == "T0"  # the run stays open: nothing graded
    finally:
        remove_run(result)
