"""The scripted agent as a campaign's ``python`` agent: the agent ``ramp demo`` drives, here
driven through ``ramp run``'s command-line agent path so a campaign trial is an ordinary run."""

from __future__ import annotations

import sys
from typing import Any

from ramp_mcp._scripted_agent import ScriptedAgentError, ScriptedAgentPlan, run_scripted_agent
from ramp_mcp.campaign._agent_call import AgentCall

__all__ = ["SCRIPTED_ENTRY", "scripted_agent"]

SCRIPTED_ENTRY = "ramp_mcp.campaign._scripted:scripted_agent"


async def scripted_agent(call: AgentCall, options: dict[str, Any]) -> int:
    """Do the job through ``call``'s MCP server with the plan in ``options``; exit status 1
    (and the reason on stderr) when a tool call the script relies on fails."""
    plan = ScriptedAgentPlan.model_validate(options)
    async with call.client() as client:
        try:
            result = await run_scripted_agent(client, plan)
        except ScriptedAgentError as exc:
            print(f"scripted agent: {exc}", file=sys.stderr)
            return 1
    stages = ", ".join(f"{s.stage.value}" for s in result.steps)
    print(f"scripted agent: {result.tool_calls} tool calls; stages {stages}")
    return 0
