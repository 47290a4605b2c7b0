"""``ramp-grade report`` and ``ramp-grade leaderboard`` (mounted by the ``ramp-grade`` group)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import RenderableType

from grader.ledger import Ledger, LedgerError, RunNotFoundError, RunStatus
from grader.report._errors import ReportError
from grader.report._output import write_report
from grader.report._render import (
    FORMATS,
    render_leaderboard,
    render_report,
)
from grader.report._term import report_console
from grader.usage import PricingTable, load_pricing
from toolchain import RampError

__all__ = ["leaderboard_command", "report_command"]

EXIT_BAD_INPUT = 2
EXIT_INFRASTRUCTURE = 3

_ledger_option = click.option(
    "--ledger",
    "ledger_url",
    envvar="RAMP_LEDGER_URL",
    help="SQLAlchemy URL of the ledger (default: $RAMP_LEDGER_URL, else SQLite in RAMP_HOME)",
)
_format_option = click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="term",
    show_default=True,
    help="term: tables for a terminal; md: Markdown; json: the documented schema "
    "(docs/report-schema.md); html: one self-contained page with charts",
)
_output_option = click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="write to FILE instead of standard output (written whole, or not at all)",
)
_pricing_option = click.option(
    "--pricing",
    "pricing_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="a TOML pricing table merged over the shipped one (default: $RAMP_PRICING)",
)


@contextmanager
def _errors() -> Iterator[None]:
    """Bad input exits 2, a ledger that cannot be used exits 3; both say what to do."""
    try:
        yield
    except (RunNotFoundError, ReportError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except LedgerError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_INFRASTRUCTURE)
    except RampError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)


def _emit(text: str, output: Path | None) -> None:
    """Print ``text``, or write it to ``output`` through a temporary file and a rename, so a
    failure never leaves half a file (nor clobbers the old one)."""
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    write_report(text, output)
    click.echo(f"wrote {output}", err=True)


def _render_and_emit(
    render: Callable[[Ledger, PricingTable], str | list[RenderableType]],
    ledger_url: str | None,
    pricing_path: Path | None,
    output: Path | None,
) -> None:
    """Render from the ledger with the pricing in effect, then write text to ``output`` (or
    standard output) or print the terminal tables; errors exit as :func:`_errors` says."""
    with _errors():
        pricing = load_pricing(pricing_path)
        with Ledger.open(ledger_url) as ledger:
            rendered = render(ledger, pricing)
        if isinstance(rendered, str):
            _emit(rendered, output)
        else:
            console = report_console()
            for renderable in rendered:
                console.print(renderable)


@click.command("report")
@click.argument("run_ids", nargs=-1, required=True, metavar="RUN...")
@_format_option
@_output_option
@_ledger_option
@click.option(
    "--cohort",
    type=click.Choice(["all", "given"]),
    default="all",
    show_default=True,
    help="the runs whose maxima normalise the paper's AEI: every run in the ledger, or only "
    "the runs given here (the stable AEI never depends on it)",
)
@_pricing_option
def report_command(
    run_ids: tuple[str, ...],
    output_format: str,
    output: Path | None,
    ledger_url: str | None,
    cohort: str,
    pricing_path: Path | None,
) -> None:
    """Report on one or more runs: stages, the paper's metrics, AEI, usage, cost, failures.

    Exit codes: 0 written, 2 bad input (unknown run, bad pricing file), 3 ledger unusable.
    """
    _render_and_emit(
        lambda ledger, pricing: render_report(
            ledger,
            list(run_ids),
            output_format=output_format,
            cohort=list(run_ids) if cohort == "given" else None,
            pricing=pricing,
            to_terminal=output is None,
        ),
        ledger_url,
        pricing_path,
        output,
    )


@click.command("leaderboard")
@_format_option
@_output_option
@_ledger_option
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice([status.value for status in RunStatus]),
    help="only runs with this status (repeatable; default: every run)",
)
@click.option(
    "--epoch",
    default=None,
    help="only runs graded on this epoch (default: every run; rows never mix epochs, and the "
    "leaderboard says when its rows come from more than one)",
)
@_pricing_option
def leaderboard_command(
    output_format: str,
    output: Path | None,
    ledger_url: str | None,
    statuses: tuple[str, ...],
    epoch: str | None,
    pricing_path: Path | None,
) -> None:
    """One row per agent + model + harness + epoch: trials, mean and spread, pass^k, cost,
    time, tiers.

    Exit codes: 0 written, 2 bad input (no runs, bad pricing file), 3 ledger unusable.
    """
    _render_and_emit(
        lambda ledger, pricing: render_leaderboard(
            ledger,
            output_format=output_format,
            statuses=statuses,
            epoch=epoch,
            pricing=pricing,
            to_terminal=output is None,
        ),
        ledger_url,
        pricing_path,
        output,
    )
