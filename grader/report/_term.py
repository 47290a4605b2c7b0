"""Terminal rendering with rich: the blocks of :mod:`grader.report._sections` as tables.

Every string from the ledger goes in as :class:`rich.text.Text`, never as markup, so a label
such as ``[red]`` or ``[/x]`` is shown as written."""

from __future__ import annotations

import io
from collections.abc import Sequence

from rich import box
from rich.console import Console, RenderableType
from rich.rule import Rule
from rich.table import Table as RichTable
from rich.text import Text

from grader.report._campaign import CampaignReport
from grader.report._campaign_sections import campaign_blocks
from grader.report._format import printable
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

__all__ = [
    "REPORT_WIDTH",
    "campaign_renderables",
    "leaderboard_renderables",
    "render_text",
    "report_console",
    "report_renderables",
]

# The widest table (stages) needs about 110 columns; narrower consoles would cut columns.
REPORT_WIDTH = 120


def _shown(value: str) -> str:
    """A ledger string as the terminal shows it: control characters escaped."""
    return printable(value, lines=True)


def _text(value: str) -> Text:
    """A ledger string as a renderable: never markup, never a terminal control sequence."""
    return Text(_shown(value))


def _table(block: Table) -> RichTable:
    shown = RichTable(
        title=_text(block.title),
        title_justify="left",
        caption=None if block.note is None else _text(block.note),
        box=box.SIMPLE_HEAD,
    )
    for index, column in enumerate(block.columns):
        # Figures and short words are never wrapped or cut ("100.…" reads as nothing); a
        # table wider than the terminal wraps whole lines instead.
        widest = max([len(column), *(len(row[index]) for row in block.rows)])
        shown.add_column(
            _text(column),
            justify="right" if index in block.numeric else "left",
            no_wrap=widest <= 14,
            min_width=min(widest, 14),
        )
    for row in block.rows:
        shown.add_row(*(_text(cell) for cell in row))
    return shown


def _facts(block: Facts) -> RichTable:
    shown = RichTable(title=_text(block.title), title_justify="left", show_header=False, box=None)
    shown.add_column(style="bold")
    shown.add_column()
    for name, value in block.items:
        shown.add_row(_text(name), _text(value))
    return shown


def _bullets(block: Bullets) -> RenderableType:
    text = Text()
    text.append(_shown(block.title) + "\n", style="bold italic")
    if not block.items:
        text.append(f"  {_shown(block.empty)}\n")
    for headline, evidence in block.items:
        text.append(f"  • {_shown(headline)}\n", style="bold")
        for line in evidence:
            text.append(f"      - {_shown(line)}\n")
    return text


def _block(block: Block) -> RenderableType:
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Facts):
        return _facts(block)
    return _bullets(block)


def report_renderables(runs: Sequence[RunMetrics]) -> list[RenderableType]:
    """A summary table when there are several runs, then each run's blocks."""
    shown: list[RenderableType] = []
    if len(runs) > 1:
        shown.append(_table(summary_table(runs)))
    for run in runs:
        shown.append(Rule(_text(run_title(run))))
        shown.extend(_block(b) for b in run_blocks(run))
    return shown


def leaderboard_renderables(board: Leaderboard) -> list[RenderableType]:
    """The leaderboard as rich tables."""
    return [_block(block) for block in leaderboard_blocks(board)]


def campaign_renderables(report: CampaignReport) -> list[RenderableType]:
    """The campaign report as rich tables, intervals beside each mean."""
    return [_block(block) for block in campaign_blocks(report)]


def render_text(renderables: Sequence[RenderableType], *, width: int = 160) -> str:
    """Plain text (no colour codes) of ``renderables``, as written to a file with ``-o``."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, force_terminal=False)
    for renderable in renderables:
        console.print(renderable)
    return buffer.getvalue()


def report_console(*, stderr: bool = False) -> Console:
    """A console for reports: the terminal's width, but never narrower than the tables."""
    console = Console(stderr=stderr)
    if console.width < REPORT_WIDTH:
        console = Console(stderr=stderr, width=REPORT_WIDTH)
    return console
