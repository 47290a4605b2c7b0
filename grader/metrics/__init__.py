"""RAMP's reward metrics: the paper's tier, Mean Reward, pipeline and pass scores, its
cohort-relative Agent Efficiency Index (AEI), a stable AEI against fixed budgets, and the
score-table reader behind ``ramp-grade aei``.

All functions are pure and deterministic; models are frozen and keep full precision (round
only for presentation, via their ``rounded()`` helpers).
"""

from __future__ import annotations

from grader.metrics._aei import (
    PAPER_COHORT_MAXIMA,
    REFERENCE_BUDGETS,
    AeiBreakdown,
    CohortMaxima,
    ReferenceBudgets,
    RunEfficiency,
    cohort_aei,
    cohort_maxima,
    stable_aei,
)
from grader.metrics._cli import aei_command
from grader.metrics._errors import MetricsError, ScoresError, TableError, TableProblem
from grader.metrics._rewards import (
    AFFECTED_BONUS,
    AFFECTED_PASS_WEIGHT,
    PASS_THRESHOLD,
    STAGE_COUNT,
    STAGE_NAMES,
    STAGE_WEIGHTS,
    UNAFFECTED_BONUS,
    UNAFFECTED_PASS_WEIGHT,
    RunRewards,
    ScoresLike,
    StageScores,
    affected,
    as_scores,
    mean_reward,
    pass_score,
    passed,
    pipeline_score,
    rewards,
    tier,
)
from grader.metrics._table import (
    REQUIRED_COLUMNS,
    AeiRow,
    AeiTable,
    TableRow,
    aei_table,
    parse_table,
    read_table,
)

__all__ = [
    "AFFECTED_BONUS",
    "AFFECTED_PASS_WEIGHT",
    "PAPER_COHORT_MAXIMA",
    "PASS_THRESHOLD",
    "REFERENCE_BUDGETS",
    "REQUIRED_COLUMNS",
    "STAGE_COUNT",
    "STAGE_NAMES",
    "STAGE_WEIGHTS",
    "UNAFFECTED_BONUS",
    "UNAFFECTED_PASS_WEIGHT",
    "AeiBreakdown",
    "AeiRow",
    "AeiTable",
    "CohortMaxima",
    "MetricsError",
    "ReferenceBudgets",
    "RunEfficiency",
    "RunRewards",
    "ScoresError",
    "ScoresLike",
    "StageScores",
    "TableError",
    "TableProblem",
    "TableRow",
    "aei_command",
    "aei_table",
    "affected",
    "as_scores",
    "cohort_aei",
    "cohort_maxima",
    "mean_reward",
    "parse_table",
    "pass_score",
    "passed",
    "pipeline_score",
    "read_table",
    "rewards",
    "stable_aei",
    "tier",
]
