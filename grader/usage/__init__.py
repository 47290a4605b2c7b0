"""Usage and cost of runs: importing agent transcripts (Claude Code, Codex, RAMP's generic
JSONL), reporting usage live, pricing it, and summing a run's tokens, cost and tool calls.

Everything lands in the ledger's usage events, OTel GenAI-shaped and deduplicated by
(run, key): importing the same transcript twice changes nothing.
"""

from __future__ import annotations

from grader.usage._api_errors import INFRASTRUCTURE_ERRORS, classify_error
from grader.usage._claude import import_claude_code
from grader.usage._cli import usage_group
from grader.usage._codex import import_codex
from grader.usage._errors import PricingError, UsageError, UsageInputError
from grader.usage._generic import import_jsonl, report_usage
from grader.usage._models import (
    ERROR_CLASSES,
    CostSource,
    ErrorClass,
    ImportFormat,
    ImportProblem,
    ImportReport,
    ModelUsage,
    RunUsage,
    TokenCounts,
    ToolCalls,
    ToolStats,
    UsageRecord,
)
from grader.usage._pricing import (
    PRICING_ENV,
    SHIPPED_PRICING,
    LongContextRates,
    ModelPrice,
    PricingTable,
    Rates,
    load_pricing,
)
from grader.usage._summary import run_usage, token_counts

__all__ = [
    "ERROR_CLASSES",
    "INFRASTRUCTURE_ERRORS",
    "PRICING_ENV",
    "SHIPPED_PRICING",
    "CostSource",
    "ErrorClass",
    "ImportFormat",
    "ImportProblem",
    "ImportReport",
    "LongContextRates",
    "ModelPrice",
    "ModelUsage",
    "PricingError",
    "PricingTable",
    "Rates",
    "RunUsage",
    "TokenCounts",
    "ToolCalls",
    "ToolStats",
    "UsageError",
    "UsageInputError",
    "UsageRecord",
    "classify_error",
    "import_claude_code",
    "import_codex",
    "import_jsonl",
    "load_pricing",
    "report_usage",
    "run_usage",
    "token_counts",
    "usage_group",
]
