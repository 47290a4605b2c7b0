"""The leaderboard: one row per agent + model + harness, repeated trials aggregated.

Per row, over its ``k`` trials (runs):

* ``mean_reward``, ``pass_score``, ``pipeline_score``, ``aei`` (the paper's, normalised over
  every run on the leaderboard), ``stable_aei``, ``cost_usd``, ``elapsed_s`` and
  ``total_tokens`` are each summarised as a :class:`Spread`: mean, sample standard deviation
  (``n - 1`` in the denominator; ``None`` for a single value), minimum, maximum and the
  mean's 95% percentile-bootstrap interval (``ci_low``, ``ci_high``). A figure a
  trial lacks (its cost unknown, so no AEI either) is left out of that figure's spread, whose
  ``n`` then says how many trials it covers.
* ``pass_hat_k`` (pass^k): the share of the six stages that **every one** of the k trials
  passed, in percent: sum over stages of prod over trials of 1[passed] / 6 * 100. This is
  tau-bench's pass^k with k equal to the number of trials (the chance that all k succeed,
  estimated per stage). ``pass_at_k`` (pass@k) is the share passed by **at least one** trial.
  "Passed" is the stage machine's verdict (state ``passed``).
* ``tiers``: how many trials reached each tier (``none`` when T0 itself scored below 100).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from grader.ledger import STAGES, Ledger, StageName, utc_now
from grader.metrics import REFERENCE_BUDGETS, ReferenceBudgets, bootstrap_ci
from grader.report._errors import ReportError
from grader.report._metrics import runs_metrics
from grader.report._model import SCHEMA_VERSION, RunMetrics
from grader.usage import PricingTable

__all__ = [
    "TIER_KEYS",
    "Leaderboard",
    "LeaderboardRow",
    "Spread",
    "leaderboard",
    "leaderboard_from_ledger",
    "spread",
    "tier_key",
]

TIER_KEYS: Final = ("none", *STAGES)
"""The keys of a row's tier distribution: ``none`` (no tier reached), then ``T0`` .. ``T5``."""

_HUNDRED: Final = 100.0


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Spread(_Frozen):
    """Mean, sample standard deviation, minimum, maximum and the mean's 95% bootstrap
    interval of ``n`` values."""

    n: Annotated[int, Field(ge=1)]
    mean: float
    stdev: float | None = Field(description="sample standard deviation; None when n is 1")
    min: float
    max: float
    ci_low: float = Field(
        description="the mean's 95% percentile-bootstrap interval, low end "
        "(grader.metrics.bootstrap_ci, seed 0); the mean itself when n is 1"
    )
    ci_high: float = Field(description="the interval's high end")


def spread(values: Sequence[float]) -> Spread | None:
    """The :class:`Spread` of ``values``; ``None`` when there are none."""
    if not values:
        return None
    interval = bootstrap_ci(values)
    return Spread(
        n=len(values),
        mean=math.fsum(values) / len(values),
        stdev=statistics.stdev(values) if len(values) > 1 else None,
        min=min(values),
        max=max(values),
        ci_low=interval.ci_low,
        ci_high=interval.ci_high,
    )


def tier_key(tier: int) -> str:
    """``T0`` .. ``T5`` for a tier, ``none`` for -1."""
    return "none" if tier < 0 else f"T{tier}"


class LeaderboardRow(_Frozen):
    """One agent + model + harness over its trials on one epoch."""

    agent: str
    model: str
    harness: str | None
    epoch: str = Field(default="0", description="the epoch every trial of the row was graded on")
    trials: Annotated[int, Field(ge=1)]
    run_ids: list[str]
    mean_reward: Spread
    pass_score: Spread
    pipeline_score: Spread
    aei: Spread | None = Field(description="the paper's AEI over every run on the leaderboard")
    stable_aei: Spread | None
    pass_hat_k: float = Field(description="percent of stages passed by all k trials")
    pass_at_k: float = Field(description="percent of stages passed by at least one trial")
    passed_by_all: list[StageName]
    cost_usd: Spread | None
    elapsed_s: Spread | None
    total_tokens: Spread | None
    tiers: dict[str, int] = Field(description="trials per tier: none, T0 .. T5")


class Leaderboard(_Frozen):
    """Every agent + model + harness in the ledger, best mean Mean Reward first."""

    schema_version: Literal["1"] = SCHEMA_VERSION
    generated_at: datetime
    runs: int = Field(description="how many runs the leaderboard covers (its AEI cohort)")
    budgets: ReferenceBudgets = REFERENCE_BUDGETS
    epochs: list[str] = Field(
        default=[],
        description="the epochs of the rows; more than one: rows of different "
        "epochs were graded on different hidden cases and are not comparable",
    )
    rows: list[LeaderboardRow]


def leaderboard(metrics: Sequence[RunMetrics]) -> Leaderboard:
    """Aggregate per-run metrics (computed over one cohort) into leaderboard rows: one per
    agent + model + harness + epoch, since runs of two epochs never share a row."""
    groups: dict[tuple[str, str, str | None, str], list[RunMetrics]] = {}
    for run in metrics:
        key = (run.run.agent, run.run.model, run.run.harness, run.run.epoch)
        groups.setdefault(key, []).append(run)
    rows = [_row(key, trials) for key, trials in groups.items()]
    rows.sort(key=lambda r: (r.epoch, -r.mean_reward.mean, -r.pass_score.mean, r.agent, r.model))
    budgets = metrics[0].aei.budgets if metrics else REFERENCE_BUDGETS
    return Leaderboard(
        generated_at=utc_now(),
        runs=len(metrics),
        budgets=budgets,
        epochs=sorted({row.epoch for row in rows}),
        rows=rows,
    )


def leaderboard_from_ledger(
    ledger: Ledger,
    *,
    statuses: Sequence[str] = (),
    epoch: str | None = None,
    pricing: PricingTable | None = None,
    budgets: ReferenceBudgets = REFERENCE_BUDGETS,
) -> Leaderboard:
    """The leaderboard of every run in ``ledger`` (only those with one of ``statuses``, and
    of ``epoch``, when given); the paper's AEI is normalised over exactly those runs."""
    runs = [
        run.id
        for run in ledger.list_runs()
        if (not statuses or run.status in statuses) and (epoch is None or run.epoch == epoch)
    ]
    if not runs:
        which = f" with status {', '.join(statuses)}" if statuses else ""
        which += f" of epoch {epoch}" if epoch is not None else ""
        raise ReportError(
            f"the ledger at {ledger.url} holds no runs{which}: create and grade runs first "
            "(`ramp run create`, then submit stages), or point --ledger at another ledger"
        )
    return leaderboard(
        runs_metrics(ledger, runs, cohort=runs, pricing=pricing, budgets=budgets, diagnose=False)
    )


def _row(key: tuple[str, str, str | None, str], trials: list[RunMetrics]) -> LeaderboardRow:
    agent, model, harness, epoch = key
    k = len(trials)
    by_all = [
        stage
        for index, stage in enumerate(STAGES)
        if all(trial.stages[index].passed for trial in trials)
    ]
    by_any = [
        stage
        for index, stage in enumerate(STAGES)
        if any(trial.stages[index].passed for trial in trials)
    ]
    tiers = dict.fromkeys(TIER_KEYS, 0)
    for trial in trials:
        tiers[tier_key(trial.rewards.tier)] += 1
    cohort = [t.aei.cohort.aei for t in trials if t.aei.cohort is not None]
    stable = [t.aei.stable.aei for t in trials if t.aei.stable is not None]
    costs = [t.usage.cost_usd for t in trials if t.usage.cost_usd is not None]
    mean_reward = spread([t.rewards.mean_reward for t in trials])
    pass_score = spread([t.rewards.pass_score for t in trials])
    pipeline = spread([t.rewards.pipeline_score for t in trials])
    assert mean_reward is not None and pass_score is not None and pipeline is not None
    return LeaderboardRow(
        agent=agent,
        model=model,
        harness=harness,
        epoch=epoch,
        trials=k,
        run_ids=[t.run.run_id for t in trials],
        mean_reward=mean_reward,
        pass_score=pass_score,
        pipeline_score=pipeline,
        aei=spread(cohort),
        stable_aei=spread(stable),
        pass_hat_k=len(by_all) / len(STAGES) * _HUNDRED,
        pass_at_k=len(by_any) / len(STAGES) * _HUNDRED,
        passed_by_all=list(by_all),
        cost_usd=spread(costs),
        elapsed_s=spread([t.elapsed.elapsed_s for t in trials if t.elapsed.elapsed_s is not None]),
        total_tokens=spread(
            [float(t.usage.tokens.total) for t in trials if t.usage.tokens.reports > 0]
        ),
        tiers=tiers,
    )
