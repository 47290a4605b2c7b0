"""A live `ramp-mcp --run RUN` over stdio, driven from synchronous tests.

The SDK's client runs in a blocking portal (an event loop on a thread), so one server and
one run serve many tests, and hypothesis can drive it from plain functions.
"""

from __future__ import annotations

import json
import os
import select as io_select
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from anyio.from_thread import BlockingPortal, start_blocking_portal
from mcp import Client, StdioServerParameters
from mcp_types import CallToolResult
from sqlmodel import select

from grader.ledger import IntegrityFinding, Ledger

BIN = Path(sys.executable).parent


def create_run(
    ledger_url: str, *, backend: str, sample: int | None, agent: str
) -> tuple[str, Path]:
    """`ramp run create` (on a case sample, for speed): the run id and its workspace."""
    argv = [str(BIN / "ramp"), "run", "create", "--agent", agent, "--sandbox", backend]
    argv += ["--ledger", ledger_url, "--json"]
    if sample is not None:
        argv += ["--sample", str(sample)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=True)
    info = json.loads(done.stdout)
    return info["run_id"], Path(info["workspace"])


@dataclass
class Reply:
    """One tool call's answer, flattened for assertions."""

    error: bool
    data: dict[str, Any]
    text: str

    @classmethod
    def of(cls, result: CallToolResult) -> Reply:
        text = " ".join(getattr(c, "text", "") for c in result.content)
        return cls(bool(result.is_error), dict(result.structured_content or {}), text)


@dataclass
class Session:
    run_id: str
    workspace: Path
    ledger_url: str
    backend: str
    server_env: dict[str, str]
    portal: BlockingPortal
    client: Client
    calls: int = field(default=0)

    def call(self, tool: str, arguments: dict[str, Any] | None = None) -> Reply:
        self.calls += 1
        result = self.portal.call(lambda: self.client.call_tool(tool, arguments or {}))
        return Reply.of(result)

    def ok(self, tool: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
        reply = self.call(tool, arguments)
        assert not reply.error, f"{tool} failed: {reply.text}"
        return reply.data

    def sh(self, command: str, timeout_s: float = 60) -> dict[str, Any]:
        return self.ok("run_command", {"command": command, "timeout_s": timeout_s})

    def findings(self) -> list[IntegrityFinding]:
        with Ledger.open(self.ledger_url) as ledger, ledger.session(write=False) as session:
            rows = session.exec(
                select(IntegrityFinding).where(IntegrityFinding.run_id == self.run_id)
            ).all()
            return [IntegrityFinding.model_validate(r.model_dump()) for r in rows]

    def server_pid(self) -> int:
        """The host pid of this session's ramp-mcp (found by its run id on the command line)."""
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if any(a.endswith(b"ramp-mcp") for a in argv) and self.run_id.encode() in argv:
                return int(entry.name)
        raise AssertionError(f"no ramp-mcp process serves {self.run_id}")


@contextmanager
def live_session(
    ledger_url: str, *, backend: str, sample: int | None = 6, agent: str = "trust-battery"
) -> Iterator[Session]:
    run_id, workspace = create_run(ledger_url, backend=backend, sample=sample, agent=agent)
    marker = f"RAMP_SERVER_SECRET_{os.urandom(8).hex()}"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "RAMP_TRUST_MARKER": marker}
    env |= {k: v for k, v in os.environ.items() if k in ("RAMP_HOME", "HOME")}
    params = StdioServerParameters(
        command=str(BIN / "ramp-mcp"), args=["--run", run_id, "--ledger", ledger_url], env=env
    )
    with start_blocking_portal() as portal, ExitStack() as stack:
        client = stack.enter_context(portal.wrap_async_context_manager(Client(params)))
        yield Session(run_id, workspace, ledger_url, backend, env, portal, client)


def raw_stdio_exchange(
    run_id: str, ledger_url: str, requests: list[str], *, wait_s: float = 10
) -> list[dict[str, Any] | None]:
    """Speak JSON-RPC to a fresh `ramp-mcp --run` by hand, one line per request (for
    messages the SDK's client refuses to send, like strings with lone surrogates). Each
    answer, or None when none came within ``wait_s``."""
    process = subprocess.Popen(
        [str(BIN / "ramp-mcp"), "--run", run_id, "--ledger", ledger_url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    hello = {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "raw", "version": "0"},
        },
    }
    answers: list[dict[str, Any] | None] = []
    try:
        for line in (json.dumps(hello), '{"jsonrpc":"2.0","method":"notifications/initialized"}'):
            process.stdin.write(line + "\n")
            process.stdin.flush()
        json.loads(process.stdout.readline())
        for request in requests:
            process.stdin.write(request + "\n")
            process.stdin.flush()
            ready, _, _ = io_select.select([process.stdout], [], [], wait_s)
            answers.append(json.loads(process.stdout.readline()) if ready else None)
    finally:
        process.stdin.close()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
    return answers
