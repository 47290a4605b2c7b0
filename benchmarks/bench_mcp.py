"""MCP server overhead next to in-process baselines, and its behaviour under HTTP load.

    .venv/bin/python benchmarks/bench_mcp.py [--runs 50] [--seconds 20] [--sessions 16]
                                             [--think-ms 1000] [--stdio-only]

Runs are made like the tests make them (`ramp run create --sandbox bwrap`, a throwaway
SQLite ledger) and removed afterwards.

1. stdio, the SDK client, one run: p50 of read_file and write_file on a small file and of
   run_command('true'), each beside the same work done in-process (Workspace.read/.write,
   and a bwrap Sandbox.exec(['true']) set up as the server sets up a run's sandbox).
2. `ramp-mcp --http` with bearer tokens: one session looping read/write/run_command('true')
   for --seconds, then --sessions concurrent sessions (asyncio tasks, each its own client
   and its own run: "16 concurrent HTTP sessions" as 16 agents, each on its run) for as
   long: calls, errors, p50/p95 per call, p95 against the single session's. Each session
   waits --think-ms between calls, as an agent waits for its model (seconds, in practice);
   the target applies to this paced load. The same load without pauses (closed loop) is
   printed too: on a 2-core machine it is CPU-bound, so its p95 grows with sessions/cores
   whatever the server does; it shows throughput and that nothing fails under saturation.
3. The HTTP server's idle RSS (VmRSS) after the load, idle for 2 s.

Targets (issue F4): read_file p50 <= 10 ms, write_file p50 <= 15 ms, run_command('true')
p50 <= 40 ms; 16 sessions: no errors and p95 <= 3x the single session's; idle RSS <= 200 MB.
Figures are printed, never asserted on.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import anyio
import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from rich.console import Console
from rich.table import Table

# The MCP tests' harness (runs, a live HTTP server) serves the benchmark too.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from grader.ledger import Ledger
from ramp_mcp._runs import RunContext
from ramp_mcp._tokens import ensure_token
from tests.ramp_mcp.harness import create_run, http_server

BIN = Path(sys.executable).parent
SMALL = "int main() { return 0; }\n" * 20  # ~500 bytes
TOOL_ARGS: list[tuple[str, dict[str, Any]]] = [
    ("read_file", {"path": "small.txt"}),
    ("write_file", {"path": "small-out.txt", "content": SMALL}),
    ("run_command", {"command": "true"}),
]


def create_bench_run(ledger_url: str) -> tuple[str, Path]:
    run_id, workspace = create_run(ledger_url, agent="bench-mcp")
    (workspace / "small.txt").write_text(SMALL)
    return run_id, workspace


def pct(samples: list[float], q: float) -> float:
    """The q-quantile (0..1) in ms, nearest rank."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))] * 1000


def p50_ms_sync(action: Callable[[], object], runs: int) -> float:
    action()  # warm up
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


async def p50_ms_async(action: Callable[[], Awaitable[object]], runs: int) -> float:
    await action()  # warm up
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def in_process(ledger_url: str, run_id: str, runs: int) -> dict[str, float]:
    with Ledger.open(ledger_url) as ledger:
        context = RunContext(ledger.get_run(run_id))
    try:
        box = context.sandbox()
        return {
            "read_file": p50_ms_sync(lambda: context.workspace.read("small.txt"), runs),
            "write_file": p50_ms_sync(
                lambda: context.workspace.write("small-base.txt", SMALL), runs
            ),
            "run_command": p50_ms_sync(lambda: box.exec(["true"]), runs),
        }
    finally:
        context.close()


async def over_stdio(ledger_url: str, run_id: str, runs: int) -> dict[str, float]:
    params = StdioServerParameters(
        command=str(BIN / "ramp-mcp"), args=["--run", run_id, "--ledger", ledger_url]
    )
    figures: dict[str, float] = {}
    async with Client(params) as client:
        for name, arguments in TOOL_ARGS:

            async def call(name: str = name, arguments: dict[str, Any] = arguments) -> None:
                result = await client.call_tool(name, arguments)
                if result.is_error:
                    raise RuntimeError(f"{name} failed: {result.content}")

            figures[name] = await p50_ms_async(call, runs)
    return figures


class Load:
    def __init__(self) -> None:
        self.samples: list[float] = []
        self.calls = 0
        self.errors: list[str] = []


async def session_loop(url: str, token: str, seconds: float, think_s: float, load: Load) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with (
            httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=120)) as http,
            Client(streamable_http_client(url, http_client=http)) as client,
        ):
            await client.call_tool("read_file", {"path": "small.txt"})  # warm
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                for name, arguments in TOOL_ARGS:
                    started = time.perf_counter()
                    try:
                        result = await client.call_tool(name, arguments)
                        failed = f"{name}: {result.content}" if result.is_error else None
                    except Exception as exc:  # noqa: BLE001 - a benchmark counts every failure
                        failed = f"{name}: {exc!r}"
                    load.samples.append(time.perf_counter() - started)
                    load.calls += 1
                    if failed is not None:
                        load.errors.append(failed[:200])
                    if think_s:
                        await anyio.sleep(think_s)
    except Exception as exc:  # noqa: BLE001 - a session that cannot connect is an error too
        load.errors.append(f"session: {exc!r}"[:200])


async def http_load(url: str, tokens: list[str], seconds: float, think_s: float) -> Load:
    load = Load()
    async with anyio.create_task_group() as group:
        for token in tokens:
            group.start_soon(session_loop, url, token, seconds, think_s, load)
    return load


def vm_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def verdict(ok: bool) -> str:
    return "[green]met[/green]" if ok else "[red]missed[/red]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50, help="samples per stdio p50")
    parser.add_argument("--seconds", type=float, default=20, help="length of each HTTP load")
    parser.add_argument("--sessions", type=int, default=16, help="concurrent HTTP sessions")
    parser.add_argument(
        "--think-ms", type=float, default=1000, help="pause between a session's calls"
    )
    parser.add_argument("--stdio-only", action="store_true", help="skip the HTTP loads")
    args = parser.parse_args()
    console = Console(width=140)
    home = Path(tempfile.mkdtemp(prefix="ramp-bench-mcp-"))
    ledger_url = f"sqlite:///{home / 'ledger.sqlite3'}"
    made: list[tuple[str, Path]] = []
    try:
        with ThreadPoolExecutor(8) as pool:
            made = list(pool.map(lambda _: create_bench_run(ledger_url), range(args.sessions)))
        run_id = made[0][0]

        console.print(f"[bold]stdio[/bold], one run, p50 of {args.runs} calls")
        base = in_process(ledger_url, run_id, args.runs)
        served = anyio.run(over_stdio, ledger_url, run_id, args.runs)
        targets = {"read_file": 10.0, "write_file": 15.0, "run_command": 40.0}
        baselines = {
            "read_file": "Workspace.read",
            "write_file": "Workspace.write",
            "run_command": "bwrap Sandbox.exec(['true'])",
        }
        table = Table("tool", "in-process baseline", "over MCP stdio", "overhead", "target")
        for name, _ in TOOL_ARGS:
            table.add_row(
                name if name != "run_command" else "run_command('true')",
                f"{base[name]:.2f} ms ({baselines[name]})",
                f"{served[name]:.2f} ms",
                f"+{served[name] - base[name]:.2f} ms",
                f"<= {targets[name]:g} ms: {verdict(served[name] <= targets[name])}",
            )
        console.print(table)
        if args.stdio_only:
            return

        with Ledger.open(ledger_url) as ledger:
            tokens = [ensure_token(ledger.get_run(r)) for r, _ in made]
        with http_server(ledger_url, home / "http.log") as (url, server):
            console.print(
                f"[bold]HTTP[/bold], read/write/run_command('true') loops of {args.seconds:g} s; "
                f"{args.sessions} sessions = {args.sessions} clients on {args.sessions} runs"
            )
            think = args.think_ms / 1000
            loads = {
                "paced": (
                    anyio.run(http_load, url, tokens[:1], args.seconds, think),
                    anyio.run(http_load, url, tokens, args.seconds, think),
                ),
                "closed loop": (
                    anyio.run(http_load, url, tokens[:1], args.seconds, 0.0),
                    anyio.run(http_load, url, tokens, args.seconds, 0.0),
                ),
            }
            time.sleep(2)
            rss = vm_rss_mb(server.pid)

        table = Table("load", "calls", "calls/s", "errors", "p50", "p95", "p95 vs single", "target")
        for mode, (single, many) in loads.items():
            single_p95 = pct(single.samples, 0.95)
            for sessions, load in ((1, single), (args.sessions, many)):
                p95 = pct(load.samples, 0.95)
                ratio = p95 / single_p95
                if load is single:
                    target = "(baseline)"
                elif mode == "paced":
                    target = f"0 errors, <= 3x: {verdict(not load.errors and ratio <= 3)}"
                else:
                    target = f"0 errors: {verdict(not load.errors)} (saturation, no p95 target)"
                table.add_row(
                    f"{sessions} session(s), {mode}"
                    + (f" ({args.think_ms:g} ms pauses)" if mode == "paced" else ""),
                    str(load.calls),
                    f"{load.calls / args.seconds:.0f}",
                    str(len(load.errors)),
                    f"{pct(load.samples, 0.5):.2f} ms",
                    f"{p95:.2f} ms",
                    f"{ratio:.2f}x",
                    target,
                )
        console.print(table)
        for single, many in loads.values():
            for error in (single.errors + many.errors)[:5]:
                console.print(f"  error: {error}")
        console.print(
            f"idle RSS of ramp-mcp --http after the load: {rss:.1f} MB "
            f"(target <= 200 MB: {verdict(rss <= 200)})"
        )
    finally:
        for _, workspace in made:
            shutil.rmtree(workspace.parent, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
