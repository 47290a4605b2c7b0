"""The RAMP MCP server under races, disconnects and parallel runs (real clients, real bwrap).

* a tool call racing a submit of the same stage never corrupts the run's state;
* a client that goes away mid-build leaves no process behind, and the server exits;
* tool calls of different runs proceed in parallel on one HTTP server.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult
from sqlmodel import select

from grader._snapshot import tree_hash as _tree_hash
from grader.ledger import Ledger, Submission
from ramp_mcp._tokens import ensure_token
from tests.ramp_mcp.harness import create_run, http_server
from tests.support import backend_missing, processes_with_marker
from toolchain._manifest import Profile

BIN = Path(sys.executable).parent

GOOD_T0 = '#!/bin/sh\nexec clang-19 -E -x c -isystem /ramp/include -include sylib.h "$1" -o "$2"\n'
BROKEN_T0 = "#!/bin/sh\necho 'broken on purpose' >&2\nexit 3\n"
BUILD_SH = (
    "#!/bin/sh\nmkdir -p bin\nprintf '#!/bin/sh\\nexec clang-19 -E -x c -isystem /ramp/include "
    '-include sylib.h "$1" -o "$2"\\n\' > bin/t0\nchmod +x bin/t0\n'
)


@pytest.fixture(scope="module")
def ledger_url() -> Iterator[str]:
    if backend_missing("bwrap") or backend_missing("bwrap", Profile.MINIMAL):
        pytest.skip("bwrap not ready")
    directory = Path(tempfile.mkdtemp(prefix="ramp-test-mcp-robust-"))
    yield f"sqlite:///{directory / 'ledger.sqlite3'}"
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def runs(ledger_url: str) -> Iterator[list[tuple[str, Path]]]:
    """Make runs on demand; remove their homes afterwards."""
    made: list[tuple[str, Path]] = []
    yield made
    for _, workspace in made:
        shutil.rmtree(workspace.parent, ignore_errors=True)


def _stdio(run_id: str, ledger_url: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=str(BIN / "ramp-mcp"), args=["--run", run_id, "--ledger", ledger_url]
    )


def _ok(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.content
    content: dict[str, Any] | None = result.structured_content
    assert content is not None
    return content


# -- (a) a tool call racing a submit ------------------------------------------------------


def test_write_racing_submit_never_corrupts_state(
    ledger_url: str, runs: list[tuple[str, Path]]
) -> None:
    run_id, workspace = create_run(ledger_url, agent="mcp-robustness")
    runs.append((run_id, workspace))
    results: dict[str, CallToolResult] = {}

    async def main() -> None:
        async with Client(_stdio(run_id, ledger_url)) as client:
            _ok(await client.call_tool("write_file", {"path": "build.sh", "content": BUILD_SH}))
            assert _ok(await client.call_tool("build", {}))["ok"] is True

            async def call(key: str, name: str, arguments: dict[str, Any], delay: float) -> None:
                await anyio.sleep(delay)
                results[key] = await client.call_tool(name, arguments)

            async with anyio.create_task_group() as group:
                group.start_soon(call, "submit", "submit_stage", {"stage": "T0"}, 0.0)
                # The agent breaks its stage program and build.sh while the submission runs.
                group.start_soon(
                    call, "write", "write_file", {"path": "bin/t0", "content": BROKEN_T0}, 0.0
                )
                group.start_soon(
                    call, "write_sh", "write_file", {"path": "build.sh", "content": "exit 1"}, 0.0
                )
                group.start_soon(call, "again", "submit_stage", {"stage": "T0"}, 0.05)
            status = _ok(await client.call_tool("status", {}))
            results["status"] = CallToolResult(content=[], structured_content=status)

    anyio.run(main)

    # Each write landed in the live workspace before grading began, or was refused while the
    # stage was graded (ramp_mcp._gate: nothing of the run runs or answers during grading).
    for key in ("write", "write_sh"):
        if results[key].is_error:
            assert "is being graded" in str(results[key].content), results[key].content
    if not results["write"].is_error:
        assert (workspace / "bin" / "t0").read_text() == BROKEN_T0
    # Exactly one submission went through; the other got a clear refusal.
    first, second = results["submit"], results["again"]
    assert [first.is_error, second.is_error].count(True) == 1, (first.content, second.content)
    accepted, refused = (second, first) if first.is_error else (first, second)
    refusal = str(refused.content)
    assert "refused" in refusal and (
        "being graded right now" in refusal or "not open" in refusal
    ), refusal
    outcome = _ok(accepted)

    with Ledger.open(ledger_url) as ledger:
        with ledger.session(write=False) as session:
            rows = session.exec(select(Submission).where(Submission.run_id == run_id)).all()
            submissions = [
                (s.stage, s.status, s.chained_score, s.snapshot, s.snapshot_hash) for s in rows
            ]
        states = {s.stage: s.state for s in ledger.stage_states(run_id)}
    done = [s for s in submissions if s[0] == "T0" and s[1] == "done"]
    assert len(done) == 1 and len(submissions) == 1, submissions
    _, _, score, snapshot, snapshot_hash = done[0]
    assert states["T0"] in ("passed", "failed", "resurrected", "open"), states
    assert "grading" not in states.values(), states
    assert score == outcome["score"]

    # The score is the snapshot's, and the snapshot was not touched after it was taken.
    assert snapshot is not None and snapshot_hash == _tree_hash(Path(snapshot))
    graded_t0 = (Path(snapshot) / "bin" / "t0").read_text()
    graded_sh = (Path(snapshot) / "build.sh").read_text()
    assert graded_t0 in (GOOD_T0, BROKEN_T0), graded_t0
    assert graded_sh in (BUILD_SH, "exit 1"), graded_sh
    # The grader runs the snapshot's build.sh before the stage program: a good build.sh
    # writes a good bin/t0 over a broken one; a failing build.sh fails the stage.
    if graded_sh == "exit 1":
        assert score == 0.0 and states["T0"] != "passed"
    else:
        assert score == 100.0 and states["T0"] == "passed"
    assert results["status"].structured_content is not None
    status_t0 = results["status"].structured_content["stages"][0]
    assert status_t0["state"] == states["T0"] and status_t0["chained_score"] == score


# -- (b) a client gone mid-build ----------------------------------------------------------


def _server_pids(run_id: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(a.endswith(b"ramp-mcp") for a in argv) and run_id.encode() in argv:
            found.append(int(entry.name))
    return found


_CLIENT = """
import sys, anyio
from mcp import Client, StdioServerParameters

async def main() -> None:
    params = StdioServerParameters(command=sys.argv[1], args=sys.argv[2:])
    async with Client(params) as client:
        print("building", flush=True)
        await client.call_tool("build", {})

anyio.run(main)
"""


def _build_script(marker: str) -> str:
    return f"#!/bin/sh\nexport RAMP_TEST_MARKER={marker}\nsleep 100000\n"


def _wait_gone(marker: str, server: list[int], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while (processes_with_marker(marker) or _alive(server)) and time.monotonic() < deadline:
        time.sleep(0.1)
    survivors, lingering = processes_with_marker(marker), _alive(server)
    if lingering:  # do not leave the server (and so its sandbox) behind a failed test
        for pid in server:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    assert not survivors, "the build's processes outlived the client"
    assert not lingering, "ramp-mcp outlived its client"


def test_client_closing_mid_build_leaves_no_process(
    ledger_url: str, runs: list[tuple[str, Path]]
) -> None:
    """The client leaves its ``async with Client`` while build runs: the pipes close."""
    run_id, workspace = create_run(ledger_url, agent="mcp-robustness")
    runs.append((run_id, workspace))
    marker = f"ramp-test-marker-{uuid.uuid4().hex}"
    server: list[int] = []

    async def main() -> None:
        async with Client(_stdio(run_id, ledger_url)) as client:
            written = {"path": "build.sh", "content": _build_script(marker)}
            _ok(await client.call_tool("write_file", written))
            server.extend(_server_pids(run_id))
            with anyio.move_on_after(2):
                await client.call_tool("build", {})
                pytest.fail("the build of `sleep 100000` returned")
            assert processes_with_marker(marker), "the build's sleep should be running"

    anyio.run(main)
    assert server, "the ramp-mcp server process was not found"
    _wait_gone(marker, server)


def test_client_killed_mid_build_leaves_no_process(
    ledger_url: str, runs: list[tuple[str, Path]]
) -> None:
    """The client process dies (SIGKILL): nobody signals the server, only its stdin ends."""
    run_id, workspace = create_run(ledger_url, agent="mcp-robustness")
    runs.append((run_id, workspace))
    marker = f"ramp-test-marker-{uuid.uuid4().hex}"
    (workspace / "build.sh").write_text(_build_script(marker))
    (workspace / "build.sh").chmod(0o755)
    client = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _CLIENT,
            str(BIN / "ramp-mcp"),
            "--run",
            run_id,
            "--ledger",
            ledger_url,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert client.stdout is not None and client.stdout.readline().strip() == "building"
        deadline = time.monotonic() + 30
        while not processes_with_marker(marker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert processes_with_marker(marker), "the build's sleep should be running"
        server = _server_pids(run_id)
        assert server, "the ramp-mcp server process was not found"
        time.sleep(1)
    finally:
        client.kill()
        client.wait()
    _wait_gone(marker, server)


def _alive(pids: list[int]) -> bool:
    for pid in pids:
        try:
            state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z":
            return True
    return False


# -- (c) runs in parallel -----------------------------------------------------------------


def test_runs_proceed_in_parallel(ledger_url: str, runs: list[tuple[str, Path]]) -> None:
    for _ in range(2):
        runs.append(create_run(ledger_url, agent="mcp-robustness"))
    (run_a, _), (run_b, workspace_b) = runs
    (workspace_b / "note.txt").write_text("hello from B\n")
    with Ledger.open(ledger_url) as ledger:
        tokens = {run: ensure_token(ledger.get_run(run)) for run in (run_a, run_b)}
    log = Path(ledger_url.removeprefix("sqlite:///")).with_name("http-parallel.log")
    with http_server(ledger_url, log) as (url, _process):
        timings: dict[str, float] = {}

        async def session(run_id: str, work: str) -> None:
            headers = {"Authorization": f"Bearer {tokens[run_id]}"}
            async with (
                httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=60)) as http,
                Client(streamable_http_client(url, http_client=http)) as client,
            ):
                await client.list_tools()  # connected before the clock starts
                if work == "sleep":
                    started = time.monotonic()
                    ran = _ok(await client.call_tool("run_command", {"command": "sleep 5"}))
                    assert ran["exit_code"] == 0
                    timings["a_done"] = time.monotonic() - started
                    timings["a_started"] = started
                else:
                    await anyio.sleep(0.5)
                    started = time.monotonic()
                    read = _ok(await client.call_tool("read_file", {"path": "note.txt"}))
                    timings["b_s"] = time.monotonic() - started
                    timings["b_done"] = time.monotonic()
                    assert "hello from B" in read["content"]

        async def main() -> None:
            async with anyio.create_task_group() as group:
                group.start_soon(session, run_a, "sleep")
                group.start_soon(session, run_b, "read")

        anyio.run(main)
    assert timings["a_done"] >= 5
    assert timings["b_s"] < 2, timings
    assert timings["b_done"] < timings["a_started"] + 5, "B waited for A's command"
