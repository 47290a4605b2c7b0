"""Helpers the MCP tests and benchmarks share: runs, a live HTTP server, scripted agents on it."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from grader.ledger import Ledger
from ramp_mcp._scripted_agent import ScriptedAgentPlan, ScriptedAgentResult, run_scripted_agent
from tests.support import free_port

BIN = Path(sys.executable).parent


def create_run(ledger_url: str, *, agent: str) -> tuple[str, Path]:
    """`ramp run create` on the bwrap backend: the run id and its workspace."""
    created = subprocess.run(
        [
            str(BIN / "ramp"),
            "run",
            "create",
            "--agent",
            agent,
            "--sandbox",
            "bwrap",
            "--ledger",
            ledger_url,
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    info = json.loads(created.stdout)
    return info["run_id"], Path(info["workspace"])


@contextmanager
def http_server(ledger_url: str, log: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`ramp-mcp --http` on a free port, until the block ends: its URL and process."""
    port = free_port()
    with log.open("w") as sink:
        process = subprocess.Popen(
            [str(BIN / "ramp-mcp"), "--http", "--port", str(port), "--ledger", ledger_url],
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"ramp-mcp --http did not start: {log.read_text()}"
                    ) from None
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/mcp", process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def scripted_runs_over_http(
    url: str, runs: list[tuple[str, str]], plan: ScriptedAgentPlan
) -> list[ScriptedAgentResult]:
    """The scripted agent on each (run id, bearer token) at once, through one HTTP server."""

    async def one(token: str, results: list[ScriptedAgentResult], index: int) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        timeout = httpx2.Timeout(60, read=3600)
        async with (
            httpx2.AsyncClient(headers=headers, timeout=timeout) as http,
            Client(streamable_http_client(url, http_client=http)) as client,
        ):
            results[index] = await run_scripted_agent(client, plan)

    async def all_of_them() -> list[ScriptedAgentResult]:
        results: list[ScriptedAgentResult] = [
            ScriptedAgentResult(steps=[], tool_calls=0) for _ in runs
        ]
        async with anyio.create_task_group() as group:
            for index, (_, token) in enumerate(runs):
                group.start_soon(one, token, results, index)
        return results

    return anyio.run(all_of_them)


def stage_scores(ledger_url: str, run_id: str) -> list[tuple[str, str, float | None, float | None]]:
    """(stage, state, chained, isolated) of every stage of a run, from the ledger."""
    with Ledger.open(ledger_url) as ledger:
        return [
            (s.stage, s.state, s.chained_score, s.isolated_score)
            for s in ledger.stage_states(run_id)
        ]
