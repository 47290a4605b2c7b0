"""The paper's cohort AEI and the stable AEI."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from grader.metrics import (
    PAPER_COHORT_MAXIMA,
    REFERENCE_BUDGETS,
    CohortMaxima,
    MetricsError,
    RunEfficiency,
    cohort_aei,
    cohort_maxima,
    stable_aei,
)

GPT = RunEfficiency.from_scores(
    (100, 100, 100, 100, 48.25, 0), elapsed_s=5440.69, cost_usd=8.770572, total_tokens=22_179_194
)
OPUS = RunEfficiency.from_scores(
    (100, 100, 100, 100, 68.4, 100), elapsed_s=11913.79, cost_usd=126.24, total_tokens=218_860_749
)


def test_published_rows_over_their_own_cohort() -> None:
    gpt, opus = cohort_aei([GPT, OPUS])
    assert round(gpt.aei, 2) == 81.57
    assert round(opus.aei, 2) == 40.00
    # The run holding every maximum: stage and reward 100, time, cost and tokens 0.
    assert (opus.stage, opus.reward, opus.time, opus.cost, opus.tokens) == (100, 100, 0, 0, 0)
    assert gpt.stage == 100.0
    assert gpt.time == pytest.approx((11913.79 - 5440.69) / 11913.79 * 100)
    assert gpt.cost == pytest.approx((126.24 - 8.770572) / 126.24 * 100)
    assert gpt.tokens == pytest.approx((218_860_749 - 22_179_194) / 218_860_749 * 100)
    assert gpt.aei == pytest.approx((gpt.stage + gpt.reward + gpt.time + gpt.cost + gpt.tokens) / 5)


def test_published_rows_against_the_paper_cohort_maxima() -> None:
    gpt, opus = cohort_aei([GPT, OPUS], PAPER_COHORT_MAXIMA)
    assert gpt.rounded().aei == 81.57
    assert opus.rounded().aei == 40.00


def test_cohort_maxima() -> None:
    maxima = cohort_maxima([GPT, OPUS])
    assert maxima == CohortMaxima(
        elapsed_s=11913.79,
        cost_usd=126.24,
        total_tokens=218_860_749,
        mean_reward=OPUS.mean_reward,
        tier=3,
    )
    with pytest.raises(MetricsError, match="empty"):
        cohort_maxima([])
    assert cohort_aei([]) == []


def test_stable_aei_does_not_move_when_a_run_joins_but_cohort_aei_does() -> None:
    newcomer = RunEfficiency.from_scores(
        (100,) * 6, elapsed_s=20_000.0, cost_usd=300.0, total_tokens=400_000_000
    )
    before = cohort_aei([GPT, OPUS])
    after = cohort_aei([GPT, OPUS, newcomer])
    assert after[0].aei != before[0].aei
    assert after[1].aei != before[1].aei
    assert stable_aei(GPT) == stable_aei(GPT, REFERENCE_BUDGETS)
    # stable_aei takes one run: nothing else can enter it. Recompute after the newcomer anyway.
    assert [stable_aei(run) for run in (GPT, OPUS)] == [stable_aei(GPT), stable_aei(OPUS)]


def test_stable_aei_uses_tier_five_and_the_paper_budgets() -> None:
    gpt = stable_aei(GPT)
    assert gpt.stage == pytest.approx(60.0)  # tier 3 of 5
    assert gpt.reward == pytest.approx(GPT.mean_reward / 93.39 * 100)
    assert gpt.time == pytest.approx((11913.79 - 5440.69) / 11913.79 * 100)
    assert REFERENCE_BUDGETS.tier == 5
    perfect = RunEfficiency(elapsed_s=0, cost_usd=0, total_tokens=0, tier=5, mean_reward=100)
    assert stable_aei(perfect).aei == 100.0  # MR above the 93.39 budget clips to 100


def test_zero_maxima_guards() -> None:
    idle = RunEfficiency(elapsed_s=0, cost_usd=0, total_tokens=0, tier=0, mean_reward=0)
    (only,) = cohort_aei([idle])
    # Zero max tier and MR give 0; zero max time, cost and tokens give 100.
    assert (only.stage, only.reward, only.time, only.cost, only.tokens) == (0, 0, 100, 100, 100)
    assert only.aei == 60.0


def test_negative_tier_and_over_budget_runs_clip() -> None:
    broke = RunEfficiency(
        elapsed_s=99_999, cost_usd=1_000, total_tokens=10**12, tier=-1, mean_reward=10
    )
    (scored,) = cohort_aei([broke], PAPER_COHORT_MAXIMA)
    assert (scored.stage, scored.time, scored.cost, scored.tokens) == (0, 0, 0, 0)
    assert scored.reward == pytest.approx(10 / 93.39 * 100)
    both = cohort_aei([broke, broke])
    assert both[0].stage == 0.0  # cohort max tier -1 is not positive


def test_run_efficiency_validation() -> None:
    with pytest.raises(ValidationError):
        RunEfficiency(elapsed_s=-1, cost_usd=0, total_tokens=0, tier=0, mean_reward=0)
    with pytest.raises(ValidationError):
        RunEfficiency(elapsed_s=0, cost_usd=0, total_tokens=0, tier=6, mean_reward=0)
    with pytest.raises(ValidationError):
        RunEfficiency(elapsed_s=0, cost_usd=float("inf"), total_tokens=0, tier=0, mean_reward=0)
    with pytest.raises(ValidationError):
        RunEfficiency(elapsed_s=0, cost_usd=0, total_tokens=0, tier=0, mean_reward=100.5)
