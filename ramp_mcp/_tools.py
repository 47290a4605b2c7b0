"""What every group of MCP tools shares: the run a request acts on, and RampError as a tool error.

The tools are registered by group (``_tools_workspace``, ``_tools_sandbox``,
``_tools_grading``), each on the server ``build_server`` makes and with one
:class:`ToolContext`. A tool function is decorated with :func:`tool_errors`, so a
``RampError`` it raises reaches the agent as a tool error carrying the error's message
(anything else stays a crash, whose text the SDK keeps on the server). Usage is recorded by
the server's middleware (``ramp_mcp._usage``) around every call, never by a tool.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, ParamSpec, TypeVar, cast

from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from ramp_mcp._progress import with_progress
from ramp_mcp._runs import RunContext, ServerSettings, ServerState
from toolchain import RampError
from toolchain.sandbox import CancelToken

__all__ = [
    "READ_ONLY",
    "StageName",
    "ToolContext",
    "WorkspacePath",
    "mutating",
    "tool_errors",
]

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

StageName = Literal["T0", "T1", "T2", "T3", "T4", "T5"]
WorkspacePath = Annotated[
    str,
    Field(
        max_length=4096,
        description="a path relative to the workspace root, '/'-separated, like 'src/main.c'; "
        "in names, a byte that is not UTF-8 is written \\xNN and a backslash \\\\ (as listed)",
    ),
]

READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)


def mutating(*, destructive: bool, idempotent: bool) -> ToolAnnotations:
    """The annotations of a tool that changes the workspace or runs something."""
    return ToolAnnotations(
        read_only_hint=False,
        destructive_hint=destructive,
        idempotent_hint=idempotent,
        open_world_hint=False,
    )


def tool_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """``fn`` with a ``RampError`` it raises turned into a ``ToolError`` of the same message:
    the agent is told what was wrong and how to fix it. Sync and async tools alike; the
    signature (what the SDK reads the tool's schema from) is ``fn``'s."""
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def awaited(*args: P.args, **kwargs: P.kwargs) -> Any:
            try:
                return await fn(*args, **kwargs)
            except RampError as exc:
                raise ToolError(str(exc)) from exc

        return cast(Callable[P, R], awaited)

    @functools.wraps(fn)
    def called(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except RampError as exc:
            raise ToolError(str(exc)) from exc

    return called


@dataclass(frozen=True)
class ToolContext:
    """What the tools need: the server's state (settings, ledger, stage machine, the runs
    and their gates) and how to tell which run a request acts on."""

    state: ServerState
    run_of: Callable[[ServerRequestContext[Any, Any]], str | None]

    @property
    def settings(self) -> ServerSettings:
        return self.state.settings

    def current(self, ctx: Context[ServerState, Any]) -> RunContext:
        """The run this request acts on."""
        run_id = self.run_of(ctx.request_context)
        if run_id is None:
            raise ToolError(
                "this connection is not bound to a run: start the server with --run RUN, or "
                "connect over HTTP with the run's bearer token (see `ramp mcp-config RUN`)"
            )
        return self.state.run(run_id)

    def active(self, ctx: Context[ServerState, Any]) -> RunContext:
        """The run, for a tool that changes the workspace or runs something: refused once
        the run's wall-clock budget is spent."""
        run = self.current(ctx)
        run.require_budget(self.state.machine)
        return run

    async def commanding(
        self,
        ctx: Context[ServerState, Any],
        run: RunContext,
        message: str,
        work: Callable[[CancelToken], T],
    ) -> T:
        """``work`` on a worker thread holding one of the run's command slots until it really
        ends; given a token that kills its commands. When the call ends first (the client
        cancelled it or went away) the token is cancelled: nothing it started runs on."""
        cancel = CancelToken()

        def held() -> T:
            with run.gate.entered(cancel), run.command_slot(cancel):
                return work(cancel)

        try:
            return await self.progressing(ctx, message, held)
        finally:
            cancel.cancel()

    async def progressing(
        self, ctx: Context[ServerState, Any], message: str, work: Callable[[], T]
    ) -> T:
        """``work`` on a worker thread, reporting progress while it runs (its errors go on
        as they are: the tool's :func:`tool_errors` words a ``RampError``)."""
        return await with_progress(ctx, message, work, interval_s=self.settings.progress_interval_s)
