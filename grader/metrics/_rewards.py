"""Per-run rewards exactly as the RAMP paper defines them (tier, Mean Reward, pipeline, pass).

Stage ``i`` is *affected* when any earlier stage scored below 100: it then ran on resurrected
(golden) inputs and earns the smaller bonus. Every function here is pure and deterministic.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Annotated, Any, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from grader.metrics._errors import ScoresError

__all__ = [
    "AFFECTED_BONUS",
    "AFFECTED_PASS_WEIGHT",
    "PASS_THRESHOLD",
    "STAGE_COUNT",
    "STAGE_NAMES",
    "STAGE_WEIGHTS",
    "UNAFFECTED_BONUS",
    "UNAFFECTED_PASS_WEIGHT",
    "RunRewards",
    "ScoresLike",
    "StageScores",
    "affected",
    "as_scores",
    "mean_reward",
    "pass_score",
    "passed",
    "pipeline_score",
    "rewards",
    "tier",
]

STAGE_COUNT: Final = 6
STAGE_NAMES: Final = ("T0", "T1", "T2", "T3", "T4", "T5")
STAGE_WEIGHTS: Final = (1.0, 2.0, 2.0, 3.0, 3.0, 4.0)
UNAFFECTED_BONUS: Final = 1.2
AFFECTED_BONUS: Final = 1.0
UNAFFECTED_PASS_WEIGHT: Final = 1.5
AFFECTED_PASS_WEIGHT: Final = 1.0
PASS_THRESHOLD: Final = 60.0
FULL_SCORE: Final = 100.0

Percent = Annotated[float, Field(ge=0.0, le=100.0, allow_inf_nan=False)]


class StageScores(BaseModel):
    """The six stage scores T0..T5 of one run, each a finite number in [0, 100]."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    scores: tuple[float, ...]

    @field_validator("scores", mode="before")
    @classmethod
    def _six_scores_in_range(cls, value: Any) -> tuple[float, ...]:
        if isinstance(value, str | bytes) or not isinstance(value, Sequence):
            raise ValueError(
                f"stage scores must be a sequence of {STAGE_COUNT} numbers (T0..T5), "
                f"got {type(value).__name__}"
            )
        if len(value) != STAGE_COUNT:
            raise ValueError(
                f"expected exactly {STAGE_COUNT} stage scores (T0..T5), got {len(value)}"
            )
        problems: list[str] = []
        checked: list[float] = []
        for name, raw in zip(STAGE_NAMES, value, strict=True):
            if isinstance(raw, bool) or not isinstance(raw, int | float):
                problems.append(f"{name} must be a number, got {raw!r}")
                continue
            number = float(raw)
            if not math.isfinite(number) or not 0.0 <= number <= FULL_SCORE:
                problems.append(f"{name} must be within [0, 100], got {raw!r}")
                continue
            checked.append(number)
        if problems:
            raise ValueError("; ".join(problems))
        return tuple(checked)

    @classmethod
    def of(cls, *values: float) -> StageScores:
        """``StageScores.of(100, 100, 60, 0, 0, 0)``; raises :class:`ScoresError` when invalid."""
        return as_scores(values)

    def __getitem__(self, index: int) -> float:
        return self.scores[index]

    def __len__(self) -> int:
        return len(self.scores)


ScoresLike = StageScores | Sequence[float]
"""Either a validated :class:`StageScores` or six plain numbers (validated on use)."""


def as_scores(scores: ScoresLike) -> StageScores:
    """Validate ``scores``; raises :class:`ScoresError` with every problem when invalid."""
    if isinstance(scores, StageScores):
        return scores
    try:
        return StageScores(scores=tuple(scores))
    except ValidationError as exc:
        messages = "; ".join(
            str(error["msg"]).removeprefix("Value error, ") for error in exc.errors()
        )
        raise ScoresError(f"invalid stage scores: {messages}") from exc
    except TypeError as exc:
        raise ScoresError(f"invalid stage scores: {exc}") from exc


def tier(scores: ScoresLike) -> int:
    """The highest ``k`` such that T0..Tk all scored exactly 100.

    Returns ``-1`` when T0 itself is below 100: the run reached no tier at all. The paper only
    writes tiers T0..T5; -1 keeps "reached nothing" distinct from "reached T0" and compares below
    every real tier. ``5`` means all six stages scored 100.
    """
    reached = -1
    for score in as_scores(scores).scores:
        if score != FULL_SCORE:
            break
        reached += 1
    return reached


def affected(scores: ScoresLike) -> tuple[bool, ...]:
    """Per stage: whether any earlier stage scored below 100 (so it ran on golden inputs).

    T0 is never affected.
    """
    flags: list[bool] = []
    seen_imperfect = False
    for score in as_scores(scores).scores:
        flags.append(seen_imperfect)
        seen_imperfect = seen_imperfect or score < FULL_SCORE
    return tuple(flags)


def mean_reward(scores: ScoresLike) -> float:
    """MR = sum(s_i * w_i * b_i) / sum(w_i * b_i), w = [1,2,2,3,3,4], b = 1.2 / 1.0 (affected)."""
    checked = as_scores(scores)
    bonuses = [AFFECTED_BONUS if hit else UNAFFECTED_BONUS for hit in affected(checked)]
    weights = [w * b for w, b in zip(STAGE_WEIGHTS, bonuses, strict=True)]
    numerator = math.fsum(s * w for s, w in zip(checked.scores, weights, strict=True))
    return _clip(numerator / math.fsum(weights))


def pipeline_score(scores: ScoresLike) -> float:
    """The plain mean of the six stage scores."""
    return _clip(math.fsum(as_scores(scores).scores) / STAGE_COUNT)


def passed(scores: ScoresLike, threshold: float = PASS_THRESHOLD) -> tuple[bool, ...]:
    """Per stage: whether it scored at least ``threshold`` (60 in the paper)."""
    if isinstance(threshold, bool) or not (
        math.isfinite(threshold) and 0.0 <= threshold <= FULL_SCORE
    ):
        raise ScoresError(f"pass threshold must be within [0, 100], got {threshold!r}")
    return tuple(score >= threshold for score in as_scores(scores).scores)


def pass_score(scores: ScoresLike) -> float:
    """sum(1[s_i >= 60] * p_i) / (6 * 1.5) * 100, p_i = 1.5 unaffected, 1.0 affected."""
    checked = as_scores(scores)
    earned = math.fsum(
        (AFFECTED_PASS_WEIGHT if hit else UNAFFECTED_PASS_WEIGHT)
        for ok, hit in zip(passed(checked), affected(checked), strict=True)
        if ok
    )
    return _clip(earned / (STAGE_COUNT * UNAFFECTED_PASS_WEIGHT) * FULL_SCORE)


class RunRewards(BaseModel):
    """Every per-run reward of one run, at full precision (see :meth:`rounded`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    scores: StageScores
    tier: Annotated[int, Field(ge=-1, le=STAGE_COUNT - 1)]
    mean_reward: Percent
    pipeline_score: Percent
    pass_score: Percent
    passed: tuple[bool, ...]
    affected: tuple[bool, ...]

    def rounded(self, digits: int = 2) -> RunRewards:
        """A copy with the three float figures rounded for presentation."""
        return self.model_copy(
            update={
                "mean_reward": round(self.mean_reward, digits),
                "pipeline_score": round(self.pipeline_score, digits),
                "pass_score": round(self.pass_score, digits),
            }
        )


def rewards(scores: ScoresLike) -> RunRewards:
    """Compute every per-run reward of ``scores`` at once."""
    checked = as_scores(scores)
    return RunRewards(
        scores=checked,
        tier=tier(checked),
        mean_reward=mean_reward(checked),
        pipeline_score=pipeline_score(checked),
        pass_score=pass_score(checked),
        passed=passed(checked),
        affected=affected(checked),
    )


def _clip(value: float) -> float:
    # A weighted mean of numbers in [0, 100] can land one ulp outside it; never further.
    return min(max(value, 0.0), FULL_SCORE)
