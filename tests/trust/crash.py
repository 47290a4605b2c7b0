"""Crash trials: SIGKILL the grader or the MCP server at a random point of a scripted run.

A trial (seeded) makes a run on a case sample, writes a small workspace whose stage
programs exist (T0 a real preprocessor, T1 and T2 programs that run but are wrong), and
submits T0..T2 in order. One submission, chosen by the seed, is killed after a random
delay: either `ramp-grade submit` (the grader) or `ramp-mcp --run` during submit_stage
(the server). Then `ramp-grade recover` runs and the script goes on to the end. The
ledger is then checked: nothing left `grading`, stage states that agree with the
submissions and resurrection events, the same final scores as a trial without a crash,
and no process (by a per-trial marker in the stage programs' environment) or container
(by the run's label or a dead owner) left behind.

Shared by `tests/trust/test_crash.py` (a few trials) and `benchmarks/bench_crash.py`.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import anyio
from mcp import Client, MCPError, StdioServerParameters
from pydantic import BaseModel
from sqlmodel import select

from grader.ledger import Ledger, ResurrectionEvent, Submission
from tests.support import processes_with_marker
from tests.trust.session import create_run

BIN = Path(sys.executable).parent
STAGES = ("T0", "T1", "T2")
_LABEL_RUN = "io.ramp.run"
# What the client may raise once its server has been killed.
_GONE = (MCPError, anyio.ClosedResourceError, anyio.BrokenResourceError, OSError, ExceptionGroup)


class TrialResult(BaseModel):
    seed: int
    backend: str
    target: str  # "grader" or "server"
    killed_stage: str
    delay_s: float
    killed_while_running: bool
    scores: dict[str, float]
    lost_results: list[str]
    inconsistencies: list[str]
    leftovers: list[str]
    duration_s: float


def _workspace(root: Path, marker: str) -> None:
    """A workspace whose build and stage programs are slow enough to be killed mid-way."""
    files = {
        "build.sh": f"#!/bin/sh\nexport {marker}=1\nsleep 0.3\nmkdir -p bin\n",
        "bin/t0": f"#!/bin/sh\nexport {marker}=1\nsleep 0.2\n"
        'exec clang-19 -E -x c -isystem /ramp/include -include sylib.h "$1" -o "$2"\n',
        "bin/t1": f'#!/bin/sh\nexport {marker}=1\nsleep 0.2\ncp "$1" "$2"\n',
        "bin/t2": f'#!/bin/sh\nexport {marker}=1\nsleep 0.2\necho "{{}}" > "$2"\n',
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(0o755)


def _submit_cli(run_id: str, stage: str, ledger_url: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(BIN / "ramp-grade"), "submit", run_id, "--stage", stage, "--ledger", ledger_url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _server_pid(run_id: str) -> int | None:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(a.endswith(b"ramp-mcp") for a in argv) and run_id.encode() in argv:
            return int(entry.name)
    return None


def _kill_grader(run_id: str, stage: str, ledger_url: str, delay: float) -> bool:
    process = _submit_cli(run_id, stage, ledger_url)
    try:
        process.wait(timeout=delay)
        return False  # it finished first
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()
        return True


def _kill_server(run_id: str, stage: str, ledger_url: str, delay: float) -> bool:
    params = StdioServerParameters(
        command=str(BIN / "ramp-mcp"), args=["--run", run_id, "--ledger", ledger_url]
    )
    killed = False

    async def main() -> None:
        nonlocal killed
        async with Client(params) as client:
            pid = _server_pid(run_id)
            assert pid is not None, "ramp-mcp not found"

            async def submit() -> None:
                await client.call_tool("submit_stage", {"stage": stage})

            async def kill() -> None:
                nonlocal killed
                await anyio.sleep(delay)
                os.kill(pid, signal.SIGKILL)
                killed = True

            async with anyio.create_task_group() as group:
                group.start_soon(kill)
                with anyio.move_on_after(delay + 120), contextlib.suppress(*_GONE):
                    await submit()
                if not killed:
                    group.cancel_scope.cancel()

    with contextlib.suppress(*_GONE):
        anyio.run(main)
    return killed


def _recover(ledger_url: str) -> None:
    subprocess.run(
        [str(BIN / "ramp-grade"), "recover", "--ledger", ledger_url],
        check=True,
        capture_output=True,
        timeout=900,
    )


def _finish(run_id: str, ledger_url: str) -> None:
    """Submit every stage of T0..T2 still open, in order (as the script would go on)."""
    for stage in STAGES:
        with Ledger.open(ledger_url) as ledger:
            states = {s.stage: s.state for s in ledger.stage_states(run_id)}
        if states[stage] == "open":
            done = _submit_cli(run_id, stage, ledger_url)
            done.wait(timeout=900)


def _check(run_id: str, ledger_url: str) -> tuple[dict[str, float], list[str]]:
    problems: list[str] = []
    with Ledger.open(ledger_url) as ledger:
        run = ledger.get_run(run_id)
        states = {s.stage: s for s in ledger.stage_states(run_id)}
        with ledger.session(write=False) as session:
            subs = session.exec(select(Submission).where(Submission.run_id == run_id)).all()
            events = session.exec(
                select(ResurrectionEvent).where(ResurrectionEvent.run_id == run_id)
            ).all()
            subs = [Submission.model_validate(s.model_dump()) for s in subs]
            events = [ResurrectionEvent.model_validate(e.model_dump()) for e in events]
    scores: dict[str, float] = {}
    for sub in subs:
        if sub.status == "grading":
            problems.append(f"submission {sub.id} ({sub.stage}) is still grading")
    for name, state in states.items():
        done = sorted(
            (s for s in subs if s.stage == name and s.status == "done"), key=lambda s: s.attempt
        )
        if state.state == "grading":
            problems.append(f"{name} is still grading")
        if done:
            last = done[-1]
            scores[name] = last.chained_score or 0.0
            if state.chained_score != last.chained_score:
                problems.append(
                    f"{name}: state score {state.chained_score} != {last.chained_score}"
                )
            if last.passed and state.state != "passed":
                problems.append(f"{name}: passed submission but state {state.state}")
            if not last.passed and state.state == "passed":
                problems.append(f"{name}: state passed without a passing submission")
            used = len([s for s in subs if s.stage == name and s.status in ("done", "grading")])
            if state.attempts_used != used:
                problems.append(f"{name}: {state.attempts_used} attempts used, {used} graded")
            if last.snapshot_hash is None:
                problems.append(f"{name}: graded submission {last.id} has no snapshot hash")
        elif state.state in ("passed", "resurrected") and name in STAGES:
            problems.append(f"{name} is {state.state} without a graded submission")
    resurrected = {n for n, s in states.items() if s.state == "resurrected"}
    evented = [e.stage for e in events]
    if sorted(evented) != sorted(resurrected):
        problems.append(
            f"resurrection events {evented} != resurrected stages {sorted(resurrected)}"
        )
    opened = [n for n, s in states.items() if s.state == "open"]
    if len(opened) > 1:
        problems.append(f"more than one open stage: {opened}")
    if run.status == "finished" and opened:
        problems.append("a finished run has an open stage")
    return scores, problems


def _leftovers(run_id: str, marker: str) -> list[str]:
    found = [f"process {pid}" for pid in processes_with_marker(marker)]
    if shutil.which("docker"):
        listed = subprocess.run(
            ["docker", "ps", "-a", "-q", "--filter", "label=io.ramp.sandbox"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        for container in listed.stdout.split():
            labels = subprocess.run(
                ["docker", "inspect", "-f", "{{json .Config.Labels}}", container],
                capture_output=True,
                text=True,
                timeout=60,
            ).stdout
            try:
                info = json.loads(labels or "{}")
            except json.JSONDecodeError:
                continue
            owner = int(info.get("io.ramp.owner-pid", "0") or 0)
            if info.get(_LABEL_RUN) == run_id or (owner and not Path(f"/proc/{owner}").exists()):
                found.append(f"container {container[:12]}")
    if _server_pid(run_id) is not None:
        found.append("ramp-mcp server")
    return found


def reference_scores(backend: str, sample: int, workdir: Path) -> dict[str, float]:
    """The final scores of the scripted run with no crash."""
    ledger_url = f"sqlite:///{workdir / f'reference-{backend}.sqlite3'}"
    run_id, workspace = create_run(ledger_url, backend=backend, sample=sample, agent="crash-ref")
    try:
        _workspace(workspace, f"RAMP_CRASH_{uuid.uuid4().hex}")
        _finish(run_id, ledger_url)
        scores, problems = _check(run_id, ledger_url)
        assert not problems, problems
        return scores
    finally:
        shutil.rmtree(workspace.parent, ignore_errors=True)


def run_trial(
    seed: int, backend: str, sample: int, expected: dict[str, float], workdir: Path
) -> TrialResult:
    rng = random.Random(seed)
    started = time.monotonic()
    marker = f"RAMP_CRASH_{seed}_{uuid.uuid4().hex[:8]}"
    directory = Path(tempfile.mkdtemp(prefix=f"trial-{seed}-", dir=workdir))
    ledger_url = f"sqlite:///{directory / 'ledger.sqlite3'}"
    run_id, workspace = create_run(ledger_url, backend=backend, sample=sample, agent="crash")
    target = rng.choice(["grader", "server"])
    killed_stage = rng.choice(STAGES)
    delay = round(rng.uniform(0.0, 6.0 if backend == "docker" else 4.0), 3)
    try:
        _workspace(workspace, marker)
        for stage in STAGES:
            if stage == killed_stage:
                kill = _kill_grader if target == "grader" else _kill_server
                killed = kill(run_id, stage, ledger_url, delay)
                _recover(ledger_url)
                break
            _submit_cli(run_id, stage, ledger_url).wait(timeout=900)
        _finish(run_id, ledger_url)
        scores, problems = _check(run_id, ledger_url)
        lost = [
            f"{stage}: {scores.get(stage)} instead of {score}"
            for stage, score in expected.items()
            if scores.get(stage) != score
        ]
        time.sleep(0.5)
        leftovers = _leftovers(run_id, marker)
        return TrialResult(
            seed=seed,
            backend=backend,
            target=target,
            killed_stage=killed_stage,
            delay_s=delay,
            killed_while_running=killed,
            scores=scores,
            lost_results=lost,
            inconsistencies=problems,
            leftovers=leftovers,
            duration_s=round(time.monotonic() - started, 2),
        )
    finally:
        shutil.rmtree(workspace.parent, ignore_errors=True)
        shutil.rmtree(directory, ignore_errors=True)
