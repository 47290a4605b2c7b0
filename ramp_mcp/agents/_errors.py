"""What can go wrong launching an agent against a run."""

from __future__ import annotations

from toolchain import RampError

__all__ = ["AgentConfigError", "AgentError", "AgentLaunchError", "AgentNotFoundError"]


class AgentError(RampError):
    """Running an agent CLI against a RAMP run failed."""


class AgentNotFoundError(AgentError):
    """The agent's program is not installed (the message says how to install it)."""


class AgentConfigError(AgentError):
    """The agent's configuration could not be written or read (e.g. a malformed user file)."""


class AgentLaunchError(AgentError):
    """The agent, or the MCP server it needs, could not be started."""
