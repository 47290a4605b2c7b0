"""Real agent CLIs against a RAMP run: launchers by name (``claude-code``, ``codex``, or any
command line), their per-run MCP configuration and the time limit (docs/agents.md).

The whole ``ramp run --agent`` sequence is in ``ramp_mcp.agents._session``; it builds on
:mod:`ramp_mcp.harness`, which builds on this package, so it is not imported here.
"""

from __future__ import annotations

from ramp_mcp.agents._endpoint import (
    HttpEndpoint,
    HttpServer,
    McpEndpoint,
    StdioEndpoint,
    codex_server_table,
    mcp_servers_json,
)
from ramp_mcp.agents._errors import (
    AgentConfigError,
    AgentError,
    AgentLaunchError,
    AgentNotFoundError,
)
from ramp_mcp.agents._launchers import (
    AGENTS,
    AgentContext,
    AgentLauncher,
    ClaudeCodeLauncher,
    CodexLauncher,
    CommandLauncher,
    LaunchPlan,
    TranscriptSource,
    launcher_for,
)
from ramp_mcp.agents._process import AgentExit, run_agent_process

__all__ = [
    "AGENTS",
    "AgentConfigError",
    "AgentContext",
    "AgentError",
    "AgentExit",
    "AgentLaunchError",
    "AgentLauncher",
    "AgentNotFoundError",
    "ClaudeCodeLauncher",
    "CodexLauncher",
    "CommandLauncher",
    "HttpEndpoint",
    "HttpServer",
    "LaunchPlan",
    "McpEndpoint",
    "StdioEndpoint",
    "TranscriptSource",
    "codex_server_table",
    "launcher_for",
    "mcp_servers_json",
    "run_agent_process",
]
