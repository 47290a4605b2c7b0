"""Small transcripts in the real formats (Claude Code, Codex, RAMP's generic JSONL), written
line by line as the agents write them (shared/reference/mcp-and-agents.md C.3..C.5)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from grader.ledger import Ledger, Run

SESSION = "3f1c9b7e-0d4a-4c55-9a43-1b2c3d4e5f60"


def new_run(ledger: Ledger, agent: str, model: str) -> Run:
    """A run of ``agent`` with ``model`` for transcripts to be imported into."""
    return ledger.create_run(
        agent=agent, model=model, workspace="/tmp/ws", sandbox="bwrap", golden_key="g"
    )


def write_jsonl(path: Path, lines: Sequence[Mapping[str, object] | str]) -> Path:
    """One JSON object per line; a str is written verbatim (a broken line)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for line in lines:
            out.write((line if isinstance(line, str) else json.dumps(dict(line))) + "\n")
    return path


def _claude_envelope(kind: str, uuid: str, at: str, session: str) -> dict[str, Any]:
    """The fields every line of a Claude Code transcript opens with."""
    return {
        "parentUuid": None,
        "isSidechain": False,
        "userType": "external",
        "cwd": "/app",
        "sessionId": session,
        "version": "2.1.332",
        "type": kind,
        "uuid": uuid,
        "timestamp": at,
    }


def claude_user(
    uuid: str, at: str, text: str = "go on", *, session: str = SESSION
) -> dict[str, Any]:
    return {
        **_claude_envelope("user", uuid, at, session),
        "message": {"role": "user", "content": [{"type": "text", "text": text}]},
    }


def claude_assistant(
    message_id: str,
    *,
    uuid: str,
    at: str,
    uncached: int,
    output: int,
    cache_read: int = 0,
    cache_write: int = 0,
    model: str = "claude-opus-4-7",
    block: dict[str, Any] | None = None,
    session: str = SESSION,
    cost: float | None = None,
    sidechain: bool = False,
    agent_id: str | None = None,
    stop_reason: str | None = "tool_use",
) -> dict[str, Any]:
    """One line of a response: Claude Code writes one per content block, same message id."""
    line: dict[str, Any] = {
        "parentUuid": None,
        "isSidechain": sidechain,
        "userType": "external",
        "cwd": "/app",
        "sessionId": session,
        "version": "2.1.332",
        "gitBranch": "",
        "type": "assistant",
        "uuid": uuid,
        "timestamp": at,
        "requestId": f"req_{message_id}",
        "message": {
            "id": message_id,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [block or {"type": "text", "text": "working on it"}],
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": {
                "input_tokens": uncached,
                "cache_creation_input_tokens": cache_write,
                "cache_read_input_tokens": cache_read,
                "output_tokens": output,
                "service_tier": "standard",
            },
        },
    }
    if agent_id is not None:
        line["agentId"] = agent_id
    if cost is not None:
        line["costUSD"] = cost
    return line


def claude_api_error(
    uuid: str, at: str, text: str, *, session: str = SESSION, flagged: bool = True
) -> dict[str, Any]:
    """The synthetic assistant line Claude Code writes when an API call fails (``flagged``
    False: a synthetic note that is no error, such as "No response requested.")."""
    return {
        **_claude_envelope("assistant", uuid, at, session),
        "message": {
            "id": uuid,
            "model": "<synthetic>",
            "role": "assistant",
            "stop_reason": "stop_sequence",
            "stop_sequence": "",
            "type": "message",
            "usage": {
                "input_tokens": 0,
                "output_tokens": 0,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
            },
            "content": [{"type": "text", "text": text}],
        },
        "isApiErrorMessage": flagged,
    }


def codex_line(at: str, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {"timestamp": at, "type": kind, "payload": payload}


def codex_usage(input_tokens: int, cached: int, output: int, reasoning: int) -> dict[str, int]:
    return {
        "input_tokens": input_tokens,
        "cached_input_tokens": cached,
        "output_tokens": output,
        "reasoning_output_tokens": reasoning,
        "total_tokens": input_tokens + output,
    }


def codex_token_count(
    at: str, total: dict[str, int] | None, last: dict[str, int] | None, window: int = 272000
) -> dict[str, Any]:
    info = None
    if total is not None or last is not None:
        info = {
            "total_token_usage": total,
            "last_token_usage": last,
            "model_context_window": window,
        }
    return codex_line(
        at,
        "event_msg",
        {"type": "token_count", "info": info, "rate_limits": {"primary": None, "secondary": None}},
    )
