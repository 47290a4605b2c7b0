"""Statistics that show the noise of repeated trials: bootstrap intervals, paired
comparisons, pass@k / pass^k and how many trials a wanted precision needs.

* :func:`bootstrap_ci`: the percentile bootstrap of the mean. ``resamples`` samples of the
  same size are drawn with replacement by numpy's PCG64 generator seeded with ``seed`` (index
  matrices of at most :data:`BLOCK_CELLS` cells at a time), each sample's mean is taken, and
  the interval is the ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of those means
  (linear interpolation between order statistics). The same inputs give the same interval.
* :func:`paired_difference`: the interval of ``mean(a) - mean(b)``. When both sides are keyed
  by trial index and share at least two indices, the differences of the trials both sides
  have are bootstrapped (pairing removes what the trial index shares, e.g. the case
  sample); otherwise each side is resampled on its own and the difference of the two means
  is taken. The difference is *inside the noise* when its interval contains 0, or when it
  rests on a single pair or a single-trial side: one value shows no noise, so no
  difference can be told from it.
* :func:`pass_at_k` / :func:`pass_hat_k`: of ``n`` trials ``c`` succeeded; the chance that at
  least one (pass@k, Chen et al. 2021's unbiased estimator ``1 - C(n-c, k) / C(n, k)``) or
  all (pass^k, ``C(c, k) / C(n, k)``) of ``k`` trials drawn without replacement succeed.
* :func:`suggested_k`: trials needed for a ``level`` interval of half-width ``half_width``,
  from the sample variance: ``ceil((z * s / half_width) ** 2)``, at least 2.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from typing import Annotated, Final

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from grader.metrics._errors import MetricsError

__all__ = [
    "BLOCK_CELLS",
    "Comparison",
    "Interval",
    "Samples",
    "bootstrap_ci",
    "paired_difference",
    "pass_at_k",
    "pass_hat_k",
    "suggested_k",
]

BLOCK_CELLS: Final = 1 << 22
"""At most this many resampled indices are held at once (32 MiB of int64)."""

_FEWEST: Final = 2
"""The fewest values that show any noise."""

Finite = Annotated[float, Field(allow_inf_nan=False)]
Samples = Sequence[float] | Mapping[int, float]
"""Trial values, plain or keyed by trial index (keyed values can be paired)."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Interval(_Frozen):
    """A mean and its bootstrap confidence interval over ``n`` values."""

    mean: Finite
    ci_low: Finite
    ci_high: Finite
    n: Annotated[int, Field(ge=1)]

    @model_validator(mode="after")
    def _ordered(self) -> Interval:
        if self.ci_low > self.ci_high:
            raise ValueError(f"ci_low {self.ci_low} is above ci_high {self.ci_high}")
        return self


class Comparison(_Frozen):
    """``a - b`` with its interval; inside the noise when the interval contains 0 or a side
    has a single trial."""

    difference: Interval
    inside_noise: bool
    paired: bool = Field(description="bootstrapped over per-trial-index differences")


def _checked(values: Sequence[float], what: str) -> np.ndarray:
    if len(values) == 0:
        raise MetricsError(f"{what} needs at least one value; none were given")
    array = np.asarray(list(values), dtype=np.float64)
    if not np.all(np.isfinite(array)):
        raise MetricsError(f"{what} needs finite numbers; got {list(values)!r}")
    return array


def _check_level(level: float, resamples: int) -> None:
    if not 0.0 < level < 1.0:
        raise MetricsError(f"a confidence level is in (0, 1), e.g. 0.95; got {level}")
    if resamples < 1:
        raise MetricsError(f"resamples must be at least 1 (10000 is usual); got {resamples}")


def _resampled_means(samples: Sequence[np.ndarray], resamples: int, seed: int) -> list[np.ndarray]:
    """For each array, ``resamples`` means of same-size draws with replacement, one stream."""
    rng = np.random.default_rng(seed)
    out: list[np.ndarray] = []
    for array in samples:
        size = len(array)
        block = max(1, BLOCK_CELLS // size)
        parts = []
        for start in range(0, resamples, block):
            rows = min(block, resamples - start)
            parts.append(array[rng.integers(0, size, size=(rows, size))].mean(axis=1))
        out.append(np.concatenate(parts))
    return out


def _interval(mean: float, means: np.ndarray, level: float, n: int) -> Interval:
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return Interval(mean=mean, ci_low=float(low), ci_high=float(high), n=n)


def bootstrap_ci(
    values: Sequence[float], *, level: float = 0.95, resamples: int = 10_000, seed: int = 0
) -> Interval:
    """The mean of ``values`` and its percentile-bootstrap interval; one value gives a
    zero-width interval at that value."""
    _check_level(level, resamples)
    array = _checked(values, "a bootstrap interval")
    mean = math.fsum(array.tolist()) / len(array)
    if len(array) == 1:
        return Interval(mean=mean, ci_low=mean, ci_high=mean, n=1)
    (means,) = _resampled_means([array], resamples, seed)
    return _interval(mean, means, level, len(array))


def paired_difference(
    a: Samples, b: Samples, *, level: float = 0.95, resamples: int = 10_000, seed: int = 0
) -> Comparison:
    """``mean(a) - mean(b)`` with its interval; paired over the trial indices both sides
    have when both are mappings (index -> value) sharing two or more, else unpaired."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        common = sorted(set(a) & set(b))
        if len(common) >= _FEWEST:
            interval = bootstrap_ci(
                [a[i] - b[i] for i in common], level=level, resamples=resamples, seed=seed
            )
            return Comparison(
                difference=interval, inside_noise=_contains_zero(interval), paired=True
            )
    _check_level(level, resamples)
    left = _checked(list(a.values()) if isinstance(a, Mapping) else a, "a comparison's first side")
    right = _checked(
        list(b.values()) if isinstance(b, Mapping) else b, "a comparison's second side"
    )
    mean = math.fsum(left.tolist()) / len(left) - math.fsum(right.tolist()) / len(right)
    n = min(len(left), len(right))
    if len(left) == 1 and len(right) == 1:
        interval = Interval(mean=mean, ci_low=mean, ci_high=mean, n=1)
    else:
        first, second = _resampled_means([left, right], resamples, seed)
        interval = _interval(mean, first - second, level, n)
    noise = n < _FEWEST or _contains_zero(interval)
    return Comparison(difference=interval, inside_noise=noise, paired=False)


def _contains_zero(interval: Interval) -> bool:
    return interval.ci_low <= 0.0 <= interval.ci_high


def _check_counts(n: int, c: int, k: int) -> None:
    if n < 1 or not 0 <= c <= n or not 1 <= k <= n:
        raise MetricsError(
            f"pass@k / pass^k need n >= 1 trials, 0 <= c <= n successes and 1 <= k <= n; "
            f"got n={n}, c={c}, k={k}"
        )


def pass_at_k(n: int, c: int, k: int) -> float:
    """The chance that at least one of ``k`` of the ``n`` trials (``c`` succeeded) succeeds."""
    _check_counts(n, c, k)
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def pass_hat_k(n: int, c: int, k: int) -> float:
    """The chance that all ``k`` of ``k`` trials drawn from the ``n`` (``c`` succeeded) do."""
    _check_counts(n, c, k)
    return math.comb(c, k) / math.comb(n, k)


def suggested_k(values: Sequence[float], *, half_width: float, level: float = 0.95) -> int:
    """How many trials make the ``level`` interval of the mean about ``half_width`` wide on
    each side, given the spread seen in ``values`` (normal approximation; at least 2, the
    fewest that show any spread)."""
    _check_level(level, 1)
    if not half_width > 0.0 or not math.isfinite(half_width):
        raise MetricsError(f"half_width must be a positive number of points; got {half_width}")
    array = _checked(values, "a suggested k")
    if len(array) < _FEWEST:
        raise MetricsError(
            "a suggested k needs at least two trials to estimate their variance; got one"
        )
    z = statistics.NormalDist().inv_cdf((1.0 + level) / 2.0)
    s: float = statistics.stdev([float(v) for v in array])
    return max(_FEWEST, math.ceil((z * s / half_width) ** 2))
