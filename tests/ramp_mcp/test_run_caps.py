"""A run's caps, references and budget, through the real MCP server over stdio.

- references live beside the workspace, read-only at /ramp/reference in the run's sandbox,
  and count against nothing of the agent's;
- once the budget is spent, every tool that changes or runs something refuses, and the
  reading tools keep working;
- a full workspace gives run_command a detail naming the cap and what to do;
- an honest agent (the scripted reference agent) with an extra 200 MB build directory
  passes all six stages with the references in place.
"""

from __future__ import annotations

import gzip
import json
import os
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters

from golden import Split, Stage, builtin_corpus
from grader._agent_workspace import INLINE_MAX_BYTES
from grader._machine import StageMachine
from grader._run_home import UID_FIRST, UID_LAST
from grader.ledger import Ledger, Run
from ramp_mcp._scripted_agent import ScriptedAgentPlan, run_scripted_agent
from tests.support import backend_missing, reachable_temp_dir
from toolchain._capped import capped_usage, remove_tree
from toolchain._manifest import Profile

BIN = Path(sys.executable).parent
BACKENDS = ["bwrap", "docker"]
SAMPLE = 4


@pytest.fixture
def home() -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("runs get their own uids and mounted caps only as root")
    path = reachable_temp_dir("ramp-test-caps-")
    yield path
    remove_tree(path)


def _ready(backend: str) -> None:
    why = backend_missing(backend) or backend_missing(backend, Profile.MINIMAL)
    if why:
        pytest.skip(f"{backend}: {why}")


def _create(home: Path, backend: str, **options: Any) -> tuple[str, Run]:
    url = f"sqlite:///{home / 'ledger.sqlite3'}"
    with Ledger.open(url) as ledger:
        machine = StageMachine(ledger, runs_root=home / "runs")
        run = machine.create_run(agent="caps", model="scripted", sandbox=backend, **options)
    return url, run


@asynccontextmanager
async def _client(url: str, run_id: str) -> AsyncIterator[Client]:
    params = StdioServerParameters(
        command=str(BIN / "ramp-mcp"), args=["--run", run_id, "--ledger", url]
    )
    async with Client(params) as client:
        yield client


async def _call(client: Client, tool: str, arguments: dict[str, Any]) -> tuple[bool, Any]:
    result = await client.call_tool(tool, arguments)
    text = " ".join(getattr(c, "text", "") for c in result.content)
    return bool(result.is_error), (result.structured_content or text)


def test_a_new_run_has_its_uid_and_a_capped_workspace(home: Path) -> None:
    _ready("bwrap")
    _, run = _create(home, "bwrap")
    _, other = _create(home, "bwrap")
    assert run.sandbox_uid is not None and UID_FIRST <= run.sandbox_uid <= UID_LAST
    assert other.sandbox_uid not in (None, run.sandbox_uid)
    workspace = Path(run.workspace)
    info = workspace.stat()
    assert (info.st_uid, info.st_gid, info.st_mode & 0o777) == (run.sandbox_uid,) * 2 + (0o700,)
    assert all(p.stat().st_uid == run.sandbox_uid for p in workspace.rglob("*"))
    token = workspace.parent / "mcp-token"
    assert (token.stat().st_uid, token.stat().st_mode & 0o777) == (0, 0o600)
    assert json.loads(run.config)["workspace_cap"]["kind"] == "ext4"
    usage = capped_usage(workspace)
    assert usage is not None and usage.max_bytes == 512 << 20 and usage.max_entries == 100_000
    assert not (workspace / "reference").exists()


@pytest.mark.parametrize("backend", BACKENDS)
def test_references_live_outside_the_workspace(home: Path, backend: str) -> None:
    _ready(backend)
    url, run = _create(home, backend)
    workspace = Path(run.workspace)
    before = capped_usage(workspace)
    with Ledger.open(url) as ledger:
        StageMachine._reveal(ledger.get_run(run.id), Stage.T3)  # what opening T3 does
    reference = workspace.parent / "reference"
    revealed = sorted(reference.glob("T2/*"))
    public = sorted(c.name for c in builtin_corpus() if c.split is Split.PUBLIC)
    assert sorted(p.name.split(".")[0] for p in revealed) == public
    assert not (workspace / "reference").exists()
    after = capped_usage(workspace)
    assert before is not None and after is not None
    assert after.used_bytes - before.used_bytes < 1 << 20, "references count against nothing"
    for path in revealed:
        info = path.stat()
        assert (info.st_uid, info.st_mode & 0o777) == (0, 0o644)
        if path.name.endswith(".gz"):
            assert info.st_size > 0 and gzip.decompress(path.read_bytes())
        else:
            assert info.st_size <= INLINE_MAX_BYTES

    async def session() -> None:
        async with _client(url, run.id) as client:
            error, ran = await _call(
                client,
                "run_command",
                {
                    "command": "ls /ramp/reference/T2 | wc -l; touch /ramp/reference/T2/x; "
                    "rm -f /ramp/reference/T2/*; ls /ramp/reference/T2 | wc -l; id -u",
                },
            )
            assert not error, ran
            lines = ran["stdout"].split()
            assert lines == [str(len(public)), str(len(public)), str(run.sandbox_uid)], ran
            assert "Read-only file system" in ran["stderr"] or "denied" in ran["stderr"]

    anyio.run(session)
    assert len(sorted(reference.glob("T2/*"))) == len(public)


def test_the_budget_stops_every_changing_tool(home: Path) -> None:
    _ready("bwrap")
    url, run = _create(home, "bwrap", budget_s=20)
    refused = {
        "write_file": {"path": "b.txt", "content": "x"},
        "edit_file": {"path": "a.txt", "old": "a", "new": "b"},
        "delete_path": {"path": "a.txt"},
        "move_path": {"src": "a.txt", "dst": "c.txt"},
        "run_command": {"command": "true"},
        "build": {},
        "run_stage": {"stage": "T0", "input_text": "int main(){return 0;}"},
        "run_rv64": {"source": "a.txt"},
        "submit_stage": {"stage": "T0"},
    }
    allowed = {
        "list_files": {},
        "read_file": {"path": "a.txt"},
        "glob": {"pattern": "*.txt"},
        "grep": {"pattern": "a"},
        "status": {},
    }

    async def session() -> None:
        async with _client(url, run.id) as client:
            error, _ = await _call(client, "write_file", {"path": "a.txt", "content": "a\n"})
            assert not error
            error, ran = await _call(client, "run_command", {"command": "echo in budget"})
            assert not error and ran["stdout"] == "in budget\n"
            with Ledger.open(url) as ledger:
                started = ledger.get_run(run.id).started_at
            assert started is not None
            left = 20 - (time.time() - started.timestamp())
            await anyio.sleep(max(0.0, left) + 1)
            for tool, arguments in refused.items():
                error, text = await _call(client, tool, arguments)
                assert error, (tool, text)
                assert "budget of 20 s is spent" in str(text) and "T0 resurrected" in str(text)
                assert "you can still read" in str(text)
            for tool, arguments in allowed.items():
                error, text = await _call(client, tool, arguments)
                assert not error, (tool, text)
            contract = await client.read_resource("ramp://contracts/T0")
            assert contract.contents
            _, status = await _call(client, "status", {})
            assert status["status"] == "finished" and status["stages"][0]["state"] == "resurrected"

    anyio.run(session)
    assert (Path(run.workspace) / "a.txt").read_text() == "a\n"


def test_a_full_workspace_is_explained(home: Path) -> None:
    _ready("bwrap")
    url, run = _create(home, "bwrap")

    async def session() -> None:
        async with _client(url, run.id) as client:
            error, _ = await _call(client, "run_command", {"command": "echo precious > keep.txt"})
            assert not error
            error, ran = await _call(
                client,
                "run_command",
                {"command": "dd if=/dev/zero of=fill.bin bs=4M", "timeout_s": 300},
            )
            assert not error, ran
            assert ran["outcome"] == "nonzero" and "No space left" in ran["stderr"], ran
            detail = ran["detail"]
            assert "the workspace (/workspace) is full" in detail and "of 512 MB" in detail
            assert "delete" in detail and "nothing written before was lost" in detail
            error, read = await _call(client, "read_file", {"path": "keep.txt"})
            assert not error and read["content"] == "precious\n"
            error, _ = await _call(client, "delete_path", {"path": "fill.bin"})
            assert not error
            error, ran = await _call(client, "run_command", {"command": "echo ok > after.txt"})
            assert not error and ran["outcome"] == "ok" and "full" not in ran["detail"], ran

    anyio.run(session)


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_honest_agent_with_a_200_mb_build_dir_passes_every_stage(
    home: Path, backend: str
) -> None:
    _ready(backend)
    url, run = _create(home, backend, sample=SAMPLE)
    plan = ScriptedAgentPlan(build_ballast_mb=200)
    started = time.monotonic()

    async def drive() -> Any:
        async with _client(url, run.id) as client:
            return await run_scripted_agent(client, plan)

    result = anyio.run(drive)
    took = time.monotonic() - started
    submitted = [step.submitted for step in result.steps]
    assert [s["stage"] for s in submitted] == [s.value for s in Stage], submitted
    assert all(s["passed"] for s in submitted), submitted
    assert result.steps[-1].rv64_matches is True, "T5 by hand from /ramp/reference/T4"
    workspace = Path(run.workspace)
    usage = capped_usage(workspace)
    assert usage is not None and 200 << 20 < usage.used_bytes < 512 << 20, usage
    assert not (workspace / "reference").exists()
    reference = workspace.parent / "reference"
    assert sorted(p.name for p in reference.iterdir()) == ["T0", "T1", "T2", "T3", "T4"]
    snapshots = sorted((workspace.parent / "submissions").glob("*/snapshot"))
    assert len(snapshots) == 6
    for snapshot in snapshots:
        assert not (snapshot / "reference").exists()
        assert len(list((snapshot / "build").iterdir())) == 200
    with Ledger.open(url) as ledger:
        states = [s.state for s in ledger.stage_states(run.id)]
    assert states == ["passed"] * 6
    print(f"{backend}: six stages passed with a 200 MB build dir in {took:.0f} s; {usage}")
