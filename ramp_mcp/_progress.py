"""Blocking work in a worker thread, with progress notifications while it runs."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from mcp.server.mcpserver import Context

__all__ = ["with_progress"]

T = TypeVar("T")


async def with_progress(
    ctx: Context[Any, Any], message: str, work: Callable[[], T], *, interval_s: float = 2.0
) -> T:
    """Run ``work`` in a thread; report progress every ``interval_s`` until it returns.

    Progress is absolute (seconds elapsed), so a client's idle timeout is reset while a
    long build or grading runs. Work that ends within ``interval_s`` sends none: most
    commands are that quick, and a notification costs the client a message to handle.
    """
    started = time.monotonic()
    done = anyio.Event()

    async def ticker() -> None:
        while not done.is_set():
            with anyio.move_on_after(interval_s):
                await done.wait()
            if not done.is_set():
                elapsed = time.monotonic() - started
                await ctx.report_progress(round(elapsed, 1), None, f"{message} ({elapsed:.0f} s)")

    try:
        async with anyio.create_task_group() as group:
            group.start_soon(ticker)
            try:
                return await anyio.to_thread.run_sync(work, abandon_on_cancel=True)
            finally:
                done.set()
    except BaseExceptionGroup as group:
        # The work's own error, not the task group's wrapping of it.
        if len(group.exceptions) == 1:
            raise group.exceptions[0] from None
        raise
    raise AssertionError("unreachable: the task group returns or raises")  # pragma: no cover
