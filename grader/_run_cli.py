"""`ramp-grade submit|status|runs|recover` and the `create_run_command` that `ramp run create` mounts."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from rich.console import Console
from rich.table import Table

from golden import EpochError, Stage
from grader._grade_cli import EXIT_BAD_INPUT, EXIT_INFRASTRUCTURE
from grader._machine import StageMachine, StageRefusedError
from grader.ledger import Ledger, LedgerError, RunNotFoundError
from toolchain import RampError

__all__ = [
    "EXIT_REFUSED",
    "create_run_command",
    "recover_command",
    "runs_command",
    "status_command",
    "submit_command",
]

EXIT_REFUSED = 4

_ledger_option = click.option(
    "--ledger",
    "ledger_url",
    envvar="RAMP_LEDGER_URL",
    help="SQLAlchemy URL (default: SQLite in RAMP_HOME)",
)


@contextmanager
def _machine(ledger_url: str | None) -> Iterator[StageMachine]:
    try:
        with Ledger.open(ledger_url) as ledger:
            yield StageMachine(ledger)
    except (RunNotFoundError, EpochError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except StageRefusedError as exc:
        click.echo(f"refused: {exc}", err=True)
        sys.exit(EXIT_REFUSED)
    except (LedgerError, RampError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_INFRASTRUCTURE)


@click.command("create")
@click.option("--agent", default="unknown", show_default=True)
@click.option("--model", default="unknown", show_default=True)
@click.option("--harness", default=None)
@click.option(
    "--sandbox", type=click.Choice(["auto", "docker", "bwrap"]), default="auto", show_default=True
)
@click.option(
    "--attempts", type=click.IntRange(min=1), default=1, show_default=True, help="per stage"
)
@click.option(
    "--budget-s", type=click.FloatRange(min=0, min_open=True), default=None, help="wall clock"
)
@click.option("--seed", type=int, default=None)
@click.option(
    "--sample",
    type=click.IntRange(min=1),
    default=None,
    help="grade on a fixed sample of this many hidden cases (quicker; compare like with like)",
)
@click.option(
    "--epoch",
    default=None,
    help="the epoch whose hidden cases grade the run (`ramp golden epoch list`; default: the "
    "one `ramp golden epoch use` chose, else 0, the built-in corpus)",
)
@_ledger_option
@click.option("--json", "as_json", is_flag=True)
def create_run_command(
    agent: str,
    model: str,
    harness: str | None,
    sandbox: str,
    attempts: int,
    budget_s: float | None,
    seed: int | None,
    sample: int | None,
    epoch: str | None,
    ledger_url: str | None,
    as_json: bool,
) -> None:
    """Create a run: a ledger entry and an empty workspace with the public material."""
    with _machine(ledger_url) as machine:
        run = machine.create_run(
            agent=agent,
            model=model,
            harness=harness,
            sandbox=sandbox,
            attempts_per_stage=attempts,
            budget_s=budget_s,
            seed=seed,
            sample=sample,
            epoch=epoch,
        )
    if as_json:
        click.echo(json.dumps({"run_id": run.id, "workspace": run.workspace, "epoch": run.epoch}))
    else:
        click.echo(f"run {run.id}: workspace {run.workspace} (epoch {run.epoch})")


@click.command("submit")
@click.argument("run_id")
@click.option("--stage", "stage_name", required=True, type=click.Choice([s.value for s in Stage]))
@click.option("--backend", default=None, help="override the run's sandbox backend")
@_ledger_option
@click.option("--json", "as_json", is_flag=True)
def submit_command(
    run_id: str, stage_name: str, backend: str | None, ledger_url: str | None, as_json: bool
) -> None:
    """Submit a stage of RUN_ID for grading. Exit codes: 0 graded, 2 bad input, 3 failure, 4 refused."""
    with _machine(ledger_url) as machine, Console(stderr=True).status(f"grading {stage_name}"):
        outcome = machine.submit(run_id, Stage(stage_name), backend=backend)
    if as_json:
        click.echo(outcome.model_dump_json(indent=1))
        return
    verdict = "passed" if outcome.passed else ("resurrected" if outcome.resurrected else "failed")
    click.echo(
        f"{outcome.stage.value}: chained {outcome.chained_score:.2f}, isolated "
        f"{outcome.isolated_score:.2f}: {verdict}; next open: "
        f"{outcome.next_open.value if outcome.next_open else '-'}"
    )
    for line in outcome.feedback:
        click.echo(f"  {line}")


@click.command("status")
@click.argument("run_id")
@_ledger_option
@click.option("--json", "as_json", is_flag=True)
def status_command(run_id: str, ledger_url: str | None, as_json: bool) -> None:
    """Stages, attempts and budget of RUN_ID."""
    with _machine(ledger_url) as machine:
        view = machine.status(run_id)
    if as_json:
        click.echo(view.model_dump_json(indent=1))
        return
    table = Table("stage", "state", "attempts left", "chained", "isolated")
    for stage in view.stages:
        table.add_row(
            stage.stage.value,
            stage.state,
            str(stage.attempts_left),
            "-" if stage.chained_score is None else f"{stage.chained_score:.2f}",
            "-" if stage.isolated_score is None else f"{stage.isolated_score:.2f}",
        )
    Console().print(table)
    budget = "unlimited" if view.budget_left_s is None else f"{view.budget_left_s:.0f} s"
    click.echo(
        f"run {view.run_id} ({view.status}), budget left {budget}, workspace {view.workspace}"
    )


@click.command("runs")
@_ledger_option
@click.option("--json", "as_json", is_flag=True)
def runs_command(ledger_url: str | None, as_json: bool) -> None:
    """Every run in the ledger, newest first."""
    with _machine(ledger_url) as machine:
        runs = machine.ledger.list_runs()
    rows = [
        {
            "run_id": r.id,
            "agent": r.agent,
            "model": r.model,
            "status": r.status,
            "created_at": r.created_at.isoformat(),
        }
        for r in runs
    ]
    if as_json:
        click.echo(json.dumps({"runs": rows}, indent=1))
        return
    table = Table("run", "agent", "model", "status", "created")
    for row in rows:
        table.add_row(row["run_id"], row["agent"], row["model"], row["status"], row["created_at"])
    Console().print(table)


@click.command("recover")
@_ledger_option
@click.option("--json", "as_json", is_flag=True)
def recover_command(ledger_url: str | None, as_json: bool) -> None:
    """Re-grade submissions whose grader died mid-grade."""
    with _machine(ledger_url) as machine:
        outcomes = machine.recover()
    if as_json:
        click.echo(
            json.dumps({"regraded": [o.model_dump(mode="json") for o in outcomes]}, indent=1)
        )
    else:
        click.echo(f"re-graded {len(outcomes)} interrupted submission(s)")
