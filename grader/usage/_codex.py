"""Codex CLI rollouts (``$CODEX_HOME/sessions/YYYY/MM/DD/rollout-*.jsonl``).

Lines are ``{timestamp, type, payload}``. The model comes from the latest ``turn_context``,
the conversation from ``session_meta``. Each ``event_msg`` of type ``token_count`` carries
the session's cumulative ``total_token_usage`` and the latest call's ``last_token_usage``;
one record is the difference between consecutive totals (so the records always sum to the
final total, and a repeated event, whose total did not move, adds nothing). Without a total,
``last_token_usage`` is the record. OpenAI semantics: ``cached_input_tokens`` is part of
``input_tokens`` and ``reasoning_output_tokens`` part of ``output_tokens``, exactly the
ledger's (OTel's). ``error``, ``stream_error`` and ``turn_aborted`` events become error
records; a total whose input and output are zero but whose total equals the context window
is how Codex marks a full context, and becomes a ``context_length`` error.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Final, NamedTuple

from grader.ledger import Ledger
from grader.usage._api_errors import classify_error, excerpt
from grader.usage._models import ErrorClass, ImportReport
from grader.usage._store import ImportSession, file_time, import_files, parse_time, read_jsonl

__all__ = ["SOURCE", "import_codex"]

SOURCE: Final = "codex_rollout"
_FIX: Final = (
    "token_count events carry info.total_token_usage and info.last_token_usage objects of "
    "non-negative integers (input_tokens, cached_input_tokens, output_tokens, "
    "reasoning_output_tokens, total_tokens)"
)
_ERROR_INFO: Final[dict[str, ErrorClass]] = {
    "context_window_exceeded": "context_length",
    "usage_limit_exceeded": "usage_limit",
    "http_connection_failed": "connection",
    "response_stream_connection_failed": "connection",
    "response_stream_disconnected": "connection",
    "response_too_many_failed_attempts": "server_error",
    "internal_server_error": "server_error",
    "unauthorized": "auth",
    "bad_request": "api_error",
}


class _Usage(NamedTuple):
    """A TokenUsage, field by field in the order of ``_FIELDS`` (its JSON names)."""

    input: int
    cached: int
    output: int
    reasoning: int
    total: int
    cache_write: int

    def minus(self, other: _Usage) -> _Usage:
        return _Usage(
            self.input - other.input,
            self.cached - other.cached,
            self.output - other.output,
            self.reasoning - other.reasoning,
            self.total - other.total,
            self.cache_write - other.cache_write,
        )

    def is_zero(self) -> bool:
        return not any(self)

    def has_negative(self) -> bool:
        return min(self) < 0


_ZERO: Final = _Usage(0, 0, 0, 0, 0, 0)
_FIELDS: Final = (
    "input_tokens",
    "cached_input_tokens",
    "output_tokens",
    "reasoning_output_tokens",
    "total_tokens",
    "cache_write_input_tokens",
)


class _State:
    def __init__(self, file: Path) -> None:
        self.conversation = file.stem
        self.model: str | None = None
        self.provider = "openai"
        self.previous: _Usage | None = None


def import_codex(ledger: Ledger, run_id: str, path: Path) -> ImportReport:
    """Import a Codex rollout, or every ``*.jsonl`` under a directory, into run ``run_id``."""
    return import_files(ledger, run_id, path, "codex", _import_file)


def _import_file(session: ImportSession, file: Path) -> None:
    fallback = file_time(file)
    state = _State(file)
    last_at: datetime | None = None
    for number, line in read_jsonl(file, session):
        at = parse_time(line.get("timestamp")) or last_at or fallback
        last_at = at
        payload = line.get("payload")
        if not isinstance(payload, dict):
            continue
        kind = line.get("type")
        if kind == "session_meta":
            if isinstance(payload.get("id"), str):
                state.conversation = payload["id"]
            if isinstance(payload.get("model_provider"), str):
                state.provider = payload["model_provider"]
        elif kind == "turn_context":
            if isinstance(payload.get("model"), str):
                state.model = payload["model"]
        elif kind == "event_msg":
            _event(session, file, number, state, payload, at)


def _event(
    session: ImportSession,
    file: Path,
    number: int,
    state: _State,
    payload: dict[str, Any],
    at: datetime,
) -> None:
    kind = payload.get("type")
    if kind == "token_count":
        _token_count(session, file, number, state, payload, at)
    elif kind in ("error", "stream_error"):
        raw = payload.get("message")
        message = raw if isinstance(raw, str) else ""
        info = payload.get("codex_error_info")
        name = (
            info
            if isinstance(info, str)
            else next(iter(info), None)
            if isinstance(info, dict)
            else None
        )
        error = _ERROR_INFO.get(str(name)) if name else None
        if error is None:
            error = classify_error(
                message, str(name or ""), "stream error" if kind == "stream_error" else ""
            )
        _error(
            session,
            state,
            at,
            f"{kind}:{at.isoformat()}:{excerpt(message, 80)}",
            error,
            message or str(kind),
        )
    elif kind == "turn_aborted":
        reason = str(payload.get("reason") or "aborted")
        _error(
            session, state, at, f"aborted:{at.isoformat()}", "aborted", f"turn aborted: {reason}"
        )


def _token_count(
    session: ImportSession,
    file: Path,
    number: int,
    state: _State,
    payload: dict[str, Any],
    at: datetime,
) -> None:
    info = payload.get("info")
    if info is None:
        return  # a rate-limit update with no usage
    if not isinstance(info, dict):
        session.problem(file, number, "token_count.info is not an object", _FIX)
        return
    try:
        total = _usage(info.get("total_token_usage"))
        last = _usage(info.get("last_token_usage"))
    except ValueError as exc:
        session.problem(file, number, f"token_count: {exc}", _FIX)
        return
    if total is None and last is None:
        session.problem(file, number, "token_count without token usage", _FIX)
        return
    if total is not None:
        if total.input == 0 and total.output == 0 and total.total > 0:
            state.previous = total
            _error(
                session,
                state,
                at,
                f"context-full:{total.total}",
                "context_length",
                f"the context window ({total.total} tokens) was full",
            )
            return
        delta = total.minus(state.previous or _ZERO)
        if delta.has_negative():
            # The totals started again (a resumed or forked session): trust the call itself.
            delta = last if last is not None else total
        state.previous = total
        if delta.is_zero():
            session.lines_merged += 1
            return
        key = f"codex:{state.conversation}:{total.input}:{total.cached}:{total.output}:{total.reasoning}:{total.total}"
    else:
        assert last is not None
        delta = last
        key = f"codex:{state.conversation}:line{number}"
    session.add(
        "tokens",
        SOURCE,
        at,
        key,
        provider=state.provider,
        request_model=state.model,
        conversation_id=state.conversation,
        input_tokens=delta.input,
        cache_read_input_tokens=min(delta.cached, delta.input),
        cache_creation_input_tokens=delta.cache_write or None,
        output_tokens=delta.output,
        reasoning_output_tokens=min(delta.reasoning, delta.output),
    )


def _usage(value: object) -> _Usage | None:
    """The counts of a TokenUsage object, None if absent; ValueError if malformed."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError(f"a token usage is {type(value).__name__}, not an object")
    numbers: list[int] = []
    for name in _FIELDS:
        number = value.get(name, 0)
        if number is None:
            number = 0
        if isinstance(number, bool) or not isinstance(number, int) or number < 0:
            raise ValueError(f"{name} is {number!r}, not a count")
        numbers.append(number)
    return _Usage(*numbers)


def _error(
    session: ImportSession, state: _State, at: datetime, key: str, error: ErrorClass, detail: str
) -> None:
    session.add(
        "error",
        SOURCE,
        at,
        f"codex:{state.conversation}:{key}",
        provider=state.provider,
        request_model=state.model,
        conversation_id=state.conversation,
        outcome=error,
        detail=excerpt(detail),
    )
