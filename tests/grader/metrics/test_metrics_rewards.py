"""Tier, affected flags, Mean Reward, pipeline and pass scores, against hand-computed values."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from grader.metrics import (
    MetricsError,
    RunRewards,
    ScoresError,
    StageScores,
    affected,
    mean_reward,
    pass_score,
    passed,
    pipeline_score,
    rewards,
    tier,
)
from toolchain._errors import RampError

GPT = (100, 100, 100, 100, 48.25, 0)
OPUS = (100, 100, 100, 100, 68.4, 100)


def test_published_mean_rewards() -> None:
    # gpt-5.5: T5 affected (T4 < 100): (960 + 48.25*3.6) / 17.2
    assert mean_reward(GPT) == pytest.approx((960 + 48.25 * 3.6) / 17.2)
    assert round(mean_reward(GPT), 2) == 65.91
    assert round(mean_reward(OPUS), 2) == 93.39
    assert mean_reward(OPUS) == pytest.approx((960 + 68.4 * 3.6 + 400) / 17.2)


def test_published_tiers() -> None:
    assert tier(GPT) == 3
    assert tier(OPUS) == 3


def test_pipeline_scores_are_plain_means() -> None:
    assert pipeline_score(GPT) == pytest.approx(448.25 / 6)  # 74.708...
    assert pipeline_score(OPUS) == pytest.approx(568.4 / 6)  # 94.733...


def test_pass_scores_weight_affected_stages_less() -> None:
    # gpt-5.5: T0..T3 pass unaffected (4 * 1.5); T4 fails; T5 fails.
    assert pass_score(GPT) == pytest.approx(6 / 9 * 100)
    # opus: T0..T4 pass unaffected (5 * 1.5), T5 passes affected (1.0).
    assert pass_score(OPUS) == pytest.approx(8.5 / 9 * 100)
    assert pass_score((100,) * 6) == 100.0
    assert pass_score((0,) * 6) == 0.0
    # T0 at 59.99 fails, so every later stage is affected: 5 passes * 1.0 / 9.
    assert pass_score((59.99, 100, 100, 100, 100, 100)) == pytest.approx(5 / 9 * 100)


def test_passed_uses_threshold_inclusively() -> None:
    assert passed((60, 59.99, 100, 0, 61, 60)) == (True, False, True, False, True, True)
    assert passed((60, 59.99, 100, 0, 61, 60), threshold=100) == (
        False,
        False,
        True,
        False,
        False,
        False,
    )
    with pytest.raises(ScoresError, match="threshold"):
        passed(GPT, threshold=101)


def test_affected_flags() -> None:
    assert affected(GPT) == (False, False, False, False, False, True)
    assert affected(OPUS) == (False, False, False, False, False, True)
    assert affected((100,) * 6) == (False,) * 6
    assert affected((99, 100, 100, 100, 100, 100)) == (False, True, True, True, True, True)
    # Once affected, always affected, even after a later 100.
    assert affected((100, 50, 100, 100, 100, 100)) == (False, False, True, True, True, True)


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ((99.99, 100, 100, 100, 100, 100), -1),
        ((0, 0, 0, 0, 0, 0), -1),
        ((100, 0, 100, 100, 100, 100), 0),
        ((100, 100, 99, 100, 100, 100), 1),
        ((100, 100, 100, 100, 100, 99.5), 4),
        ((100, 100, 100, 100, 100, 100), 5),
    ],
)
def test_tier_edges(scores: tuple[float, ...], expected: int) -> None:
    assert tier(scores) == expected


def test_mean_reward_unaffected_everywhere_is_weighted_mean() -> None:
    assert mean_reward((100,) * 6) == 100.0
    assert mean_reward((0,) * 6) == 0.0
    # T0 = 0 makes all later stages affected: weights 1.2, 2, 2, 3, 3, 4 (sum 15.2).
    assert mean_reward((0, 100, 100, 100, 100, 100)) == pytest.approx(1400 / 15.2)


def test_rewards_bundle_and_rounding() -> None:
    bundle = rewards(GPT)
    assert isinstance(bundle, RunRewards)
    assert bundle.tier == 3
    assert bundle.mean_reward == mean_reward(GPT)
    assert bundle.pipeline_score == pipeline_score(GPT)
    assert bundle.pass_score == pass_score(GPT)
    assert bundle.passed == (True, True, True, True, False, False)
    assert bundle.affected == (False, False, False, False, False, True)
    shown = bundle.rounded()
    assert (shown.mean_reward, shown.pipeline_score, shown.pass_score) == (65.91, 74.71, 66.67)
    assert bundle.mean_reward != 65.91  # full precision is kept in the model
    with pytest.raises(ValidationError):
        bundle.tier = 4  # type: ignore[misc]


def test_stage_scores_validation_messages() -> None:
    with pytest.raises(ValidationError, match="exactly 6 stage scores"):
        StageScores(scores=(100, 100))
    with pytest.raises(ValidationError, match=r"T4 must be within \[0, 100\], got 101"):
        StageScores(scores=(100, 100, 100, 100, 101, 0))
    with pytest.raises(ScoresError, match=r"T0 must be within.*T2 must be a number"):
        StageScores.of(-1, 100, "x", 0, 0, 0)  # type: ignore[arg-type]
    with pytest.raises(ScoresError, match="T1 must be within"):
        tier((100, float("nan"), 0, 0, 0, 0))
    with pytest.raises(ScoresError, match="T3 must be a number"):
        mean_reward((0, 0, 0, True, 0, 0))
    with pytest.raises(ScoresError, match="exactly 6"):
        pipeline_score((1, 2, 3, 4, 5, 6, 7))
    assert issubclass(ScoresError, MetricsError)
    assert issubclass(MetricsError, RampError)


def test_stage_scores_model_is_frozen_and_indexable() -> None:
    scores = StageScores.of(*GPT)
    assert scores[4] == 48.25
    assert len(scores) == 6
    assert tier(scores) == tier(GPT)
    with pytest.raises(ValidationError):
        scores.scores = (0.0,) * 6  # type: ignore[misc]
