"""Usage accounting: every ``tools/call`` becomes one ``UsageEvent`` in the ledger.

One server middleware wraps every tool, so no tool records its own usage. A ledger that
cannot be written is logged and the tool's result is returned all the same.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

import anyio
import anyio.to_thread
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp_types import CallToolResult
from pydantic import BaseModel

from grader.ledger import LedgerError, UsageEvent
from grader.report import printable
from ramp_mcp._runs import ServerState

__all__ = ["UsageMiddleware"]

_log = logging.getLogger(__name__)


def _size(value: object) -> int:
    if isinstance(value, BaseModel):
        return len(value.model_dump_json(by_alias=True, exclude_none=True).encode())
    return len(json.dumps(value, default=str).encode())


def _is_error(result: HandlerResult) -> bool:
    if isinstance(result, CallToolResult):
        return bool(result.is_error)
    return isinstance(result, dict) and result.get("isError") is True


_TOOL_NAME_MAX = 64  # longer than any tool's name


class UsageMiddleware:
    """Records tool calls; ``run_of`` says which run a request acts on (None: unknown)."""

    def __init__(
        self, state: ServerState, run_of: Callable[[ServerRequestContext[Any, Any]], str | None]
    ) -> None:
        self._state = state
        self._run_of = run_of

    async def __call__(
        self, ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        if ctx.method != "tools/call":
            return await call_next(ctx)
        params = ctx.params or {}
        name = params.get("name")
        # The name as the agent sent it: an unknown tool's name is the agent's own text, so it
        # is kept short and printable (reports and the taxonomy's evidence quote it).
        tool = printable(name)[:_TOOL_NAME_MAX] if isinstance(name, str) else None
        arguments_bytes = _size(params.get("arguments") or {})
        run_id = self._run_of(ctx)
        started = time.monotonic()
        outcome = "error"
        result_bytes: int | None = None
        try:
            result = await call_next(ctx)
            outcome = "error" if _is_error(result) else "ok"
            result_bytes = _size(result)
            return result
        finally:
            if run_id is not None:
                event = UsageEvent(
                    run_id=run_id,
                    kind="tool_call",
                    source="mcp",
                    tool=tool,
                    arguments_bytes=arguments_bytes,
                    result_bytes=result_bytes,
                    duration_s=round(time.monotonic() - started, 6),
                    outcome=outcome,
                )
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(self._record, event)

    def _record(self, event: UsageEvent) -> None:
        try:
            self._state.ledger.add_usage_events([event])
        except LedgerError as exc:
            _log.warning("usage of %s not recorded in the ledger: %s", event.tool, exc)
