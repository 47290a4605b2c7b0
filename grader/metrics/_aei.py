"""The Agent Efficiency Index (AEI): the paper's cohort-relative form and a stable form.

Both average five sub-scores, each clipped to [0, 100]:

* ``stage  = tier / max_tier * 100``
* ``reward = MR / max_MR * 100``
* ``time   = (max_T - T) / max_T * 100``   (T: elapsed wall seconds)
* ``cost   = (max_C - C) / max_C * 100``   (C: dollars)
* ``tokens = (max_K - K) / max_K * 100``   (K: total tokens as logged)

:func:`cohort_aei` takes the maxima over the cohort being compared (the paper's AEI, which moves
when a run joins or leaves the cohort). :func:`stable_aei` divides by fixed reference budgets
(:data:`REFERENCE_BUDGETS`) so a run's index never depends on other runs.

Division guards: a maximum that is not positive gives ``stage = 0`` / ``reward = 0`` (nothing
was reached, so nothing is credited) and ``time = cost = tokens = 100`` (nothing was spent, so
nothing was wasted). A tier of -1 (T0 below 100) counts as 0 after clipping.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Annotated, Final

from pydantic import BaseModel, ConfigDict, Field

from grader.metrics._errors import MetricsError
from grader.metrics._rewards import STAGE_COUNT, ScoresLike, as_scores, mean_reward, tier

__all__ = [
    "PAPER_COHORT_MAXIMA",
    "REFERENCE_BUDGETS",
    "AeiBreakdown",
    "CohortMaxima",
    "ReferenceBudgets",
    "RunEfficiency",
    "cohort_aei",
    "cohort_maxima",
    "stable_aei",
]

_SUBSCORES: Final = 5
_HUNDRED: Final = 100.0

Percent = Annotated[float, Field(ge=0.0, le=100.0, allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
Tier = Annotated[int, Field(ge=-1, le=STAGE_COUNT - 1, strict=True)]
Tokens = Annotated[int, Field(ge=0, strict=True)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RunEfficiency(_Frozen):
    """What the AEI needs from one run: its spend and its outcome."""

    elapsed_s: NonNegative
    cost_usd: NonNegative
    total_tokens: Tokens
    tier: Tier
    mean_reward: Percent

    @classmethod
    def from_scores(
        cls, scores: ScoresLike, *, elapsed_s: float, cost_usd: float, total_tokens: int
    ) -> RunEfficiency:
        """Build from six stage scores, computing tier and Mean Reward from them."""
        checked = as_scores(scores)
        return cls(
            elapsed_s=elapsed_s,
            cost_usd=cost_usd,
            total_tokens=total_tokens,
            tier=tier(checked),
            mean_reward=mean_reward(checked),
        )


class _Normaliser(_Frozen):
    elapsed_s: NonNegative
    cost_usd: NonNegative
    total_tokens: Tokens
    mean_reward: Percent
    tier: Tier


class CohortMaxima(_Normaliser):
    """The maxima of a cohort, which the paper's AEI divides by."""


class ReferenceBudgets(_Normaliser):
    """Fixed denominators for the stable AEI; they never depend on which runs are compared."""


PAPER_COHORT_MAXIMA: Final = CohortMaxima(
    elapsed_s=11913.79, cost_usd=126.24, total_tokens=218_860_749, mean_reward=93.39, tier=3
)
"""The maxima of the paper's 15-model cohort (arXiv 2605.27492)."""

REFERENCE_BUDGETS: Final = ReferenceBudgets(
    elapsed_s=PAPER_COHORT_MAXIMA.elapsed_s,
    cost_usd=PAPER_COHORT_MAXIMA.cost_usd,
    total_tokens=PAPER_COHORT_MAXIMA.total_tokens,
    mean_reward=PAPER_COHORT_MAXIMA.mean_reward,
    tier=STAGE_COUNT - 1,
)
"""The stable AEI's budgets: the paper cohort's maxima for time, cost, tokens and Mean Reward
(11913.79 s, $126.24, 218,860,749 tokens, MR 93.39), but tier 5 rather than the cohort's 3,
because all six stages exist and reaching T5 is possible. A run spending more than a budget
scores 0 on that sub-score; a Mean Reward above 93.39 scores 100 on the reward sub-score."""


class AeiBreakdown(_Frozen):
    """The five sub-scores and their mean, the AEI, all at full precision."""

    stage: Percent
    reward: Percent
    time: Percent
    cost: Percent
    tokens: Percent
    aei: Percent

    def rounded(self, digits: int = 2) -> AeiBreakdown:
        """A copy with every figure rounded for presentation."""
        return AeiBreakdown(
            stage=round(self.stage, digits),
            reward=round(self.reward, digits),
            time=round(self.time, digits),
            cost=round(self.cost, digits),
            tokens=round(self.tokens, digits),
            aei=round(self.aei, digits),
        )


def cohort_maxima(runs: Sequence[RunEfficiency]) -> CohortMaxima:
    """The per-field maxima over ``runs``; raises :class:`MetricsError` for an empty cohort."""
    if not runs:
        raise MetricsError("cohort maxima need at least one run; the cohort is empty")
    return CohortMaxima(
        elapsed_s=max(run.elapsed_s for run in runs),
        cost_usd=max(run.cost_usd for run in runs),
        total_tokens=max(run.total_tokens for run in runs),
        mean_reward=max(run.mean_reward for run in runs),
        tier=max(run.tier for run in runs),
    )


def cohort_aei(
    runs: Sequence[RunEfficiency], maxima: CohortMaxima | None = None
) -> list[AeiBreakdown]:
    """The paper's AEI of every run, in order, normalised by ``maxima``.

    ``maxima`` defaults to the maxima over ``runs`` themselves; pass
    :data:`PAPER_COHORT_MAXIMA` (or any other) to score runs against a fixed cohort. An empty
    ``runs`` gives an empty list.
    """
    if not runs:
        return []
    scale = cohort_maxima(runs) if maxima is None else maxima
    return [_breakdown(run, scale) for run in runs]


def stable_aei(run: RunEfficiency, budgets: ReferenceBudgets = REFERENCE_BUDGETS) -> AeiBreakdown:
    """The AEI of ``run`` against fixed ``budgets``: it never moves when other runs change."""
    return _breakdown(run, budgets)


def _breakdown(run: RunEfficiency, scale: _Normaliser) -> AeiBreakdown:
    stage = _share(float(run.tier), float(scale.tier))
    reward = _share(run.mean_reward, scale.mean_reward)
    time = _saving(run.elapsed_s, scale.elapsed_s)
    cost = _saving(run.cost_usd, scale.cost_usd)
    tokens = _saving(float(run.total_tokens), float(scale.total_tokens))
    aei = _clip(math.fsum((stage, reward, time, cost, tokens)) / _SUBSCORES)
    return AeiBreakdown(stage=stage, reward=reward, time=time, cost=cost, tokens=tokens, aei=aei)


def _share(value: float, maximum: float) -> float:
    """value / maximum * 100, clipped; 0 when the maximum is not positive."""
    if maximum <= 0.0:
        return 0.0
    return _clip(value / maximum * _HUNDRED)


def _saving(value: float, maximum: float) -> float:
    """(maximum - value) / maximum * 100, clipped; 100 when the maximum is not positive."""
    if maximum <= 0.0:
        return _HUNDRED
    return _clip((maximum - value) / maximum * _HUNDRED)


def _clip(value: float) -> float:
    return min(max(value, 0.0), _HUNDRED)
