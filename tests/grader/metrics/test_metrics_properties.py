"""Property tests: every sub-score and AEI stays in [0, 100]; everything is deterministic."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from grader.metrics import (
    PAPER_COHORT_MAXIMA,
    AeiBreakdown,
    CohortMaxima,
    ReferenceBudgets,
    RunEfficiency,
    cohort_aei,
    mean_reward,
    pass_score,
    pipeline_score,
    rewards,
    stable_aei,
    tier,
)

score = st.one_of(st.sampled_from([0.0, 60.0, 100.0]), st.floats(0, 100, allow_nan=False))
stage_scores = st.tuples(score, score, score, score, score, score)
spend = st.floats(0, 1e9, allow_nan=False, allow_infinity=False)
tokens = st.integers(0, 10**12)
runs = st.builds(
    lambda scores, elapsed, cost, used: RunEfficiency.from_scores(
        scores, elapsed_s=elapsed, cost_usd=cost, total_tokens=used
    ),
    stage_scores,
    spend,
    spend,
    tokens,
)
normalisers = st.fixed_dictionaries(
    {
        "elapsed_s": spend,
        "cost_usd": spend,
        "total_tokens": tokens,
        "mean_reward": st.floats(0, 100, allow_nan=False),
        "tier": st.integers(-1, 5),
    }
)


def _within(breakdown: AeiBreakdown) -> bool:
    parts = (breakdown.stage, breakdown.reward, breakdown.time, breakdown.cost, breakdown.tokens)
    return all(0.0 <= part <= 100.0 for part in (*parts, breakdown.aei))


@given(stage_scores)
def test_rewards_within_range_and_deterministic(scores: tuple[float, ...]) -> None:
    bundle = rewards(scores)
    assert bundle == rewards(scores)
    assert -1 <= tier(scores) <= 5
    for value in (mean_reward(scores), pipeline_score(scores), pass_score(scores)):
        assert 0.0 <= value <= 100.0
    assert (bundle.mean_reward, bundle.tier) == (mean_reward(scores), tier(scores))


@settings(max_examples=200)
@given(st.lists(runs, min_size=1, max_size=8))
def test_cohort_aei_within_range_deterministic_and_order_free(cohort: list[RunEfficiency]) -> None:
    first = cohort_aei(cohort)
    assert all(_within(breakdown) for breakdown in first)
    assert first == cohort_aei(cohort)
    assert list(reversed(cohort_aei(list(reversed(cohort))))) == first
    assert all(_within(b) for b in cohort_aei(cohort, PAPER_COHORT_MAXIMA))


@given(runs, normalisers)
def test_aei_within_range_for_any_normaliser(run: RunEfficiency, scale: dict[str, float]) -> None:
    assert _within(cohort_aei([run], CohortMaxima.model_validate(scale))[0])
    budgets = ReferenceBudgets.model_validate(scale)
    assert _within(stable_aei(run, budgets))
    assert _within(stable_aei(run))
    assert stable_aei(run) == stable_aei(run)
