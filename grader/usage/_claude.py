"""Claude Code transcripts (``~/.claude/projects/<cwd>/<session>.jsonl``, subagents under
``<session>/subagents/``) and ``claude -p --output-format stream-json`` output.

One API response is written as several lines (one per content block) sharing
``message.id``: it is stored once, with the largest output count its lines carry.
Anthropic's ``input_tokens`` is the uncached part only; the ledger's ``input_tokens`` is the
whole prompt (uncached + cache reads + cache writes), as OTel defines it. Synthetic
assistant lines (``isApiErrorMessage``, model ``<synthetic>``), ``system`` error lines and
failed ``result`` lines become error records; a ``result`` line's reported cost becomes a
cost record for its session.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from grader.ledger import Ledger
from grader.usage._api_errors import classify_error, excerpt
from grader.usage._models import ErrorClass, ImportReport
from grader.usage._store import ImportSession, file_time, import_files, parse_time, read_jsonl

__all__ = ["SOURCE", "import_claude_code"]

SOURCE: Final = "claude_jsonl"
_PROVIDER: Final = "anthropic"
_USAGE_FIELDS: Final = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
)
_FIX_USAGE: Final = (
    "message.usage holds non-negative integers in a Claude Code transcript; the line may "
    "have been edited or written by another tool"
)


def import_claude_code(ledger: Ledger, run_id: str, path: Path) -> ImportReport:
    """Import a Claude Code transcript, or every ``*.jsonl`` under a directory (subagent
    transcripts included), into run ``run_id``."""
    return import_files(ledger, run_id, path, "claude-code", _import_file)


def _import_file(session: ImportSession, file: Path) -> None:
    fallback = file_time(file)
    last_at: datetime | None = None
    for number, line in read_jsonl(file, session):
        at = parse_time(line.get("timestamp"))
        if at is None and line.get("timestamp") is not None:
            session.problem(
                file,
                number,
                f"timestamp {line.get('timestamp')!r} is not an ISO-8601 time with a zone",
                "used the previous line's time; Claude Code writes e.g. 2026-11-25T10:00:00.000Z",
            )
        at = at or last_at or fallback
        last_at = at
        kind = line.get("type")
        if kind == "assistant":
            _assistant(session, file, number, line, at)
        elif kind == "result":
            _result(session, line, at)
        elif kind == "system" and (
            line.get("level") == "error" or "error" in str(line.get("subtype"))
        ):
            _error(
                session,
                at,
                key=f"system:{_line_id(line)}",
                error=classify_error(
                    str(line.get("subtype")), _text(line.get("content")), _text(line.get("error"))
                ),
                detail=_text(line.get("content"))
                or _text(line.get("error"))
                or str(line.get("subtype")),
                conversation=_session_id(line),
                model=None,
            )


def _assistant(
    session: ImportSession, file: Path, number: int, line: dict[str, Any], at: datetime
) -> None:
    message = line.get("message")
    if not isinstance(message, dict):
        session.problem(file, number, "an assistant line without a 'message' object", _FIX_USAGE)
        return
    model = message.get("model") if isinstance(message.get("model"), str) else None
    conversation = _session_id(line)
    if line.get("isApiErrorMessage") is True or model == "<synthetic>":
        # Synthetic lines are Claude Code's own words, not a model's: errors, or notes such
        # as "No response requested." that are neither tokens nor errors.
        text = _text(message.get("content"))
        error = classify_error(text, _text(line.get("error")))
        flagged = line.get("isApiErrorMessage") is True or "API Error" in text
        if text and (flagged or error != "api_error"):
            _error(
                session,
                at,
                key=f"api:{_line_id(line)}",
                error=error,
                detail=text,
                conversation=conversation,
                model=None,
            )
        return
    usage = message.get("usage")
    if usage is None:
        return
    if not isinstance(usage, dict):
        session.problem(file, number, "message.usage is not an object", _FIX_USAGE)
        return
    counts: dict[str, int] = {}
    for name in _USAGE_FIELDS:
        value = usage.get(name, 0)
        if value is None:
            value = 0
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            session.problem(
                file, number, f"message.usage.{name} is {value!r}, not a count", _FIX_USAGE
            )
            return
        counts[name] = value
    cost = line.get("costUSD")
    if isinstance(cost, bool) or not isinstance(cost, int | float) or cost < 0:
        cost = None
    response = message.get("id") or line.get("requestId") or _line_id(line)
    cached, written = counts["cache_read_input_tokens"], counts["cache_creation_input_tokens"]
    session.add(
        "tokens",
        SOURCE,
        at,
        f"claude:msg:{response}",
        grows=True,
        provider=_PROVIDER,
        request_model=model,
        conversation_id=conversation,
        input_tokens=counts["input_tokens"] + cached + written,
        cache_read_input_tokens=cached,
        cache_creation_input_tokens=written,
        output_tokens=counts["output_tokens"],
        cost_usd=None if cost is None else float(cost),
        cost_source=None if cost is None else "reported",
    )
    if message.get("stop_reason") == "model_context_window_exceeded":
        _error(
            session,
            at,
            key=f"stop:{response}",
            error="context_length",
            detail="the response stopped: model_context_window_exceeded",
            conversation=conversation,
            model=model,
        )


def _result(session: ImportSession, line: dict[str, Any], at: datetime) -> None:
    """The last line of ``claude -p --output-format stream-json``: outcome and total cost."""
    conversation = _session_id(line)
    ident = line.get("uuid") or f"{conversation}:{line.get('duration_ms')}:{line.get('num_turns')}"
    subtype = str(line.get("subtype") or "")
    if line.get("is_error") is True or (subtype and subtype != "success"):
        error: ErrorClass
        if subtype == "error_max_turns":
            error = "max_turns"
        elif subtype.startswith("error_max_budget"):
            error = "budget"
        else:
            error = classify_error(subtype, _text(line.get("result")), _text(line.get("error")))
        _error(
            session,
            at,
            key=f"result-error:{ident}",
            error=error,
            detail=" ".join(
                filter(None, (subtype, _text(line.get("result")), _text(line.get("error"))))
            ),
            conversation=conversation,
            model=None,
        )
    per_model = line.get("modelUsage")
    costs: dict[str | None, float] = {}
    if isinstance(per_model, dict) and per_model:
        for model, figures in per_model.items():
            value = figures.get("costUSD") if isinstance(figures, dict) else None
            if isinstance(value, bool) or not isinstance(value, int | float):
                costs = {}
                break
            costs[str(model)] = float(value)
    total = line.get("total_cost_usd")
    if not costs and isinstance(total, int | float) and not isinstance(total, bool):
        costs[None] = float(total)
    for model, dollars in costs.items():
        session.add(
            "cost",
            SOURCE,
            at,
            f"claude:result:{ident}:{model or '*'}",
            provider=_PROVIDER,
            request_model=model,
            conversation_id=conversation,
            cost_usd=dollars,
            cost_source="reported",
        )


def _error(
    session: ImportSession,
    at: datetime,
    *,
    key: str,
    error: ErrorClass,
    detail: str,
    conversation: str | None,
    model: str | None,
) -> None:
    session.add(
        "error",
        SOURCE,
        at,
        f"claude:{key}",
        provider=_PROVIDER,
        request_model=model,
        conversation_id=conversation,
        outcome=error,
        detail=excerpt(detail),
    )


def _session_id(line: dict[str, Any]) -> str | None:
    value = line.get("sessionId") or line.get("session_id")
    return value if isinstance(value, str) else None


def _line_id(line: dict[str, Any]) -> str:
    """The line's own id, or a hash of its content (stable across imports)."""
    uuid = line.get("uuid")
    if isinstance(uuid, str) and uuid:
        return uuid
    canonical = json.dumps(line, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256-" + hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _text(value: object) -> str:
    """The text of a message content (a string or a list of blocks), or of an error value."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts = []
        for block in value:
            if isinstance(block, dict) and isinstance(block.get("text"), str):
                parts.append(block["text"])
            elif isinstance(block, str):
                parts.append(block)
        return " ".join(parts)
    if isinstance(value, dict):
        for name in ("message", "text", "type"):
            if isinstance(value.get(name), str):
                inner = value.get("error")
                nested = _text(inner) if isinstance(inner, dict) else ""
                return " ".join(filter(None, (value[name], nested)))
        return json.dumps(value, sort_keys=True)[:500]
    return str(value)
