"""What the scripted model endpoints share: a script of tool calls, a log of every request
and of every response with the token usage it reported, and a local HTTP server.

The endpoints stand in for a paid model API (nothing else here is mocked): the agent CLI
under test speaks its real wire protocol to them and runs its real MCP client against
`ramp-mcp`. Every request is logged so a failing test shows what the CLI sent.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["Call", "Exchange", "Logged", "ScriptedEndpoint", "Served", "Usage"]


@dataclass(frozen=True)
class Call:
    """One tool call the scripted model makes: a RAMP tool by its bare name."""

    tool: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class Usage:
    """Token counts one response reports (Anthropic's split: input excludes the cache)."""

    input_tokens: int
    output_tokens: int
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0
    reasoning_output_tokens: int = 0


@dataclass(frozen=True)
class Served:
    """One model response the endpoint sent."""

    message_id: str
    main_loop: bool
    usage: Usage
    tool: str | None


@dataclass(frozen=True)
class Logged:
    method: str
    path: str
    body: Any


@dataclass
class Exchange:
    """Everything that went over the wire, for the test's assertions and its failure text."""

    requests: list[Logged] = field(default_factory=list)
    served: list[Served] = field(default_factory=list)
    tool_names: dict[str, str] = field(default_factory=dict)  # bare RAMP name -> as exposed
    tool_results: list[str] = field(default_factory=list)

    def describe(self) -> str:
        lines = [f"{len(self.requests)} request(s):"]
        for logged in self.requests:
            body = logged.body
            summary = ""
            if isinstance(body, dict):
                tools = [t.get("name") for t in body.get("tools") or [] if isinstance(t, dict)]
                summary = (
                    f" model={body.get('model')} stream={body.get('stream')} "
                    f"messages={len(body.get('messages') or body.get('input') or [])} "
                    f"tools={tools[:40]}"
                )
            lines.append(f"  {logged.method} {logged.path}{summary}")
        lines.append(f"served: {[(s.message_id, s.tool, s.main_loop) for s in self.served]}")
        lines.append(f"tool results: {[r[:300] for r in self.tool_results]}")
        return "\n".join(lines)


def exposed_name(bare: str, names: list[str]) -> str | None:
    """How the CLI exposes RAMP's ``bare`` tool (``mcp__ramp__write_file`` and the like)."""
    for name in names:
        if name == bare or (name.endswith(f"__{bare}") and "ramp" in name):
            return name
    return None


class ScriptedEndpoint:
    """A scripted model API on 127.0.0.1; subclasses answer the requests."""

    def __init__(self, script: list[Call], *, final_text: str, usage_base: int) -> None:
        self.script = script
        self.final_text = final_text
        self.usage_base = usage_base
        self.exchange = Exchange()
        self._lock = threading.Lock()

    # -- for subclasses ----------------------------------------------------------------------

    def handle(self, method: str, path: str, body: Any) -> tuple[int, dict[str, str], bytes]:
        raise NotImplementedError

    def next_usage(self, *, main_loop: bool) -> Usage:
        """Distinct numbers per response, so a lost, doubled or mixed-up one shows."""
        n = len(self.exchange.served)
        if not main_loop:
            return Usage(input_tokens=11 + n, output_tokens=3)
        base = self.usage_base
        return Usage(
            input_tokens=base + 17 * n,
            output_tokens=40 + 3 * n,
            cache_read_input_tokens=10 * base + 101 * n,
            cache_creation_input_tokens=base // 2 + 7 * n,
            reasoning_output_tokens=5 + n,
        )

    def record(self, served: Served) -> None:
        with self._lock:
            self.exchange.served.append(served)

    # -- the server --------------------------------------------------------------------------

    @contextmanager
    def serving(self) -> Iterator[str]:
        """Serve until the block ends; yields the base URL (``http://127.0.0.1:PORT``)."""
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body: Any = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode(errors="replace")
                with endpoint._lock:
                    endpoint.exchange.requests.append(Logged(self.command, self.path, body))
                status, headers, payload = endpoint.handle(self.command, self.path, body)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = _answer
            do_POST = _answer
            do_HEAD = _answer

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                # A client that exits drops its idle keep-alive connection: not an error.
                if not isinstance(sys.exc_info()[1], ConnectionError):
                    super().handle_error(request, client_address)

        server = Server(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=10)
