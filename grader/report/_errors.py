"""Errors raised while building or rendering reports; they derive from :class:`RampError`."""

from __future__ import annotations

from toolchain import RampError

__all__ = ["ReportError"]


class ReportError(RampError):
    """A report or leaderboard was asked for with inputs it cannot be built from."""
