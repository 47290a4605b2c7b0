"""Reports people read at a glance: per-run metrics and a leaderboard, in four formats.

:func:`run_metrics` gathers everything about one run (identity, elapsed time, stages, the
paper's metrics, both AEIs, usage and cost, the failure diagnosis, a time line) into a
:class:`RunMetrics`; :func:`leaderboard` aggregates repeated trials per agent + model +
harness. Both render as terminal tables, Markdown, JSON (docs/report-schema.md) or one
self-contained HTML page with charts: ``ramp-grade report`` and ``ramp-grade leaderboard``.
"""

from __future__ import annotations

from grader.report._cli import leaderboard_command, report_command
from grader.report._errors import ReportError
from grader.report._leaderboard import (
    TIER_KEYS,
    Leaderboard,
    LeaderboardRow,
    Spread,
    leaderboard,
    leaderboard_from_ledger,
    spread,
)
from grader.report._metrics import run_metrics, runs_metrics
from grader.report._model import (
    SCHEMA_VERSION,
    AeiFigures,
    ElapsedTime,
    Funnel,
    ReportDocument,
    ResurrectionEntry,
    RunIdentity,
    RunMetrics,
    StageMetrics,
    SubmissionEntry,
    TimelineEntry,
    ToolCallEntry,
)
from grader.report._render import (
    FORMATS,
    Format,
    render_document,
    render_leaderboard,
    render_leaderboard_document,
    render_report,
    report_document,
)
from grader.report._schema import leaderboard_schema, report_schema, schema_markdown
from grader.report._term import report_console, report_renderables

__all__ = [
    "FORMATS",
    "SCHEMA_VERSION",
    "TIER_KEYS",
    "AeiFigures",
    "ElapsedTime",
    "Format",
    "Funnel",
    "Leaderboard",
    "LeaderboardRow",
    "ReportDocument",
    "ReportError",
    "ResurrectionEntry",
    "RunIdentity",
    "RunMetrics",
    "Spread",
    "StageMetrics",
    "SubmissionEntry",
    "TimelineEntry",
    "ToolCallEntry",
    "leaderboard",
    "leaderboard_command",
    "leaderboard_from_ledger",
    "leaderboard_schema",
    "render_document",
    "render_leaderboard",
    "render_leaderboard_document",
    "render_report",
    "report_command",
    "report_console",
    "report_document",
    "report_renderables",
    "report_schema",
    "run_metrics",
    "runs_metrics",
    "schema_markdown",
    "spread",
]
