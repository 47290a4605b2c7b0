"""Helpers the MCP tests and benchmarks/bench_mcp.py share: runs and a live HTTP server."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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
