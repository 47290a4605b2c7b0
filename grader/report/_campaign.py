"""The campaign report: per agent x model, every figure with its bootstrap interval, and
every pair of rows compared on mean reward.

A campaign's trials are given as :class:`TrialRow` (agent, model, trial index, the run of
the attempt that counts); their per-run metrics come from :func:`runs_metrics` with the
campaign's own runs as the AEI cohort. Each figure is an :class:`Interval` from
:func:`grader.metrics.bootstrap_ci` (all with the report's ``level``, ``resamples`` and
``seed``, so the report is deterministic). Stage scores are the chained scores, an ungraded
stage counting 0, as in the paper's rewards. pass@k and pass^k are, for each k from 1 to
the row's trials, the mean over the six stages of the per-stage estimator (c = trials that
passed the stage), in percent; at k = trials they equal the leaderboard's pass_at_k and
pass_hat_k. Comparisons pair two rows' mean rewards by trial index. Given the campaign's
``total_trials``, a report that covers fewer says so in ``partial``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from grader.ledger import STAGES, Ledger, utc_now
from grader.metrics import (
    REFERENCE_BUDGETS,
    Interval,
    ReferenceBudgets,
    bootstrap_ci,
    paired_difference,
    pass_at_k,
    pass_hat_k,
    suggested_k,
)
from grader.report._errors import ReportError
from grader.report._leaderboard import TIER_KEYS, tier_key
from grader.report._metrics import runs_metrics
from grader.report._model import SCHEMA_VERSION, RunMetrics
from grader.usage import PricingTable

__all__ = [
    "CampaignComparison",
    "CampaignReport",
    "CampaignRow",
    "PassAtK",
    "TrialCoverage",
    "TrialRow",
    "TrialRun",
    "campaign_report",
]

_HUNDRED: Final = 100.0


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TrialRow(_Frozen):
    """One graded trial of a campaign: who, which trial, and the run that counts for it."""

    agent: str
    model: str
    index: Annotated[int, Field(ge=0)]
    run_id: str


class TrialRun(_Frozen):
    """A row's trial: its index and the run that counts for it."""

    index: int
    run_id: str


class PassAtK(_Frozen):
    """pass@k and pass^k for one k, each the mean over the six stages, in percent."""

    k: Annotated[int, Field(ge=1)]
    pass_at_k: float = Field(description="percent chance at least one of k trials passes")
    pass_hat_k: float = Field(description="percent chance all k trials pass")


class CampaignRow(_Frozen):
    """One agent x model over its trials; every figure is a mean with its interval."""

    agent: str
    model: str
    trials: Annotated[int, Field(ge=1)]
    trial_runs: list[TrialRun] = Field(description="by trial index")
    mean_reward: Interval
    pipeline_score: Interval
    pass_score: Interval
    stages: dict[str, Interval] = Field(description="chained score per stage T0..T5")
    stable_aei: Interval | None = Field(description="over the trials with every AEI input known")
    cohort_aei: Interval | None = Field(description="normalised over the campaign's runs")
    cost_usd: Interval | None = Field(description="over the trials with a known cost")
    elapsed_s: Interval | None
    tiers: dict[str, int] = Field(description="trials per tier: none, T0 .. T5")
    stage_passes: dict[str, int] = Field(description="trials that passed each stage")
    pass_k: list[PassAtK] = Field(description="k = 1 .. trials")
    suggested_k: int | None = Field(
        description="trials for a mean-reward interval of +- the report's half_width; "
        "null with a single trial (no variance to go by)"
    )
    on_pareto_front: bool | None = Field(
        default=None,
        description="no other row has both a lower-or-equal mean cost and a higher-or-equal "
        "mean reward (one of them strictly); null when the row's cost is unknown",
    )


class CampaignComparison(_Frozen):
    """Two rows' mean rewards: ``first - second``, paired by trial index when they share one."""

    first_agent: str
    first_model: str
    second_agent: str
    second_model: str
    metric: Literal["mean_reward"] = "mean_reward"
    difference: Interval
    inside_noise: bool = Field(description="the difference's interval contains 0")
    paired: bool


class TrialCoverage(_Frozen):
    """How many of a campaign's trials a report covers, while some are not graded."""

    graded: Annotated[int, Field(ge=1)]
    total: Annotated[int, Field(ge=1)]


class CampaignReport(_Frozen):
    """A campaign's rows, best mean reward first, and every pair of rows compared."""

    schema_version: Literal["1"] = SCHEMA_VERSION
    campaign: str
    generated_at: datetime
    level: float = Field(description="the intervals' confidence level")
    resamples: int
    seed: int
    half_width: float = Field(description="the mean-reward half-width suggested_k aims at")
    budgets: ReferenceBudgets = REFERENCE_BUDGETS
    epochs: list[str] = Field(
        default=[],
        description="the epochs its trials were graded on: one, unless the "
        "campaign's runs were graded on different hidden cases (then not comparable)",
    )
    rows: list[CampaignRow]
    comparisons: list[CampaignComparison]
    partial: TrialCoverage | None = Field(
        default=None,
        description="set while some of the campaign's trials are not graded (queued, running "
        "or failed): the rows cover `graded` of its `total` trials; null when all are graded",
    )


class _Stats(_Frozen):
    level: float
    resamples: int
    seed: int

    def ci(self, values: Sequence[float]) -> Interval | None:
        if not values:
            return None
        return bootstrap_ci(values, level=self.level, resamples=self.resamples, seed=self.seed)


def campaign_report(
    ledger: Ledger,
    campaign_name: str,
    trials: Sequence[TrialRow],
    *,
    level: float = 0.95,
    resamples: int = 10_000,
    seed: int = 0,
    half_width: float = 5.0,
    pricing: PricingTable | None = None,
    budgets: ReferenceBudgets = REFERENCE_BUDGETS,
    total_trials: int | None = None,
) -> CampaignReport:
    """The report of campaign ``campaign_name`` from its graded ``trials``; ``total_trials``
    (the campaign's trials, graded or not) marks a report of fewer as ``partial``."""
    _check_trials(campaign_name, trials)
    partial = _coverage(campaign_name, len(trials), total_trials)
    run_ids = [trial.run_id for trial in trials]
    metrics = runs_metrics(
        ledger, run_ids, cohort=run_ids, pricing=pricing, budgets=budgets, diagnose=False
    )
    by_run = dict(zip(run_ids, metrics, strict=True))
    groups: dict[tuple[str, str], list[TrialRow]] = {}
    for trial in sorted(trials, key=lambda t: t.index):
        groups.setdefault((trial.agent, trial.model), []).append(trial)
    stats = _Stats(level=level, resamples=resamples, seed=seed)
    rows = [
        _row(key, [(t.index, by_run[t.run_id]) for t in group], stats, half_width)
        for key, group in groups.items()
    ]
    rows.sort(key=lambda r: (-r.mean_reward.mean, -r.pass_score.mean, r.agent, r.model))
    rows = _mark_pareto_front(rows)
    mean_rewards = {
        (t.agent, t.model, t.index): by_run[t.run_id].rewards.mean_reward for t in trials
    }
    return CampaignReport(
        campaign=campaign_name,
        generated_at=utc_now(),
        level=level,
        resamples=resamples,
        seed=seed,
        half_width=half_width,
        budgets=budgets,
        epochs=sorted({m.run.epoch for m in metrics}),
        rows=rows,
        comparisons=[
            _compare(first, second, mean_rewards, stats)
            for first, second in itertools.combinations(rows, 2)
        ],
        partial=partial,
    )


def _coverage(campaign_name: str, graded: int, total: int | None) -> TrialCoverage | None:
    if total is not None and total < graded:
        raise ReportError(
            f"campaign {campaign_name!r}: {graded} graded trials given but total_trials is "
            f"{total}; give the campaign's number of trials (graded or not)"
        )
    if total is None or total == graded:
        return None
    return TrialCoverage(graded=graded, total=total)


def _check_trials(campaign_name: str, trials: Sequence[TrialRow]) -> None:
    if not trials:
        raise ReportError(
            f"campaign {campaign_name!r} has no graded trial to report: run it first "
            "(`ramp campaign run FILE`) or check its status (`ramp campaign status NAME`)"
        )
    seen: dict[tuple[str, str, int], str] = {}
    runs: dict[str, TrialRow] = {}
    for trial in trials:
        key = (trial.agent, trial.model, trial.index)
        if key in seen:
            raise ReportError(
                f"campaign {campaign_name!r}: trial {trial.index} of {trial.agent} / "
                f"{trial.model} is given twice (runs {seen[key]} and {trial.run_id}); "
                "give each trial once, with the run of the attempt that counts"
            )
        if trial.run_id in runs:
            other = runs[trial.run_id]
            raise ReportError(
                f"campaign {campaign_name!r}: run {trial.run_id} is given for two trials "
                f"({other.agent} / {other.model} #{other.index} and {trial.agent} / "
                f"{trial.model} #{trial.index}); a run counts for one trial only"
            )
        seen[key] = trial.run_id
        runs[trial.run_id] = trial


def _row(
    key: tuple[str, str],
    trials: list[tuple[int, RunMetrics]],
    stats: _Stats,
    half_width: float,
) -> CampaignRow:
    agent, model = key
    runs = [run for _, run in trials]
    rewards = [run.rewards.mean_reward for run in runs]
    tiers = dict.fromkeys(TIER_KEYS, 0)
    for run in runs:
        tiers[tier_key(run.rewards.tier)] += 1
    mean_reward, pipeline, pass_score = (
        stats.ci(rewards),
        stats.ci([run.rewards.pipeline_score for run in runs]),
        stats.ci([run.rewards.pass_score for run in runs]),
    )
    assert mean_reward is not None and pipeline is not None and pass_score is not None
    stages: dict[str, Interval] = {}
    for index, stage in enumerate(STAGES):
        interval = stats.ci([run.rewards.scores.scores[index] for run in runs])
        assert interval is not None
        stages[stage] = interval
    passes = {
        stage: sum(run.stages[index].passed for run in runs) for index, stage in enumerate(STAGES)
    }
    return CampaignRow(
        agent=agent,
        model=model,
        trials=len(runs),
        trial_runs=[TrialRun(index=index, run_id=run.run.run_id) for index, run in trials],
        mean_reward=mean_reward,
        pipeline_score=pipeline,
        pass_score=pass_score,
        stages=stages,
        stable_aei=stats.ci([r.aei.stable.aei for r in runs if r.aei.stable is not None]),
        cohort_aei=stats.ci([r.aei.cohort.aei for r in runs if r.aei.cohort is not None]),
        cost_usd=stats.ci([r.usage.cost_usd for r in runs if r.usage.cost_usd is not None]),
        elapsed_s=stats.ci([r.elapsed.elapsed_s for r in runs if r.elapsed.elapsed_s is not None]),
        tiers=tiers,
        stage_passes=passes,
        pass_k=_pass_k(len(runs), list(passes.values())),
        suggested_k=suggested_k(rewards, half_width=half_width, level=stats.level)
        if len(rewards) > 1
        else None,
    )


def _mark_pareto_front(rows: list[CampaignRow]) -> list[CampaignRow]:
    """Each row with a known cost marked on or off the cost / mean-reward Pareto front."""
    known = [(r.cost_usd.mean, r.mean_reward.mean) for r in rows if r.cost_usd is not None]

    def dominated(cost: float, reward: float) -> bool:
        return any(c <= cost and m >= reward and (c < cost or m > reward) for c, m in known)

    return [
        row
        if row.cost_usd is None
        else row.model_copy(
            update={"on_pareto_front": not dominated(row.cost_usd.mean, row.mean_reward.mean)}
        )
        for row in rows
    ]


def _pass_k(n: int, passes: list[int]) -> list[PassAtK]:
    return [
        PassAtK(
            k=k,
            pass_at_k=sum(pass_at_k(n, c, k) for c in passes) / len(passes) * _HUNDRED,
            pass_hat_k=sum(pass_hat_k(n, c, k) for c in passes) / len(passes) * _HUNDRED,
        )
        for k in range(1, n + 1)
    ]


def _compare(
    first: CampaignRow,
    second: CampaignRow,
    mean_rewards: dict[tuple[str, str, int], float],
    stats: _Stats,
) -> CampaignComparison:
    def keyed(row: CampaignRow) -> dict[int, float]:
        return {t.index: mean_rewards[(row.agent, row.model, t.index)] for t in row.trial_runs}

    comparison = paired_difference(
        keyed(first), keyed(second), level=stats.level, resamples=stats.resamples, seed=stats.seed
    )
    return CampaignComparison(
        first_agent=first.agent,
        first_model=first.model,
        second_agent=second.agent,
        second_model=second.model,
        difference=comparison.difference,
        inside_noise=comparison.inside_noise,
        paired=comparison.paired,
    )
