"""The scripted agent as a campaign's ``python`` agent: the agent ``ramp demo`` drives, here
driven through ``ramp run``'s command-line agent path so a campaign trial is an ordinary run."""

from __future__ import annotations

import random
import sys
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from golden import Stage
from ramp_mcp._scripted_agent import ScriptedAgentError, ScriptedAgentPlan, run_scripted_agent
from ramp_mcp.campaign._agent_call import AgentCall

__all__ = ["FLAKY_ENTRY", "SCRIPTED_ENTRY", "flaky_agent", "scripted_agent"]

SCRIPTED_ENTRY = "ramp_mcp.campaign._scripted:scripted_agent"
FLAKY_ENTRY = "ramp_mcp.campaign._scripted:flaky_agent"


class FlakyOptions(BaseModel):
    """A scripted agent that breaks ``stage`` in a share ``chance`` of its trials."""

    model_config = ConfigDict(extra="forbid")

    stage: Stage
    chance: float = Field(ge=0, le=1)


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


async def flaky_agent(call: AgentCall, options: dict[str, Any]) -> int:
    """The scripted agent, except that in a share ``chance`` of its trials (drawn afresh by
    each, unseeded) it breaks ``stage``: an agent whose results vary from trial to trial as
    a model's do, so a campaign's intervals and comparisons have noise to show."""
    flaky = FlakyOptions.model_validate(options)
    broken = random.SystemRandom().random() < flaky.chance
    print(f"flaky agent: {'breaks' if broken else 'keeps'} {flaky.stage.value}")
    plan = {"break_stage": flaky.stage.value} if broken else {}
    return await scripted_agent(call, plan)
