"""A tiny agent program for `ramp run --agent "python command_agent.py ..."`.

It finds the run the documented way (RAMP_* environment variables), connects with the real
MCP client over HTTP (RAMP_MCP_URL + RAMP_MCP_TOKEN) or stdio (RAMP_MCP_CONFIG), writes a
file, asks for the status, and writes one usage record to RAMP_USAGE_FILE. With ``sleep``
it connects and then sleeps, to be stopped by the time budget.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import anyio
import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client


async def _work(client: Client, mode: str) -> None:
    prompt = Path(os.environ["RAMP_PROMPT_FILE"]).read_text(encoding="utf-8")
    assert "SysY" in prompt, prompt[:200]
    written = await client.call_tool(
        "write_file", {"path": "notes/from-command.txt", "content": os.environ["RAMP_RUN_ID"]}
    )
    assert not written.is_error, written
    status = await client.call_tool("status", {})
    assert not status.is_error, status
    if mode == "sleep":
        print("connected; sleeping", flush=True)
        time.sleep(600)


async def main(mode: str) -> None:
    url = os.environ.get("RAMP_MCP_URL")
    if url:
        headers = {"Authorization": f"Bearer {os.environ['RAMP_MCP_TOKEN']}"}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=120)) as http,
            Client(streamable_http_client(url, http_client=http)) as client,
        ):
            await _work(client, mode)
    else:
        config = json.loads(Path(os.environ["RAMP_MCP_CONFIG"]).read_text(encoding="utf-8"))
        server = config["mcpServers"]["ramp"]
        params = StdioServerParameters(
            command=server["command"], args=server["args"], env=server["env"]
        )
        async with Client(params) as client:
            await _work(client, mode)
    record = {
        "id": "command-agent-1",
        "at": datetime.now(UTC).isoformat(),
        "model": "command-model",
        "provider": "test",
        "input_tokens": 700,
        "cached_input_tokens": 500,
        "output_tokens": 42,
    }
    Path(os.environ["RAMP_USAGE_FILE"]).write_text(json.dumps(record) + "\n", encoding="utf-8")


if __name__ == "__main__":
    anyio.run(main, sys.argv[1] if len(sys.argv) > 1 else "work")
