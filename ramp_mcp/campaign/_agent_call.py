"""The agent process of a ``python`` (or ``scripted``) campaign agent.

``ramp run`` starts an agent as a command line that finds its run through ``RAMP_*``
environment variables (docs/agents.md). For a Python entry point the campaign writes such a
command (:func:`agent_command`): ``ramp_mcp.campaign._agent_main`` run as a program, which reads those variables
into an :class:`AgentCall`, imports ``module:function`` and calls it with the call and the
agent's options. A function may be synchronous or a coroutine function.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from mcp import Client, StdioServerParameters
from pydantic import BaseModel, Field

__all__ = ["AgentCall", "agent_command"]


class AgentCall(BaseModel):
    """What an agent process knows of its run (from the ``RAMP_*`` environment)."""

    run_id: str
    mcp_config: Path = Field(description="an mcpServers JSON file with the run's server")
    prompt: str
    model: str | None = None
    budget_s: float | None = None
    usage_file: Path = Field(description="JSONL usage records written here are imported")

    @classmethod
    def from_environment(cls) -> AgentCall:
        env = os.environ
        budget = env.get("RAMP_BUDGET_S")
        return cls(
            run_id=env["RAMP_RUN_ID"],
            mcp_config=Path(env["RAMP_MCP_CONFIG"]),
            prompt=Path(env["RAMP_PROMPT_FILE"]).read_text(encoding="utf-8"),
            model=env.get("RAMP_MODEL"),
            budget_s=float(budget) if budget else None,
            usage_file=Path(env["RAMP_USAGE_FILE"]),
        )

    @asynccontextmanager
    async def client(self) -> AsyncIterator[Client]:
        """An MCP client connected to the run's server (stdio)."""
        config = json.loads(self.mcp_config.read_text(encoding="utf-8"))
        server = config["mcpServers"]["ramp"]
        if server.get("type", "stdio") != "stdio":
            raise RuntimeError("a python campaign agent reaches its run over stdio only")
        params = StdioServerParameters(
            command=server["command"], args=server["args"], env=server.get("env") or None
        )
        async with Client(params) as client:
            yield client


def agent_command(entry: str, options: dict[str, Any]) -> str:
    """The command line (for ``ramp run --agent``) that calls ``entry`` with ``options``."""
    return shlex.join(
        [sys.executable, "-m", "ramp_mcp.campaign._agent_main", entry, json.dumps(options)]
    )
