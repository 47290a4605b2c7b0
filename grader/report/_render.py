"""From the ledger to a rendered report or leaderboard, in any of the four formats."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Literal

from rich.console import RenderableType

from grader.ledger import Ledger, utc_now
from grader.metrics import REFERENCE_BUDGETS, ReferenceBudgets
from grader.report._campaign import CampaignReport
from grader.report._errors import ReportError
from grader.report._html import campaign_html, leaderboard_html, report_html
from grader.report._leaderboard import Leaderboard, leaderboard_from_ledger
from grader.report._markdown import campaign_markdown, leaderboard_markdown, report_markdown
from grader.report._metrics import runs_metrics
from grader.report._model import ReportDocument
from grader.report._term import (
    campaign_renderables,
    leaderboard_renderables,
    render_text,
    report_renderables,
)
from grader.usage import PricingTable

__all__ = [
    "FORMATS",
    "Format",
    "render_campaign_document",
    "render_document",
    "render_leaderboard",
    "render_leaderboard_document",
    "render_report",
    "report_document",
]

Format = Literal["term", "md", "json", "html"]
FORMATS: Final[tuple[Format, ...]] = ("term", "md", "json", "html")
_CAMPAIGN_WIDTH: Final = 200  # the rows table: twelve columns, five of them intervals


def report_document(
    ledger: Ledger,
    run_ids: Sequence[str],
    *,
    cohort: list[str] | None = None,
    pricing: PricingTable | None = None,
    budgets: ReferenceBudgets = REFERENCE_BUDGETS,
) -> ReportDocument:
    """The JSON report's document for ``run_ids`` (see :func:`runs_metrics` for ``cohort``)."""
    runs = runs_metrics(ledger, run_ids, cohort=cohort, pricing=pricing, budgets=budgets)
    return ReportDocument(generated_at=utc_now(), runs=runs)


def _check(output_format: str) -> None:
    if output_format not in FORMATS:
        raise ReportError(
            f"unknown report format {output_format!r}; choose one of {', '.join(FORMATS)}"
        )


def render_document(document: ReportDocument, output_format: str) -> str:
    """``document`` as text in ``output_format`` (``term`` gives plain text, no colour)."""
    _check(output_format)
    if output_format == "json":
        return document.model_dump_json(indent=2) + "\n"
    if output_format == "md":
        return report_markdown(document.runs)
    if output_format == "html":
        return report_html(document)
    return render_text(report_renderables(document.runs))


def render_leaderboard_document(board: Leaderboard, output_format: str) -> str:
    """``board`` as text in ``output_format`` (``term`` gives plain text, no colour)."""
    _check(output_format)
    if output_format == "json":
        return board.model_dump_json(indent=2) + "\n"
    if output_format == "md":
        return leaderboard_markdown(board)
    if output_format == "html":
        return leaderboard_html(board)
    return render_text(leaderboard_renderables(board))


def render_campaign_document(report: CampaignReport, output_format: str) -> str:
    """A campaign report as text in ``output_format`` (``term`` gives plain text, no colour;
    for colour on a terminal print :func:`campaign_renderables` instead)."""
    _check(output_format)
    if output_format == "json":
        return report.model_dump_json(indent=2) + "\n"
    if output_format == "md":
        return campaign_markdown(report)
    if output_format == "html":
        return campaign_html(report)
    return render_text(campaign_renderables(report), width=_CAMPAIGN_WIDTH)


def render_report(
    ledger: Ledger,
    run_ids: Sequence[str],
    *,
    output_format: str,
    cohort: list[str] | None = None,
    pricing: PricingTable | None = None,
    to_terminal: bool = False,
) -> str | list[RenderableType]:
    """The report of ``run_ids``; rich renderables for ``term`` on a terminal, else text."""
    _check(output_format)
    document = report_document(ledger, run_ids, cohort=cohort, pricing=pricing)
    if output_format == "term" and to_terminal:
        return report_renderables(document.runs)
    return render_document(document, output_format)


def render_leaderboard(
    ledger: Ledger,
    *,
    output_format: str,
    statuses: Sequence[str] = (),
    epoch: str | None = None,
    pricing: PricingTable | None = None,
    to_terminal: bool = False,
) -> str | list[RenderableType]:
    """The leaderboard of the ledger; rich renderables for ``term`` on a terminal, else text."""
    _check(output_format)
    board = leaderboard_from_ledger(ledger, statuses=statuses, epoch=epoch, pricing=pricing)
    if output_format == "term" and to_terminal:
        return leaderboard_renderables(board)
    return render_leaderboard_document(board, output_format)
