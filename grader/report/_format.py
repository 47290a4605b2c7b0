"""How figures read in every human format (terminal, Markdown, HTML): one place, one style."""

from __future__ import annotations

from datetime import datetime

__all__ = [
    "count",
    "duration",
    "money",
    "percent",
    "printable",
    "score",
    "signed_tier",
    "when",
]

_MINUTE = 60.0
_HOUR = 3600.0


def printable(text: str, *, lines: bool = False) -> str:
    """``text`` with every character that is not printable (escape sequences, bell,
    carriage returns; newlines too unless ``lines``) written as its Python escape: text an
    agent controlled (a tool's name, a file's name quoted in an error) can then neither
    drive a terminal nor forge lines of a log."""
    if text.isprintable():
        return text
    return "".join(
        ch if ch.isprintable() or (lines and ch == "\n") else repr(ch)[1:-1] for ch in text
    )


def score(value: float | None, digits: int = 2) -> str:
    """A score or percentage with ``digits`` decimals; ``-`` when unknown."""
    return "-" if value is None else f"{value:.{digits}f}"


def percent(value: float | None) -> str:
    """A percentage with one decimal and a ``%`` sign; ``-`` when unknown."""
    return "-" if value is None else f"{value:.1f}%"


def duration(seconds: float | None) -> str:
    """``12.3 s`` below a minute, ``4m 05s`` below an hour, ``1h 30m 41s`` above."""
    if seconds is None:
        return "-"
    if seconds < _MINUTE:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    hours, rest = divmod(whole, int(_HOUR))
    minutes, secs = divmod(rest, int(_MINUTE))
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    return f"{minutes}m {secs:02d}s"


def money(value: float | None) -> str:
    """Dollars: four decimals under $1 (agents' runs are often cents), else two."""
    if value is None:
        return "unknown"
    return f"${value:.4f}" if abs(value) < 1 else f"${value:,.2f}"


def count(value: int | float | None) -> str:
    """A whole number with thousands separators; ``-`` when unknown."""
    return "-" if value is None else f"{round(value):,}"


def signed_tier(tier: int) -> str:
    """``T3`` for tier 3, ``none`` when not even T0 scored 100."""
    return "none" if tier < 0 else f"T{tier}"


def when(moment: datetime | None) -> str:
    """A UTC timestamp to the second, ``-`` when unknown."""
    return "-" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%SZ")
