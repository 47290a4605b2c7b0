"""One agent run from start to report: what ``ramp run --agent`` does.

Create the run, give the agent its MCP endpoint and start prompt, run it under the run's
wall-clock budget, import the usage its transcripts recorded, grade the stage it left
open, and write the report. Everything goes through the public harness API
(:mod:`ramp_mcp.harness`), the same one third-party harnesses use.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from grader import GradingError
from grader.usage import UsageError
from ramp_mcp.agents._endpoint import HttpEndpoint, StdioEndpoint
from ramp_mcp.agents._launchers import AgentContext, TranscriptSource, launcher_for
from ramp_mcp.agents._process import AgentExit, run_agent_process
from ramp_mcp.harness import Ramp, RampRun, RunStatusView, SubmissionOutcome
from toolchain import RampError

__all__ = ["AgentRunOptions", "AgentRunResult", "TranscriptImport", "run_agent"]

_log = logging.getLogger(__name__)


class AgentRunOptions(BaseModel):
    """What ``ramp run --agent`` was asked to do."""

    agent: str = Field(description="claude-code, codex, or a command line")
    model: str | None = None
    budget_s: float | None = Field(default=None, gt=0)
    sandbox: Literal["auto", "docker", "bwrap"] = "auto"
    attempts_per_stage: int = Field(default=1, ge=1)
    sample: int | None = Field(default=None, ge=1)
    epoch: str | None = Field(default=None, description="default: `ramp golden epoch use`'s")
    seed: int | None = None
    transport: Literal["stdio", "http"] = "stdio"
    grade_open: bool = Field(default=True, description="grade the stage left open at the end")
    extra_args: list[str] = Field(default_factory=list, description="appended to the agent's")
    report_html: Path | None = Field(default=None, description="default: <run dir>/report.html")


class TranscriptImport(BaseModel):
    """What importing one transcript source gave."""

    format: str
    path: str
    found: bool
    records_added: int = 0
    duplicates_skipped: int = 0
    lines_merged: int = 0
    problems: list[str] = Field(default_factory=list)


class AgentRunResult(BaseModel):
    run_id: str
    workspace: str
    agent: str
    model: str | None
    transport: str
    agent_dir: str
    argv: list[str]
    ended: AgentExit
    imports: list[TranscriptImport]
    tool_calls: int
    graded: SubmissionOutcome | None
    grade_note: str | None = Field(description="why the open stage was not graded, if it was not")
    status: RunStatusView
    report_html: str | None
    report_note: str | None = Field(description="why no HTML report was written, if none was")


def _import(run: RampRun, source: TranscriptSource) -> TranscriptImport:
    if not source.path.exists():
        return TranscriptImport(format=source.format, path=str(source.path), found=False)
    try:
        report = run.import_transcript(source.path, source.format)
    except UsageError as exc:
        return TranscriptImport(
            format=source.format, path=str(source.path), found=True, problems=[str(exc)]
        )
    return TranscriptImport(
        format=source.format,
        path=str(source.path),
        found=True,
        records_added=report.records_added,
        duplicates_skipped=report.duplicates_skipped,
        lines_merged=report.lines_merged,
        problems=[str(p) for p in report.problems],
    )


def _grade(run: RampRun, ended: AgentExit, wanted: bool) -> tuple[SubmissionOutcome | None, str]:
    if not wanted:
        return None, "not asked to (--no-grade)"
    if ended.interrupted:
        return None, "the run was interrupted"
    if ended.timed_out:
        run.status()  # the spent budget resurrects the open stage
        return None, "the time budget ran out: the open stage was resurrected"
    try:
        outcome = run.grade_open()
    except GradingError as exc:
        return None, f"grading failed: {exc}"
    return outcome, "" if outcome is not None else "no stage was open"


def run_agent(
    options: AgentRunOptions, ramp: Ramp, *, say: Callable[[str], None] = _log.info
) -> AgentRunResult:
    """Run ``options.agent`` on a new run of ``ramp``'s ledger, then import, grade, report."""
    launcher = launcher_for(options.agent)
    launcher.locate()  # a missing program is reported before any run is created
    run = ramp.create_run(
        agent=launcher.name,
        model=options.model or "default",
        harness="ramp run --agent",
        sandbox=options.sandbox,
        attempts_per_stage=options.attempts_per_stage,
        budget_s=options.budget_s,
        seed=options.seed,
        sample=options.sample,
        epoch=options.epoch,
    )
    say(f"run {run.id}: workspace {run.workspace}")
    agent_dir = run.home / "agent"
    agent_dir.mkdir(mode=0o700, exist_ok=True)
    with ExitStack() as stack:
        endpoint: StdioEndpoint | HttpEndpoint
        if options.transport == "http":
            server = stack.enter_context(ramp.serve_http(log=agent_dir / "mcp-http.log"))
            endpoint = run.http(server)
            say(f"MCP server: {endpoint.url}")
        else:
            endpoint = run.stdio()
        plan = launcher.prepare(
            AgentContext(
                run_id=run.id,
                agent_dir=agent_dir,
                endpoint=endpoint,
                prompt=run.start_prompt(),
                model=options.model,
                ledger_url=ramp.ledger_url,
                budget_s=options.budget_s,
                extra_args=options.extra_args,
            )
        )
        say(f"starting {launcher.name} (logs in {agent_dir})")
        ramp.machine.start(run.id)
        ended = run_agent_process(
            plan, time_left=lambda: _budget_left(ramp, run.id), logs=agent_dir
        )
    say(
        f"{launcher.name} ended after {ended.duration_s:.0f} s "
        + (
            "(time budget spent)"
            if ended.timed_out
            else "(interrupted)"
            if ended.interrupted
            else f"with exit status {ended.exit_code}"
        )
    )
    imports = [_import(run, source) for source in plan.transcripts]
    graded, note = _grade(run, ended, options.grade_open)
    ramp.machine.finish(run.id)
    report_path = options.report_html or run.home / "report.html"
    report_note: str | None = None
    try:
        run.report("html", output=report_path)
    except (RampError, OSError) as exc:
        report_note = f"no HTML report: {exc}"
    return AgentRunResult(
        run_id=run.id,
        workspace=str(run.workspace),
        agent=launcher.name,
        model=options.model,
        transport=options.transport,
        agent_dir=str(agent_dir),
        argv=plan.argv,
        ended=ended,
        imports=imports,
        tool_calls=len(run.tool_calls()),
        graded=graded,
        grade_note=note or None,
        status=run.status(),
        report_html=None if report_note else str(report_path),
        report_note=report_note,
    )


def _budget_left(ramp: Ramp, run_id: str) -> float | None:
    """The ledger's budget left for the run (it counts from the run's start as the grader
    sees it), so the agent is stopped exactly when the ledger says its time is up."""
    return ramp.machine.status(run_id).budget_left_s
