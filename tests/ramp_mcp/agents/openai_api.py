"""A scripted endpoint speaking the OpenAI Responses API with streaming (what Codex uses).

A request that offers RAMP's tools gets the script: one function call per response, then
the final message; anything else gets a short text. ``response.completed`` reports usage
with cached input and reasoning tokens, numbered per response.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.ramp_mcp.agents.scripted import Call, ScriptedEndpoint, Served, Usage, exposed_name

__all__ = ["ScriptedResponses"]


def _offered(tools: list[Any]) -> dict[str, str | None]:
    """Function names the request offers, each with its namespace (Codex puts an MCP
    server's tools in a ``namespace`` tool named ``mcp__<server>``)."""
    offered: dict[str, str | None] = {}
    for tool in tools:
        if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
            continue
        if tool.get("type") == "namespace":
            for inner in tool.get("tools") or []:
                if isinstance(inner, dict) and isinstance(inner.get("name"), str):
                    offered[f"{tool['name']}__{inner['name']}"] = tool["name"]
        else:
            offered[tool["name"]] = None
    return offered


class ScriptedResponses(ScriptedEndpoint):
    def __init__(self, script: list[Call], *, final_text: str = "All done.") -> None:
        super().__init__(script, final_text=final_text, usage_base=900)

    def handle(self, method: str, path: str, body: Any) -> tuple[int, dict[str, str], bytes]:
        route = path.split("?", 1)[0]
        if method == "POST" and route.endswith("/responses") and isinstance(body, dict):
            return self._respond(body)
        if method == "GET" and route.endswith("/models"):
            listing = {"object": "list", "data": [{"id": "gpt-scripted", "object": "model"}]}
            return 200, {"Content-Type": "application/json"}, json.dumps(listing).encode()
        error = {"error": {"type": "not_found", "message": f"no {method} {route} here"}}
        return 404, {"Content-Type": "application/json"}, json.dumps(error).encode()

    def _respond(self, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        offered = _offered(body.get("tools") or [])
        names = list(offered)
        for call in self.script:
            found = exposed_name(call.tool, names)
            if found is not None:
                self.exchange.tool_names[call.tool] = found
        main_loop = any(exposed_name(c.tool, names) for c in self.script)
        done: set[str] = set()
        outputs: list[str] = []
        for entry in body.get("input") or []:
            if not isinstance(entry, dict):
                continue
            if entry.get("type") == "function_call":
                done.add(str(entry.get("call_id")))
            elif entry.get("type") == "function_call_output":
                outputs.append(f"{entry.get('call_id')}: {entry.get('output')}")
        if main_loop:
            self.exchange.tool_results[:] = outputs
        item: dict[str, Any] = _message(self.final_text if main_loop else "RAMP compiler run")
        tool: str | None = None
        if main_loop:
            for index, call in enumerate(self.script):
                call_id = f"call_ramp_{index:02d}"
                if call_id in done:
                    continue
                name = exposed_name(call.tool, names)
                if name is None:
                    item = _message(f"the tool {call.tool} is not offered: {names}")
                    break
                namespace = offered[name]
                item = {
                    "type": "function_call",
                    "id": f"fc_{uuid.uuid4().hex[:16]}",
                    "call_id": call_id,
                    "name": name if namespace is None else name[len(namespace) + 2 :],
                    "arguments": json.dumps(call.arguments),
                    "status": "completed",
                }
                if namespace is not None:
                    item["namespace"] = namespace
                tool = call.tool
                break
        usage = self.next_usage(main_loop=main_loop)
        response_id = f"resp_{uuid.uuid4().hex[:24]}"
        self.record(Served(message_id=response_id, main_loop=main_loop, usage=usage, tool=tool))
        model = str(body.get("model") or "gpt-scripted")
        return 200, {"Content-Type": "text/event-stream"}, _stream(response_id, model, item, usage)


def _message(text: str) -> dict[str, Any]:
    return {
        "type": "message",
        "id": f"msg_{uuid.uuid4().hex[:16]}",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }


def _stream(response_id: str, model: str, item: dict[str, Any], usage: Usage) -> bytes:
    shell = {"id": response_id, "object": "response", "model": model, "status": "in_progress"}
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": {**shell, "output": []}},
        {"type": "response.output_item.added", "output_index": 0, "item": item},
    ]
    if item["type"] == "message":
        text = item["content"][0]["text"]
        for start in range(0, len(text), 12):
            events.append(
                {
                    "type": "response.output_text.delta",
                    "item_id": item["id"],
                    "output_index": 0,
                    "content_index": 0,
                    "delta": text[start : start + 12],
                }
            )
    events.append({"type": "response.output_item.done", "output_index": 0, "item": item})
    cached = usage.cache_read_input_tokens
    events.append(
        {
            "type": "response.completed",
            "response": {
                **shell,
                "status": "completed",
                "output": [item],
                "usage": {
                    # OpenAI's split: input includes the cached part.
                    "input_tokens": usage.input_tokens + cached,
                    "input_tokens_details": {"cached_tokens": cached},
                    "output_tokens": usage.output_tokens,
                    "output_tokens_details": {"reasoning_tokens": usage.reasoning_output_tokens},
                    "total_tokens": usage.input_tokens + cached + usage.output_tokens,
                },
            },
        }
    )
    return b"".join(
        f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode() for event in events
    )
