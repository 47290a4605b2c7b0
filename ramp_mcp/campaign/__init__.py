"""Campaigns: many agents x models x k trials from one TOML file, run concurrently on an
executor, resumable, every trial and attempt recorded in the ledger (issue 18).

A trial is one ``ramp run --agent`` (the same Python API); an attempt whose infrastructure
failed is retried and never charged to the model. ``ramp campaign run FILE``, ``ramp
campaign status NAME`` and ``ramp campaign report NAME`` are :data:`campaign_group`'s
commands.
"""

from ramp_mcp.campaign._agent_call import AgentCall, agent_command
from ramp_mcp.campaign._cli import campaign_group
from ramp_mcp.campaign._driver import driver_alive, driver_id, run_campaign
from ramp_mcp.campaign._errors import CampaignError, CampaignSpecError
from ramp_mcp.campaign._executor import TRIAL_MEMORY_GIB, Executor, LocalExecutor, local_slots
from ramp_mcp.campaign._ray import RAY_RESOURCE, RayExecutor, collected_dir
from ramp_mcp.campaign._report_cli import campaign_report_from_ledger
from ramp_mcp.campaign._scripted import FLAKY_ENTRY, SCRIPTED_ENTRY, flaky_agent, scripted_agent
from ramp_mcp.campaign._spec import (
    AgentSpec,
    CampaignSpec,
    ClaudeCodeAgent,
    CodexAgent,
    CommandAgent,
    ExecutorSpec,
    PythonAgent,
    ScriptedAgent,
    load_campaign,
    parse_campaign,
)
from ramp_mcp.campaign._status import CampaignStatus, TrialView, campaign_status
from ramp_mcp.campaign._trial import AttemptResult, AttemptTask, agent_argument, run_attempt

__all__ = [
    "FLAKY_ENTRY",
    "RAY_RESOURCE",
    "SCRIPTED_ENTRY",
    "TRIAL_MEMORY_GIB",
    "AgentCall",
    "AgentSpec",
    "AttemptResult",
    "AttemptTask",
    "CampaignError",
    "CampaignSpec",
    "CampaignSpecError",
    "CampaignStatus",
    "ClaudeCodeAgent",
    "CodexAgent",
    "CommandAgent",
    "Executor",
    "ExecutorSpec",
    "LocalExecutor",
    "PythonAgent",
    "RayExecutor",
    "ScriptedAgent",
    "TrialView",
    "agent_argument",
    "agent_command",
    "campaign_group",
    "campaign_report_from_ledger",
    "campaign_status",
    "collected_dir",
    "driver_alive",
    "driver_id",
    "flaky_agent",
    "load_campaign",
    "local_slots",
    "parse_campaign",
    "run_attempt",
    "run_campaign",
    "scripted_agent",
]
