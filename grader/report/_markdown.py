"""Markdown rendering: the same blocks as the terminal report, as GitHub-flavoured Markdown."""

from __future__ import annotations

from collections.abc import Sequence

from grader.ledger import utc_now
from grader.report import _format as fmt
from grader.report._campaign import CampaignReport
from grader.report._campaign_sections import campaign_blocks
from grader.report._leaderboard import Leaderboard
from grader.report._model import RunMetrics
from grader.report._sections import (
    Block,
    Bullets,
    Facts,
    Table,
    leaderboard_blocks,
    run_blocks,
    run_title,
    summary_table,
)

__all__ = ["campaign_markdown", "leaderboard_markdown", "report_markdown"]


def _cell(text: str) -> str:
    """A table cell's text: inline-escaped (so an agent's tool name is neither markup, HTML
    nor a link), lines joined with ``<br>``."""
    return "<br>".join(_inline(line, special=_CELL_SPECIAL) for line in text.split("\n"))


_SPECIAL = "\\`*_[]|#"
_ENTITIES = {"<": "&lt;", ">": "&gt;"}  # what no renderer takes as HTML
_CELL_SPECIAL = _SPECIAL.replace("#", "")  # a heading only starts a line


def _inline(text: str, *, special: str = _SPECIAL) -> str:
    """Escape text outside tables so names with ``*`` or ``_`` are not taken as emphasis,
    ``<...>`` as HTML or ``[..](..)`` as a link; control characters are shown escaped."""
    return "".join(
        _ENTITIES.get(ch) or ("\\" + ch if ch in special else ch) for ch in fmt.printable(text)
    )


def _table(block: Table, level: str) -> list[str]:
    lines = [f"{level} {_inline(block.title)}", ""]
    lines.append("| " + " | ".join(_cell(c) for c in block.columns) + " |")
    lines.append(
        "|"
        + "|".join("---:" if i in block.numeric else "---" for i in range(len(block.columns)))
        + "|"
    )
    lines.extend("| " + " | ".join(_cell(c) for c in row) + " |" for row in block.rows)
    if block.note:
        lines.extend(["", f"_{_inline(block.note)}_"])
    lines.append("")
    return lines


def _facts(block: Facts, level: str) -> list[str]:
    lines = [f"{level} {_inline(block.title)}", ""]
    lines.extend(f"- **{_inline(name)}**: {_inline(value)}" for name, value in block.items)
    lines.append("")
    return lines


def _bullets(block: Bullets, level: str) -> list[str]:
    lines = [f"{level} {_inline(block.title)}", ""]
    if not block.items:
        lines.append(f"- {_inline(block.empty)}")
    for headline, evidence in block.items:
        lines.append(f"- **{_inline(headline)}**")
        lines.extend(f"  - {_inline(line)}" for line in evidence)
    lines.append("")
    return lines


def _block(block: Block, level: str) -> list[str]:
    if isinstance(block, Table):
        return _table(block, level)
    if isinstance(block, Facts):
        return _facts(block, level)
    return _bullets(block, level)


def report_markdown(runs: Sequence[RunMetrics]) -> str:
    """The report of ``runs`` as one Markdown document."""
    lines = ["# RAMP run report", "", f"_generated {fmt.when(utc_now())}_", ""]
    if len(runs) > 1:
        lines.extend(_table(summary_table(runs), "##"))
    for run in runs:
        lines.extend([f"## {_inline(run_title(run))}", ""])
        for block in run_blocks(run):
            lines.extend(_block(block, "###"))
    return "\n".join(lines)


def leaderboard_markdown(board: Leaderboard) -> str:
    """The leaderboard as one Markdown document."""
    lines = ["# RAMP leaderboard", "", f"_generated {fmt.when(board.generated_at)}_", ""]
    for block in leaderboard_blocks(board):
        lines.extend(_block(block, "##"))
    return "\n".join(lines)


def campaign_markdown(report: CampaignReport) -> str:
    """The campaign report as one Markdown document."""
    lines = [f"# RAMP campaign {_inline(report.campaign)}", ""]
    for block in campaign_blocks(report):
        lines.extend(_block(block, "##"))
    return "\n".join(lines)
