"""`ramp demo`: a whole evaluation run on this machine, with no API key.

It creates a run on the embedded defaults (SQLite ledger in RAMP_HOME, the best sandbox
available), starts ``ramp-mcp --run RUN`` over stdio, lets the scripted agent do the job
through MCP tool calls only, and reports what the grader gave each stage.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import anyio
import click
from mcp import Client, StdioServerParameters
from pydantic import BaseModel
from rich.console import Console

from golden import Stage
from grader import StageMachine, StageRefusedError
from grader.ledger import Ledger, LedgerError
from grader.report import (
    ReportError,
    render_document,
    report_console,
    report_document,
    report_renderables,
)
from ramp_mcp._scripted_agent import (
    ScriptedAgentError,
    ScriptedAgentPlan,
    ScriptedAgentResult,
    run_scripted_agent,
)
from ramp_mcp.agents._endpoint import ramp_mcp_program, server_environment
from toolchain import RampError

__all__ = ["DemoResult", "demo_command"]

_STAGE_NAMES = [s.value for s in Stage]
# Enough cases of every kind for a telling demo in a few minutes on two cores; the whole
# hidden set (--sample 0) takes several times as long.
DEMO_SAMPLE = 24


class DemoStage(BaseModel):
    stage: Stage
    chained_score: float | None
    isolated_score: float | None
    passed: bool | None
    resurrected: bool
    state: str


class DemoResult(BaseModel):
    run_id: str
    workspace: str
    ledger: str
    epoch: str
    stages: list[DemoStage]
    tool_calls: int
    wall_s: float
    report_html: str | None


async def _drive(run_id: str, ledger_url: str, plan: ScriptedAgentPlan) -> ScriptedAgentResult:
    # The server gets RAMP_HOME (the run's epoch, runs and caches live there) and the ledger
    # through its environment, as every launcher gives them (agents._endpoint).
    params = StdioServerParameters(
        command=ramp_mcp_program(), args=["--run", run_id], env=server_environment(ledger_url)
    )
    async with Client(params) as client:
        return await run_scripted_agent(client, plan)


def _stages(machine: StageMachine, run_id: str) -> list[DemoStage]:
    view = machine.status(run_id)
    return [
        DemoStage(
            stage=s.stage,
            chained_score=s.chained_score,
            isolated_score=s.isolated_score,
            passed=s.passed if s.state in ("passed", "resurrected") else None,
            resurrected=s.state == "resurrected",
            state=s.state,
        )
        for s in view.stages
    ]


@click.command("demo")
@click.option(
    "--break-stage",
    type=click.Choice(_STAGE_NAMES),
    default=None,
    help="the scripted agent writes a wrong program for this stage (shows resurrection)",
)
@click.option(
    "--degrade-stage",
    type=click.Choice(_STAGE_NAMES),
    default=None,
    help="the scripted agent spoils a quarter of this stage's outputs (shows propagation loss)",
)
@click.option(
    "--sample",
    type=click.IntRange(min=0),
    default=DEMO_SAMPLE,
    show_default=True,
    help="grade on a fixed sample of this many hidden cases; 0: all of them (slower)",
)
@click.option(
    "--epoch",
    default=None,
    help="the epoch whose hidden cases grade the run (default: `ramp golden epoch use`'s, else 0)",
)
@click.option(
    "--sandbox", type=click.Choice(["auto", "docker", "bwrap"]), default="auto", show_default=True
)
@click.option(
    "--ledger", "ledger_url", envvar="RAMP_LEDGER_URL", help="SQLAlchemy URL (default: SQLite)"
)
@click.option("--json", "as_json", is_flag=True, help="print the result as JSON")
def demo_command(
    break_stage: str | None,
    degrade_stage: str | None,
    sample: int | None,
    epoch: str | None,
    sandbox: str,
    ledger_url: str | None,
    as_json: bool,
) -> None:
    """Run the whole job with the scripted agent through the MCP server, then report.

    Exit codes: 0 the run finished (whatever the scores), 3 infrastructure failed.
    """
    console = Console(stderr=True)
    started = time.monotonic()
    try:
        with Ledger.open(ledger_url) as ledger:
            url = ledger_url or ledger.url  # .url masks a password
            machine = StageMachine(ledger)
            run = machine.create_run(
                agent="scripted",
                model="reference-solution",
                harness="ramp-demo",
                sandbox=sandbox,
                sample=sample or None,
                epoch=epoch,
            )
        console.print(f"run {run.id}: workspace {run.workspace}")
        plan = ScriptedAgentPlan(
            break_stage=Stage(break_stage) if break_stage else None,
            degrade_stage=Stage(degrade_stage) if degrade_stage else None,
        )
        with console.status("the scripted agent is working through MCP (grading takes minutes)"):
            result = anyio.run(_drive, run.id, url, plan)
        with Ledger.open(url) as ledger:
            StageMachine(ledger).finish(run.id)
            stages = _stages(StageMachine(ledger), run.id)
            document = report_document(ledger, [run.id], cohort=[run.id])
        report_html = Path(run.workspace).parent / "report.html"
        report_html.write_text(render_document(document, "html"), encoding="utf-8")
    except (ScriptedAgentError, StageRefusedError, LedgerError, ReportError, RampError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(3)
    demo = DemoResult(
        run_id=run.id,
        workspace=run.workspace,
        ledger=url,
        epoch=run.epoch,
        stages=stages,
        tool_calls=result.tool_calls,
        wall_s=round(time.monotonic() - started, 1),
        report_html=str(report_html),
    )
    if as_json:
        click.echo(json.dumps(demo.model_dump(mode="json"), indent=2))
        return
    out = report_console()
    for renderable in report_renderables(document.runs):
        out.print(renderable)
    out.print(
        f"The scripted agent made {demo.tool_calls} MCP tool calls; the demo took "
        f"{demo.wall_s:.0f} s.\nHTML report: {report_html}"
    )
