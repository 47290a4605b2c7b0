"""A campaign ``python`` agent for the tests: it writes a note through MCP and asks for the
status, then stops (no stage is built, so nothing is graded)."""

from __future__ import annotations

from typing import Any

from ramp_mcp.campaign import AgentCall


async def write_note(call: AgentCall, options: dict[str, Any]) -> int:
    async with call.client() as client:
        written = await client.call_tool(
            "write_file", {"path": "notes/campaign.txt", "content": options["text"]}
        )
        status = await client.call_tool("status", {})
    return 1 if written.is_error or status.is_error else 0
