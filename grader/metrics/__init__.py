"""RAMP's reward metrics: the paper's tier, Mean Reward, pipeline and pass scores, its
cohort-relative Agent Efficiency Index (AEI), a stable AEI against fixed budgets, the
score-table reader behind ``ramp-grade aei``, and the statistics of repeated trials
(bootstrap intervals, paired comparisons, pass@k / pass^k, a suggested number of trials).

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
from grader.metrics._stats import (
    BLOCK_CELLS,
    Comparison,
    Interval,
    Samples,
    bootstrap_ci,
    paired_difference,
    pass_at_k,
    pass_hat_k,
    suggested_k,
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
    "BLOCK_CELLS",
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
    "Comparison",
    "Interval",
    "MetricsError",
    "ReferenceBudgets",
    "RunEfficiency",
    "RunRewards",
    "Samples",
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
    "bootstrap_ci",
    "cohort_aei",
    "cohort_maxima",
    "mean_reward",
    "paired_difference",
    "parse_table",
    "pass_at_k",
    "pass_hat_k",
    "pass_score",
    "passed",
    "pipeline_score",
    "read_table",
    "rewards",
    "stable_aei",
    "suggested_k",
    "tier",
]
