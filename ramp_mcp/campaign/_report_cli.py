"""``ramp campaign report NAME``: a campaign's leaderboard with intervals and its paired
comparisons, from the trials the ledger holds as graded, in any of the report formats.

The report itself (rows, bootstrap intervals, comparisons) is :func:`grader.report.
campaign_report`; this module picks the trials that count from the ledger and writes the
rendering. A campaign still running can be reported: the report covers its graded trials
and says how many of all its trials that is (``partial``).
"""

from __future__ import annotations

from pathlib import Path

import click

from grader.ledger import Ledger, TrialState, ledger_url
from grader.report import (
    FORMATS,
    CampaignReport,
    TrialRow,
    campaign_renderables,
    campaign_report,
    render_campaign_document,
    report_console,
    write_report,
)
from ramp_mcp.campaign._errors import CampaignError
from ramp_mcp.campaign._exits import exit_codes

__all__ = ["campaign_report_from_ledger", "graded_trials", "report_command"]


def graded_trials(ledger: Ledger, name: str) -> tuple[list[TrialRow], int]:
    """The graded trials of campaign ``name`` (each with the run that counts for it) and how
    many trials the campaign has in all; :class:`CampaignNotFoundError` if it is unknown."""
    trials = ledger.campaign_trials(name)
    graded = [
        TrialRow(agent=t.agent, model=t.model, index=t.index, run_id=t.run_id)
        for t in trials
        if t.state == TrialState.GRADED.value and t.run_id is not None
    ]
    return graded, len(trials)


def campaign_report_from_ledger(ledger: Ledger, name: str) -> CampaignReport:
    """The report of campaign ``name`` over its graded trials; :class:`CampaignError` when
    none is graded yet."""
    graded, total = graded_trials(ledger, name)
    if not graded:
        raise CampaignError(
            f"campaign {name!r} has no graded trial yet ({total} trial(s), none graded): run "
            "or resume it with `ramp campaign run FILE`, and see where it stands with "
            f"`ramp campaign status {name}`"
        )
    return campaign_report(ledger, name, graded, total_trials=total)


def _write(text: str, output: Path) -> None:
    write_report(text, output)
    click.echo(f"wrote {output}", err=True)


def _emit(report: CampaignReport, output_format: str, output: Path | None) -> None:
    if output_format == "term" and output is None:
        console = report_console()
        for renderable in campaign_renderables(report):
            console.print(renderable)
        return
    text = render_campaign_document(report, output_format)
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
    else:
        _write(text, output)


@click.command("report")
@click.argument("name")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="term",
    show_default=True,
    help="term: tables; md: Markdown; json: the documented schema (docs/report-schema.md, "
    "CampaignReport); html: one self-contained page with interval and Pareto charts",
)
@click.option(
    "--ledger",
    "ledger_option",
    default=None,
    help="SQLAlchemy URL of the ledger (default: $RAMP_LEDGER_URL, SQLite in RAMP_HOME)",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="write to FILE instead of standard output (written whole, or not at all)",
)
def report_command(
    name: str, output_format: str, ledger_option: str | None, output: Path | None
) -> None:
    """Campaign NAME ranked: per agent x model each figure's mean with its 95% bootstrap
    interval, pass@k / pass^k, suggested k, and every pair compared on mean reward.

    Only graded trials count; while some are not, the report says how many of all it
    covers. Exit codes: 0 written, 2 bad input (unknown campaign, no graded trial yet,
    unwritable output), 3 the ledger is unreachable or unusable.
    """
    with exit_codes():
        with Ledger.open(ledger_option or ledger_url()) as ledger:
            report = campaign_report_from_ledger(ledger, name)
        _emit(report, output_format, output)
