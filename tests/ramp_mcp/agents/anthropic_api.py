"""A scripted endpoint speaking the Anthropic Messages API (streaming SSE and plain JSON).

The main loop (a request that offers RAMP's tools, or the tool search that reveals them)
gets the script: one tool call per response, then the final text. Anything else Claude
Code asks at start (a title, a quota probe, count_tokens) gets a short sensible answer.
Each response reports usage with the cache fields, numbered so that the transcript import
can be checked response by response.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.ramp_mcp.agents.scripted import Call, ScriptedEndpoint, Served, Usage, exposed_name

__all__ = ["ScriptedAnthropic"]

_TOOL_SEARCH = "ToolSearch"


def _sse(events: list[dict[str, Any]]) -> bytes:
    return b"".join(
        f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode() for event in events
    )


def _tool_ids(messages: list[Any]) -> tuple[set[str], list[dict[str, Any]]]:
    """Ids of the tool calls already in the conversation, and the tool results in it."""
    ids: set[str] = set()
    results: list[dict[str, Any]] = []
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            continue
        for block in content:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "tool_use":
                ids.add(str(block.get("id")))
            elif block.get("type") == "tool_result":
                results.append(block)
    return ids, results


def _result_text(block: dict[str, Any]) -> str:
    content = block.get("content")
    if isinstance(content, list):
        parts = [str(c.get("text", c)) if isinstance(c, dict) else str(c) for c in content]
        content = " ".join(parts)
    return f"{'ERROR ' if block.get('is_error') else ''}{block.get('tool_use_id')}: {content}"


class ScriptedAnthropic(ScriptedEndpoint):
    def __init__(self, script: list[Call], *, final_text: str = "All done.") -> None:
        super().__init__(script, final_text=final_text, usage_base=1200)

    def handle(self, method: str, path: str, body: Any) -> tuple[int, dict[str, str], bytes]:
        route = path.split("?", 1)[0]
        if method == "POST" and route.endswith("/v1/messages/count_tokens"):
            return 200, {"Content-Type": "application/json"}, b'{"input_tokens": 321}'
        if method == "POST" and route.endswith("/v1/messages") and isinstance(body, dict):
            return self._messages(body)
        error = {
            "type": "error",
            "error": {"type": "not_found_error", "message": f"no {method} {route} here"},
        }
        return 404, {"Content-Type": "application/json"}, json.dumps(error).encode()

    def _messages(self, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        tools = [t.get("name") for t in body.get("tools") or [] if isinstance(t, dict)]
        names = [str(n) for n in tools if n]
        for call in self.script:
            found = exposed_name(call.tool, names)
            if found is not None:
                self.exchange.tool_names[call.tool] = found
        main_loop = _TOOL_SEARCH in names or any(exposed_name(c.tool, names) for c in self.script)
        blocks: list[dict[str, Any]]
        tool: str | None = None
        if not main_loop:
            blocks = [{"type": "text", "text": "RAMP compiler run"}]
        else:
            done, results = _tool_ids(body.get("messages") or [])
            self.exchange.tool_results[:] = [_result_text(r) for r in results]
            blocks = [{"type": "text", "text": self.final_text}]
            for index, call in enumerate(self.script):
                call_id = f"toolu_ramp_{index:02d}"
                if call_id in done:
                    continue
                name = exposed_name(call.tool, names)
                if name is not None:
                    # Two content blocks: Claude Code writes one transcript line per block,
                    # both with the response's usage, which the import must count once.
                    blocks = [
                        {"type": "text", "text": f"Next: {call.tool}."},
                        {"type": "tool_use", "id": call_id, "name": name, "input": call.arguments},
                    ]
                    tool = call.tool
                elif _TOOL_SEARCH in names and f"toolu_search_{index:02d}" not in done:
                    blocks = [
                        {
                            "type": "tool_use",
                            "id": f"toolu_search_{index:02d}",
                            "name": _TOOL_SEARCH,
                            "input": {"query": f"select:mcp__ramp__{call.tool}", "max_results": 5},
                        }
                    ]
                    tool = _TOOL_SEARCH
                else:
                    blocks = [
                        {"type": "text", "text": f"the tool {call.tool} is not offered: {names}"}
                    ]
                break
        usage = self.next_usage(main_loop=main_loop)
        message_id = f"msg_{uuid.uuid4().hex[:24]}"
        self.record(Served(message_id=message_id, main_loop=main_loop, usage=usage, tool=tool))
        model = str(body.get("model") or "claude-scripted")
        stop = "tool_use" if blocks[-1]["type"] == "tool_use" else "end_turn"
        if body.get("stream"):
            return (
                200,
                {"Content-Type": "text/event-stream"},
                _stream(message_id, model, blocks, stop, usage),
            )
        message = {
            "id": message_id,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": blocks,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": _usage(usage, usage.output_tokens),
        }
        return 200, {"Content-Type": "application/json"}, json.dumps(message).encode()


def _usage(usage: Usage, output_tokens: int) -> dict[str, Any]:
    return {
        "input_tokens": usage.input_tokens,
        "cache_creation_input_tokens": usage.cache_creation_input_tokens,
        "cache_read_input_tokens": usage.cache_read_input_tokens,
        "output_tokens": output_tokens,
        "service_tier": "standard",
    }


def _stream(
    message_id: str, model: str, blocks: list[dict[str, Any]], stop: str, usage: Usage
) -> bytes:
    events: list[dict[str, Any]] = [
        {
            "type": "message_start",
            "message": {
                "id": message_id,
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                # As the real API does: the start carries a provisional output count.
                "usage": _usage(usage, 1),
            },
        },
        {"type": "ping"},
    ]
    for index, block in enumerate(blocks):
        if block["type"] == "text":
            events.append(
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {"type": "text", "text": ""},
                }
            )
            text = block["text"]
            for start in range(0, len(text), 12):
                events.append(
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "text_delta", "text": text[start : start + 12]},
                    }
                )
        else:
            events.append(
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {
                        "type": "tool_use",
                        "id": block["id"],
                        "name": block["name"],
                        "input": {},
                    },
                }
            )
            arguments = json.dumps(block["input"])
            for start in range(0, len(arguments), 40):
                events.append(
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {
                            "type": "input_json_delta",
                            "partial_json": arguments[start : start + 40],
                        },
                    }
                )
        events.append({"type": "content_block_stop", "index": index})
    events.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop, "stop_sequence": None},
            "usage": {"output_tokens": usage.output_tokens},
        }
    )
    events.append({"type": "message_stop"})
    return _sse(events)
