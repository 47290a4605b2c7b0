"""The grading gate: nothing of a run runs or answers while one of its stages is graded.

The race is run many times on real sandboxes: a command that entered the gate before it
closed has been killed and has ended when ``close`` returns; a call that comes later is
refused. Then once end to end, through the server: a command running when submit_stage
is called is killed, a tool called during grading is refused, and the tools are back
after it.
"""

from __future__ import annotations

import json
import random
import threading
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

import grader._machine as machine_module
from golden import Stage
from grader._grading import hidden_cases
from grader._machine import StageMachine, sample_cases
from grader.ledger import Ledger
from ramp_mcp._gate import GradingGate, GradingInProgressError
from ramp_mcp._runs import ServerSettings
from ramp_mcp._server import build_server
from tests.support import backend_missing
from toolchain._capped import remove_tree
from toolchain._manifest import Profile
from toolchain.sandbox import CancelToken, ExecLimits, Outcome, SandboxSpec, open_sandbox

# bwrap starts a sandbox in milliseconds; a container's exec takes longer.
ROUNDS = {"bwrap": 300, "docker": 100}


def _ready(backend: str) -> None:
    reason = backend_missing(backend)
    if reason:
        pytest.skip(f"{backend}: {reason}")


def _one_round(gate: GradingGate, box: Any, rng: random.Random) -> dict[str, Any]:
    """A tool that starts a long command at a random moment around the gate's closing:
    what it saw and when, and when the closing returned."""
    seen: dict[str, Any] = {}
    tool_delay, close_delay = rng.uniform(0, 0.03), rng.uniform(0, 0.03)
    decided = threading.Event()  # the tool has entered the gate or been refused

    def tool() -> None:
        cancel = CancelToken()
        time.sleep(tool_delay)
        try:
            with gate.entered(cancel):
                seen["entered"] = time.monotonic()
                decided.set()
                seen["result"] = box.exec(["sleep", "30"], cancel=cancel, timeout_s=60)
                seen["ended"] = time.monotonic()
        except GradingInProgressError:
            seen["refused"] = True
            decided.set()
        except Exception as exc:  # noqa: BLE001 - the cancelled-before-start error is fine
            seen["error"] = exc
            seen["ended"] = time.monotonic()

    worker = threading.Thread(target=tool)
    worker.start()
    time.sleep(close_delay)
    gate.close(Stage.T1)
    seen["closed"] = time.monotonic()
    with pytest.raises(GradingInProgressError, match="stage T1 is being graded"), gate.entered():
        pass
    assert decided.wait(timeout=60)
    gate.reopen()
    worker.join(timeout=60)
    assert not worker.is_alive()
    return seen


@pytest.mark.timeout(900)
@pytest.mark.parametrize("backend", ["bwrap", "docker"])
def test_gate_kills_what_entered_and_refuses_what_comes_later(
    backend: str, workspace: Path
) -> None:
    _ready(backend)
    # Killed bwrap processes wait for this machine's init to reap them, and count toward
    # RLIMIT_NPROC meanwhile where no cgroup takes the pids limit: room for them all.
    spec = SandboxSpec(profile=Profile.DEV, limits=ExecLimits(timeout_s=60, pids=4096))
    gate = GradingGate()
    rng = random.Random(7)
    tally = {"refused": 0, "killed": 0, "cancelled before start": 0}
    with open_sandbox(workspace, backend, spec) as box:
        for index in range(ROUNDS[backend]):
            seen = _one_round(gate, box, rng)
            if seen.get("refused"):
                assert "entered" not in seen, seen
                tally["refused"] += 1
                continue
            # Entered before the gate closed: it has ended before close returned.
            assert seen["ended"] <= seen["closed"], (index, seen)
            if "error" in seen:
                assert "cancelled" in str(seen["error"]), seen
                tally["cancelled before start"] += 1
            else:
                assert seen["result"].outcome is Outcome.KILLED, (index, seen["result"])
                assert seen["ended"] - seen["entered"] < 10, seen
                tally["killed"] += 1
        # The sandbox is fine afterwards, and nothing of the killed commands is left.
        left = box.exec("ps -eo args | grep -c '^sleep 30$' || true", timeout_s=30)
        assert left.stdout.strip() == "0", left
    print(f"{backend}: {ROUNDS[backend]} rounds: {tally}")
    # Both sides of the race happened.
    assert tally["refused"] > 0 and tally["killed"] > 0, tally


def test_a_second_close_is_refused() -> None:
    gate = GradingGate()
    gate.close(Stage.T0)
    with pytest.raises(GradingInProgressError, match="one at a time"):
        gate.close(Stage.T0)
    gate.reopen()
    with gate.entered():
        pass


def test_another_servers_grading_refuses_calls() -> None:
    """A stage being graded according to the ledger (another server process of the run)."""
    gate = GradingGate(lambda: "T2")
    with pytest.raises(GradingInProgressError, match="call submit_stage T2"), gate.entered():
        pass


# -- end to end ---------------------------------------------------------------------------

BUILD = "#!/bin/sh\nchmod +x bin/*\n"
# A correct preprocessor that takes its time, so that grading lasts a few seconds.
SLOW_T0 = (
    "#!/bin/sh\nsleep 4\n"
    'exec clang-19 -E -x c -isystem /ramp/include -include sylib.h "$1" -o "$2"\n'
)


def _text(result: Any) -> str:
    return " ".join(getattr(c, "text", "") for c in result.content) + json.dumps(
        result.structured_content
    )


@pytest.mark.timeout(900)
@pytest.mark.parametrize("backend", ["bwrap", "docker"])
def test_the_server_kills_and_refuses_while_grading(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _ready(backend)
    if backend_missing(backend, Profile.MINIMAL):
        pytest.skip(f"{backend} minimal not ready")
    cases = sample_cases(hidden_cases(), 1)
    monkeypatch.setattr(machine_module, "hidden_cases", lambda: cases)
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    with Ledger.open(url) as ledger:
        run = StageMachine(ledger, cases=cases).create_run(agent="gate-test", sandbox=backend)
    seen: dict[str, Any] = {}
    try:

        async def agent() -> None:
            settings = ServerSettings(run_id=run.id, ledger_url=url)
            # A second server of the same run (as a second `ramp-mcp --run RUN` would be):
            # its own gate, so only the ledger and the grader's kill stop it.
            async with (
                Client(build_server(settings)) as client,
                Client(build_server(settings)) as other,
            ):
                await client.call_tool("write_file", {"path": "build.sh", "content": BUILD})
                await client.call_tool("write_file", {"path": "bin/t0", "content": SLOW_T0})

                async def long_command() -> None:
                    started = time.monotonic()
                    seen["command"] = await client.call_tool(
                        "run_command", {"command": "sleep 300; echo survived", "timeout_s": 600}
                    )
                    seen["command_s"] = time.monotonic() - started

                async def other_command() -> None:
                    started = time.monotonic()
                    seen["other_command"] = await other.call_tool(
                        "run_command", {"command": "sleep 300; echo survived", "timeout_s": 600}
                    )
                    seen["other_command_s"] = time.monotonic() - started

                async def submit() -> None:
                    await anyio.sleep(1.5)
                    seen["submit"] = await client.call_tool("submit_stage", {"stage": "T0"})
                    seen["submitted_at"] = time.monotonic()

                async def during() -> None:
                    await anyio.sleep(4)
                    seen["read"] = await client.call_tool("read_file", {"path": "build.sh"})
                    seen["run"] = await client.call_tool("run_command", {"command": "true"})
                    seen["status"] = await client.call_tool("status", {})
                    seen["other_read"] = await other.call_tool("read_file", {"path": "build.sh"})
                    seen["during_at"] = time.monotonic()

                async with anyio.create_task_group() as group:
                    group.start_soon(long_command)
                    group.start_soon(other_command)
                    group.start_soon(submit)
                    group.start_soon(during)
                seen["after"] = await client.call_tool("read_file", {"path": "build.sh"})
                seen["after_run"] = await client.call_tool("run_command", {"command": "echo hi"})

        anyio.run(agent)
    finally:
        remove_tree(Path(run.workspace).parent)
    submitted = seen["submit"]
    assert not submitted.is_error, _text(submitted)
    assert submitted.structured_content["score"] == 100.0, _text(submitted)
    # The command running at the claim was killed then, not left for 300 s.
    command = seen["command"].structured_content or {}
    assert command.get("outcome") == "killed", command
    assert "survived" not in command.get("stdout", ""), (command, seen["command_s"])
    assert "killed because stage T0 was submitted for grading" in command.get("detail", "")
    assert seen["command_s"] < 60, seen["command_s"]
    # During grading: the tools are refused, status answers.
    assert seen["during_at"] < seen["submitted_at"], "grading ended before the probe"
    for key in ("read", "run"):
        assert seen[key].is_error and "stage T0 is being graded" in _text(seen[key]), _text(
            seen[key]
        )
    assert not seen["status"].is_error
    # The other server: refused through the ledger, its command killed by the grader.
    assert seen["other_read"].is_error, _text(seen["other_read"])
    assert "stage T0 is being graded" in _text(seen["other_read"]), _text(seen["other_read"])
    other_command = seen["other_command"].structured_content or {}
    assert "survived" not in other_command.get("stdout", ""), other_command
    assert other_command.get("outcome") != "ok", other_command
    assert seen["other_command_s"] < 60, seen["other_command_s"]
    # After it, they are back (a new sandbox for the commands).
    assert not seen["after"].is_error, _text(seen["after"])
    assert seen["after_run"].structured_content["stdout"] == "hi\n", _text(seen["after_run"])
