"""``python -m ramp_mcp.campaign._agent_main module:function OPTIONS_JSON``: the agent
process of a ``python`` or ``scripted`` campaign agent (see ``_agent_call``)."""

from __future__ import annotations

import importlib
import inspect
import json
import sys
from typing import Any

import anyio

from ramp_mcp.campaign._agent_call import AgentCall

__all__ = ["main"]


def _resolve(entry: str) -> Any:
    module_name, _, function_name = entry.partition(":")
    return getattr(importlib.import_module(module_name), function_name)


def main(argv: list[str]) -> int:
    """``python -m ramp_mcp.campaign._agent_main module:function OPTIONS_JSON``."""
    if len(argv) != 2:
        print("usage: python -m ramp_mcp.campaign._agent_main module:function OPTIONS_JSON")
        return 2
    function = _resolve(argv[0])
    call, options = AgentCall.from_environment(), json.loads(argv[1])
    if inspect.iscoroutinefunction(function):
        result = anyio.run(function, call, options)
    else:
        result = function(call, options)
    return int(result) if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
