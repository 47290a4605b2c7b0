"""``ramp campaign``: run a campaign file (resuming it if it ran before), show where a
campaign stands, and report it (``report``, from :mod:`ramp_mcp.campaign._report_cli`)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from grader.ledger import (
    Ledger,
    ledger_url,
)
from ramp_mcp.campaign._driver import run_campaign
from ramp_mcp.campaign._exits import EXIT_FAILED_TRIALS, EXIT_INTERRUPTED, exit_codes
from ramp_mcp.campaign._report_cli import report_command
from ramp_mcp.campaign._spec import ExecutorSpec, load_campaign
from ramp_mcp.campaign._status import CampaignStatus, campaign_status
from ramp_mcp.campaign._view import LiveView, status_table, summary_line

__all__ = ["campaign_group"]


_LEDGER_HELP = "SQLAlchemy URL of the ledger (default: the file's ledger, $RAMP_LEDGER_URL, SQLite)"


@click.group("campaign")
def campaign_group() -> None:
    """Campaigns: agents x models x k trials from one TOML file (examples/campaigns/),
    run concurrently, resumable, recorded in the ledger."""


def _print(status: CampaignStatus, as_json: bool) -> None:
    if as_json:
        click.echo(status.model_dump_json(indent=1))
        return
    console = Console()
    console.print(summary_line(status))
    console.print(status_table(status))


@campaign_group.command("run")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--restart", is_flag=True, help="start again if the file changed since it ran")
@click.option("--ledger", "ledger_option", default=None, help=_LEDGER_HELP)
@click.option(
    "--ray",
    "ray_address",
    default=None,
    metavar="ADDRESS",
    help='run the trials as Ray tasks on the cluster at ADDRESS ("auto": this machine\'s)',
)
@click.option("--json", "as_json", is_flag=True, help="no live view; print the result as JSON")
def run_command(
    file: Path, restart: bool, ledger_option: str | None, ray_address: str | None, as_json: bool
) -> None:
    """Run the campaign in FILE; run it again to resume it (finished trials are kept).

    Exit codes: 0 every trial graded, 1 some trial failed on infrastructure after its
    retries, 2 bad input (file, changed campaign, missing agent program), 3 the ledger or
    the machine failed, 130 interrupted (run it again to resume).
    """
    console = Console(stderr=True)
    try:
        with exit_codes():
            spec = load_campaign(file)
            if ray_address is not None:
                ray = ExecutorSpec(kind="ray", address=ray_address)
                spec = spec.model_copy(update={"executor": ray})
            url = ledger_option or spec.ledger or ledger_url()
            if as_json:
                status = run_campaign(spec, ledger_url=url, restart=restart, say=console.print)
            else:
                with LiveView(console) as view:
                    status = run_campaign(
                        spec,
                        ledger_url=url,
                        restart=restart,
                        on_progress=view.update,
                        say=console.print,
                    )
    except KeyboardInterrupt:
        click.echo("interrupted: run the campaign again to resume it", err=True)
        sys.exit(EXIT_INTERRUPTED)
    _print(status, as_json)
    if status.counts["failed"]:
        sys.exit(EXIT_FAILED_TRIALS)


@campaign_group.command("status")
@click.argument("name")
@click.option("--ledger", "ledger_option", default=None, help=_LEDGER_HELP)
@click.option("--json", "as_json", is_flag=True, help="print it as JSON")
def status_command(name: str, ledger_option: str | None, as_json: bool) -> None:
    """Where campaign NAME stands: its trials, their attempts and the runs that count."""
    with exit_codes(), Ledger.open(ledger_option or ledger_url()) as ledger:
        status = campaign_status(ledger, name)
    _print(status, as_json)


campaign_group.add_command(report_command)
