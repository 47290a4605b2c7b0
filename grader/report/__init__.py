"""Reports people read at a glance: per-run metrics, a leaderboard and a campaign report,
in four formats.

:func:`run_metrics` gathers everything about one run (identity, elapsed time, stages, the
paper's metrics, both AEIs, usage and cost, the failure diagnosis, a time line) into a
:class:`RunMetrics`; :func:`leaderboard` aggregates repeated trials per agent + model +
harness; :func:`campaign_report` gives a campaign's rows with bootstrap intervals and
paired comparisons (:class:`CampaignReport`). All render as terminal tables, Markdown, JSON
(docs/report-schema.md) or one self-contained HTML page with charts: ``ramp-grade report``,
``ramp-grade leaderboard`` and (from :func:`render_campaign_document`) the campaign report.
"""

from __future__ import annotations

from grader.report._campaign import (
    CampaignComparison,
    CampaignReport,
    CampaignRow,
    PassAtK,
    TrialCoverage,
    TrialRow,
    TrialRun,
    campaign_report,
)
from grader.report._cli import leaderboard_command, report_command
from grader.report._errors import ReportError
from grader.report._format import printable
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
from grader.report._output import write_report
from grader.report._render import (
    FORMATS,
    Format,
    render_campaign_document,
    render_document,
    render_leaderboard,
    render_leaderboard_document,
    render_report,
    report_document,
)
from grader.report._schema import (
    campaign_schema,
    leaderboard_schema,
    report_schema,
    schema_markdown,
)
from grader.report._term import campaign_renderables, report_console, report_renderables

__all__ = [
    "FORMATS",
    "SCHEMA_VERSION",
    "TIER_KEYS",
    "AeiFigures",
    "CampaignComparison",
    "CampaignReport",
    "CampaignRow",
    "ElapsedTime",
    "Format",
    "Funnel",
    "Leaderboard",
    "LeaderboardRow",
    "PassAtK",
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
    "TrialCoverage",
    "TrialRow",
    "TrialRun",
    "campaign_renderables",
    "campaign_report",
    "campaign_schema",
    "leaderboard",
    "leaderboard_command",
    "leaderboard_from_ledger",
    "leaderboard_schema",
    "printable",
    "render_campaign_document",
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
    "write_report",
]
