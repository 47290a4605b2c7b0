"""What the agent touches: the MCP server, the harness API and the scripted reference agent.

The package's public face. A harness drives runs through :class:`Ramp` (also in
``ramp_mcp.harness``, the module documented in docs/harness-api.md); a program that embeds
the server builds it with :func:`build_server`; the CLIs (``ramp``, ``ramp-mcp``) are
entry points, not imports.
"""

from ramp_mcp._runs import ServerSettings
from ramp_mcp._scripted_agent import (
    ScriptedAgentError,
    ScriptedAgentPlan,
    ScriptedAgentResult,
    run_scripted_agent,
)
from ramp_mcp._server import TOOL_NAMES, build_server
from ramp_mcp.harness import HttpEndpoint, Ramp, RampRun, StdioEndpoint, UsageRecord

__all__ = [
    "TOOL_NAMES",
    "HttpEndpoint",
    "Ramp",
    "RampRun",
    "ScriptedAgentError",
    "ScriptedAgentPlan",
    "ScriptedAgentResult",
    "ServerSettings",
    "StdioEndpoint",
    "UsageRecord",
    "build_server",
    "run_scripted_agent",
]
