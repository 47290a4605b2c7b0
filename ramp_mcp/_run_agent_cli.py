"""`ramp run`: `ramp run --agent claude-code|codex|"CMD"` runs an agent on a new run and
reports; `ramp run create` only creates a run (for harnesses that drive their own agent)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from grader import create_run_command
from grader.ledger import LedgerError
from ramp_mcp.agents import AGENTS, AgentConfigError, AgentNotFoundError
from ramp_mcp.agents._session import AgentRunOptions, AgentRunResult, run_agent
from ramp_mcp.harness import Ramp
from toolchain import RampError

__all__ = ["run_group"]

EXIT_BAD_INPUT = 2
EXIT_INFRASTRUCTURE = 3
EXIT_INTERRUPTED = 130


@click.group("run", invoke_without_command=True)
@click.option(
    "--agent",
    default=None,
    help=f"{', '.join(AGENTS)}, or a command line (quoted) that finds the run through RAMP_* "
    "environment variables (docs/agents.md)",
)
@click.option("--model", default=None, help="the model the agent should use (its default if unset)")
@click.option(
    "--budget-s",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="wall-clock budget: the agent is stopped when it is spent",
)
@click.option(
    "--sandbox", type=click.Choice(["auto", "docker", "bwrap"]), default="auto", show_default=True
)
@click.option(
    "--attempts", type=click.IntRange(min=1), default=1, show_default=True, help="per stage"
)
@click.option(
    "--sample",
    type=click.IntRange(min=1),
    default=None,
    help="grade on a fixed sample of this many hidden cases (quicker; compare like with like)",
)
@click.option(
    "--epoch",
    default=None,
    help="the epoch whose hidden cases grade the run (default: `ramp golden epoch use`'s, else 0)",
)
@click.option("--seed", type=int, default=None)
@click.option(
    "--transport",
    type=click.Choice(["stdio", "http"]),
    default="stdio",
    show_default=True,
    help="stdio: the agent starts `ramp-mcp --run RUN`; http: RAMP serves the run over HTTP "
    "with its bearer token for the agent's whole session",
)
@click.option(
    "--agent-arg",
    "agent_args",
    multiple=True,
    help="one more argument for the agent's command line (repeatable), e.g. "
    "--agent-arg=--max-turns --agent-arg=200",
)
@click.option("--no-grade", is_flag=True, help="do not grade the stage the agent left open")
@click.option(
    "--report-html",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="where to write the HTML report (default: report.html in the run's directory)",
)
@click.option(
    "--ledger",
    "ledger_url",
    envvar="RAMP_LEDGER_URL",
    help="SQLAlchemy URL (default: SQLite in RAMP_HOME)",
)
@click.option("--json", "as_json", is_flag=True, help="print the result as JSON")
@click.pass_context
def run_group(
    ctx: click.Context,
    agent: str | None,
    model: str | None,
    budget_s: float | None,
    sandbox: str,
    attempts: int,
    sample: int | None,
    epoch: str | None,
    seed: int | None,
    transport: str,
    agent_args: tuple[str, ...],
    no_grade: bool,
    report_html: Path | None,
    ledger_url: str | None,
    as_json: bool,
) -> None:
    """Evaluation runs. `ramp run --agent AGENT` creates a run, connects the agent to its MCP
    server (configuration in the run's own directory, no prompts), runs it with the start
    prompt under the time budget, imports its transcript usage, grades the stage it left
    open and writes the report. `ramp run create` only creates a run.

    Exit codes: 0 the run went through (whatever the agent scored or exited with), 2 bad
    input (unknown agent program, bad configuration), 3 infrastructure failed, 130
    interrupted.
    """
    if ctx.invoked_subcommand is not None:
        return
    if agent is None:
        click.echo(ctx.get_help())
        ctx.exit(EXIT_BAD_INPUT)
    options = AgentRunOptions(
        agent=agent,
        model=model,
        budget_s=budget_s,
        sandbox=sandbox,
        attempts_per_stage=attempts,
        sample=sample,
        epoch=epoch,
        seed=seed,
        transport=transport,
        grade_open=not no_grade,
        extra_args=list(agent_args),
        report_html=report_html,
    )
    console = Console(stderr=True)
    try:
        with Ramp(ledger_url) as ramp:
            result = run_agent(options, ramp, say=lambda text: console.print(text, markup=False))
            report = None if as_json else _term_report(ramp, result.run_id)
    except (AgentNotFoundError, AgentConfigError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except (LedgerError, RampError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_INFRASTRUCTURE)
    if as_json:
        click.echo(result.model_dump_json(indent=1))
    else:
        _print_summary(result, report)
    if result.ended.interrupted:
        sys.exit(EXIT_INTERRUPTED)


def _term_report(ramp: Ramp, run_id: str) -> str:
    try:
        return ramp.run(run_id).report("term")
    except RampError as exc:
        return f"(no report: {exc})"


def _print_summary(result: AgentRunResult, report: str | None) -> None:
    if report:
        click.echo(report.rstrip())
    for source in result.imports:
        if not source.found:
            click.echo(f"usage: no {source.format} transcript at {source.path}")
            continue
        click.echo(
            f"usage: {source.records_added} record(s) imported from {source.path} "
            f"({source.duplicates_skipped} already known, {source.lines_merged} lines merged)"
        )
        for problem in source.problems[:5]:
            click.echo(f"  problem: {problem}")
    click.echo(f"tool calls through MCP: {result.tool_calls}")
    if result.graded is not None:
        outcome = result.graded
        verdict = "passed" if outcome.passed else "resurrected" if outcome.resurrected else "failed"
        click.echo(f"graded {outcome.stage.value}: chained {outcome.chained_score:.2f}: {verdict}")
    elif result.grade_note:
        click.echo(f"not graded: {result.grade_note}")
    click.echo(f"agent logs: {result.agent_dir}")
    if result.report_html:
        click.echo(f"HTML report: {result.report_html}")
    elif result.report_note:
        click.echo(result.report_note)


run_group.add_command(create_run_command)
