"""The grading tools: submit the open stage, and where the run stands.

``submit_stage`` closes the run's grading gate before the stage machine grades (see
``ramp_mcp._gate``): the run's commands are killed and its other tools refused until the
grade is recorded. ``status`` answers all the same.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from golden import Stage
from grader import RunStatusView, StageRefusedError, SubmissionOutcome
from ramp_mcp._gate import GradingInProgressError
from ramp_mcp._models import SubmitResult
from ramp_mcp._runs import ServerState
from ramp_mcp._tools import StageName, ToolContext, mutating, tool_errors

__all__ = ["register_grading_tools"]


def register_grading_tools(server: MCPServer[ServerState], tools: ToolContext) -> None:
    """submit_stage, status, in the order the agent is shown them."""

    @server.tool(
        description="Submit the open stage for grading on the hidden cases. Each stage is "
        "graded once per attempt, in order T0..T5; 60/100 passes. This takes minutes; "
        "meanwhile your running commands are killed and every tool but status is refused. "
        "Scores are shown as whole numbers (rounded down).",
        annotations=mutating(destructive=False, idempotent=False),
    )
    @tool_errors
    async def submit_stage(
        ctx: Context[ServerState, Any],
        stage: Annotated[StageName, Field(description="the open stage, T0..T5")],
    ) -> SubmitResult:
        run = tools.active(ctx)
        chosen = Stage(stage)
        try:
            # Nothing of the run's runs or answers while it is graded (ramp_mcp._gate).
            await anyio.to_thread.run_sync(run.gate.close, chosen)
        except GradingInProgressError as exc:
            raise ToolError(f"refused: {exc}") from exc
        try:
            graded = await tools.progressing(
                ctx,
                f"grading {chosen.value}",
                lambda: tools.state.machine.submit(run.run_id, chosen),
            )
        except StageRefusedError as exc:
            raise ToolError(f"refused: {exc}") from exc
        finally:
            run.reset_sandbox()  # grading killed the run's processes, a container's too
            run.gate.reopen()
        return _submit_result(chosen, graded.for_agent())

    @server.tool(
        description="Where the run stands: each stage's state, attempts and scores, the open "
        "stage and the budget left.",
        # Not read-only: asking is when a spent budget ends the run (the open stage is
        # resurrected) and an open stage's public reference outputs are put in place; both
        # writes are idempotent (StageMachine.catch_up).
        annotations=mutating(destructive=False, idempotent=True),
    )
    @tool_errors
    def status(ctx: Context[ServerState, Any]) -> RunStatusView:
        run = tools.current(ctx)
        return tools.state.machine.status(run.run_id).for_agent()


def _submit_result(submitted: Stage, outcome: SubmissionOutcome) -> SubmitResult:
    """The agent's reply for a graded submission of ``submitted`` (``outcome``'s scores
    already as an agent is shown them)."""
    notice = None
    reference_dir = outcome.reference_dir
    if reference_dir is not None:
        notice = (
            f"{submitted.value} was resurrected: from now on grading feeds its reference outputs "
            f"to the next stage; the public reference outputs are in {reference_dir}/"
        )
    return SubmitResult(
        stage=outcome.stage,
        attempt=outcome.attempt,
        score=outcome.chained_score,
        isolated_score=outcome.isolated_score,
        passed=outcome.passed,
        resurrected=outcome.resurrected,
        resurrection_notice=notice,
        reference_dir=reference_dir,
        attempts_left=outcome.attempts_left,
        next_open=outcome.next_open,
        feedback=outcome.feedback,
        integrity_findings=outcome.integrity_findings,
    )
