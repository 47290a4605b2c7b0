"""The campaign in the terminal: a live view while it runs, a table when asked."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from grader.report import printable
from ramp_mcp.campaign._status import CampaignStatus

__all__ = ["LiveView", "status_table", "summary_line"]

_STYLES = {"queued": "dim", "running": "cyan", "graded": "green", "failed": "red"}
_SHOWN_TRIALS = 24


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def summary_line(status: CampaignStatus) -> Text:
    """``campaign NAME: 2 queued, 1 running, 3 graded, 0 failed | elapsed | ETA``."""
    line = Text(f"campaign {printable(status.campaign)}: ")
    for i, (state, count) in enumerate(status.counts.items()):
        line.append(f"{', ' if i else ''}{count} {state}", style=_STYLES.get(state, ""))
    line.append(
        f" of {status.total} | {status.attempts} attempt(s) | elapsed "
        f"{_duration(status.elapsed_s)} | ETA {_duration(status.eta_s)}"
    )
    return line


def status_table(status: CampaignStatus, *, limit: int | None = None) -> Table:
    """One row per trial (running ones first when ``limit`` cuts the list)."""
    table = Table(show_edge=False, pad_edge=False)
    for column in ("agent", "model", "#", "state", "attempts", "run", "note"):
        table.add_column(column, no_wrap=column != "note")
    trials = status.trials
    if limit is not None and len(trials) > limit:
        trials = sorted(trials, key=lambda t: t.state != "running")[:limit]
    for trial in trials:
        note = trial.error or ""
        if trial.infrastructure_failures:
            note = f"{trial.infrastructure_failures} infrastructure failure(s) {note}".strip()
        # Text, never markup: an error quotes what the agent named (tools, files).
        table.add_row(
            Text(printable(trial.agent)),
            Text(printable(trial.model)),
            str(trial.index),
            Text(trial.state, style=_STYLES.get(trial.state, "")),
            str(trial.attempts),
            trial.run_id or "-",
            Text(printable(note[:160])),
        )
    return table


class LiveView:
    """A live view on stderr, redrawn with each progress update."""

    def __init__(self, console: Console) -> None:
        self._live = Live(Text("starting the campaign"), console=console, auto_refresh=False)

    def __enter__(self) -> LiveView:
        self._live.__enter__()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._live.__exit__(kind, error, traceback)

    def update(self, status: CampaignStatus) -> None:
        parts: list[RenderableType] = [
            summary_line(status),
            status_table(status, limit=_SHOWN_TRIALS),
        ]
        self._live.update(Group(*parts), refresh=True)
