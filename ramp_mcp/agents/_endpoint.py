"""How an agent reaches a run's MCP server: a stdio command, or an HTTP URL with a token.

Both come out as the configuration the common clients read (Claude Code's ``mcpServers``
JSON, Codex's ``[mcp_servers.NAME]`` table). The HTTP transport is one ``ramp-mcp --http``
process (:class:`HttpServer`) that serves every run of a ledger; the bearer token picks
the run.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ramp_mcp.agents._errors import AgentLaunchError
from toolchain import Closing

__all__ = [
    "SERVER_NAME",
    "TOKEN_ENV",
    "HttpEndpoint",
    "HttpServer",
    "McpEndpoint",
    "StdioEndpoint",
    "codex_server_table",
    "mcp_servers_json",
    "ramp_mcp_program",
    "server_environment",
]

SERVER_NAME = "ramp"
TOKEN_ENV = "RAMP_MCP_TOKEN"
# What a server started by an agent CLI needs from our environment; Codex, for one, starts
# MCP servers with a short allow-list of variables, so these are passed explicitly.
_PASSED_THROUGH = ("RAMP_HOME", "DOCKER_HOST", "DOCKER_CONFIG", "XDG_DATA_HOME")


def ramp_mcp_program() -> str:
    """The ``ramp-mcp`` next to this Python (a virtualenv's), else the one on PATH."""
    beside = Path(sys.executable).parent / "ramp-mcp"
    return str(beside) if beside.is_file() else "ramp-mcp"


def server_environment(ledger_url: str) -> dict[str, str]:
    """The environment ``ramp-mcp`` needs to find the run's ledger and sandboxes.

    The ledger URL goes in the environment rather than on the command line: a PostgreSQL
    URL may hold a password, and command lines are world-readable in ``ps``.
    """
    env = {"RAMP_LEDGER_URL": ledger_url}
    for name in _PASSED_THROUGH:
        value = os.environ.get(name)
        if value:
            env[name] = value
    return env


class StdioEndpoint(BaseModel):
    """Start ``command args`` (with ``env`` added) and speak MCP over its stdin/stdout."""

    model_config = ConfigDict(frozen=True)

    transport: Literal["stdio"] = "stdio"
    command: str
    args: list[str]
    env: dict[str, str] = Field(default_factory=dict, repr=False)

    @property
    def argv(self) -> list[str]:
        return [self.command, *self.args]


class HttpEndpoint(BaseModel):
    """Streamable HTTP at ``url``; every request carries ``Authorization: Bearer <token>``."""

    model_config = ConfigDict(frozen=True)

    transport: Literal["http"] = "http"
    url: str
    token: str = Field(repr=False)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


McpEndpoint = Annotated[StdioEndpoint | HttpEndpoint, Field(discriminator="transport")]


def mcp_servers_json(endpoint: StdioEndpoint | HttpEndpoint) -> dict[str, Any]:
    """``{"mcpServers": {"ramp": ...}}``: Claude Code's ``--mcp-config`` format, which many
    other clients read too."""
    entry: dict[str, Any]
    if isinstance(endpoint, StdioEndpoint):
        entry = {
            "type": "stdio",
            "command": endpoint.command,
            "args": list(endpoint.args),
            "env": dict(endpoint.env),
        }
    else:
        entry = {"type": "http", "url": endpoint.url, "headers": endpoint.headers}
    return {"mcpServers": {SERVER_NAME: entry}}


def codex_server_table(endpoint: StdioEndpoint | HttpEndpoint) -> dict[str, Any]:
    """The ``[mcp_servers.ramp]`` table of a Codex ``config.toml``.

    ``required`` makes Codex wait for the server before the first model request (without
    it the first request can go out before the tools are listed); ``approve`` lets the
    tools run without an approval prompt nobody is there to answer. The HTTP token is
    read from ``$RAMP_MCP_TOKEN``, so it is never written into the file.
    """
    table: dict[str, Any]
    if isinstance(endpoint, StdioEndpoint):
        table = {"command": endpoint.command, "args": list(endpoint.args), "env": endpoint.env}
    else:
        table = {"url": endpoint.url, "bearer_token_env_var": TOKEN_ENV}
    table.update(
        {
            "startup_timeout_sec": 120,
            "tool_timeout_sec": 3600,
            "required": True,
            "default_tools_approval_mode": "approve",
        }
    )
    return table


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class HttpServer(Closing):
    """``ramp-mcp --http`` in a child process on ``host:port`` (a free port by default),
    serving every run of the ledger at ``ledger_url`` until :meth:`close`."""

    def __init__(
        self,
        ledger_url: str,
        *,
        log: Path,
        host: str = "127.0.0.1",
        port: int | None = None,
        start_timeout_s: float = 60,
    ) -> None:
        self.host = host
        self.port = port or _free_port(host)
        self.url = f"http://{host}:{self.port}/mcp"
        self.log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **server_environment(ledger_url)}
        argv = [ramp_mcp_program(), "--http", "--host", host, "--port", str(self.port)]
        try:
            with log.open("ab") as sink:
                self.process = subprocess.Popen(
                    argv, stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
                )
        except OSError as exc:
            raise AgentLaunchError(
                f"cannot start {argv[0]}: {exc}; is RAMP installed in this environment?"
            ) from exc
        self._wait_listening(start_timeout_s)

    def _wait_listening(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with socket.create_connection((self.host, self.port), timeout=1):
                    return
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.close()
                tail = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
                raise AgentLaunchError(
                    f"ramp-mcp --http did not start listening on {self.host}:{self.port} "
                    f"(see {self.log}): {tail.strip() or 'no output'}"
                )
            time.sleep(0.2)

    def endpoint(self, token: str) -> HttpEndpoint:
        return HttpEndpoint(url=self.url, token=token)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=20)
