"""The statistics of repeated trials, each checked against a direct computation: pass@k and
pass^k by enumerating every draw of k trials, the bootstrap by resampling by hand with the
same generator, and the intervals' coverage on a distribution whose mean is known."""

from __future__ import annotations

import itertools
import math
import statistics

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.metrics import (
    Interval,
    MetricsError,
    bootstrap_ci,
    paired_difference,
    pass_at_k,
    pass_hat_k,
    suggested_k,
)


def _draws(n: int, c: int, k: int) -> list[int]:
    """Successes in each of the C(n, k) ways to pick k of n trials, c of which succeeded."""
    outcomes = [1] * c + [0] * (n - c)
    return [sum(pick) for pick in itertools.combinations(outcomes, k)]


@pytest.mark.parametrize("n", range(1, 8))
def test_pass_at_k_and_pass_hat_k_match_enumeration(n: int) -> None:
    for c in range(n + 1):
        for k in range(1, n + 1):
            draws = _draws(n, c, k)
            at_least_one = sum(1 for s in draws if s > 0) / len(draws)
            all_of_them = sum(1 for s in draws if s == k) / len(draws)
            assert pass_at_k(n, c, k) == pytest.approx(at_least_one, abs=1e-12), (n, c, k)
            assert pass_hat_k(n, c, k) == pytest.approx(all_of_them, abs=1e-12), (n, c, k)


def test_pass_at_k_known_values() -> None:
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    assert pass_hat_k(10, 3, 1) == pytest.approx(0.3)
    assert pass_at_k(5, 2, 2) == pytest.approx(1 - 3 / 10)  # C(3,2)/C(5,2)
    assert pass_hat_k(5, 2, 2) == pytest.approx(1 / 10)  # C(2,2)/C(5,2)
    assert pass_at_k(4, 0, 4) == 0.0 and pass_hat_k(4, 4, 4) == 1.0
    assert pass_at_k(4, 1, 4) == 1.0 and pass_hat_k(4, 3, 4) == 0.0


@pytest.mark.parametrize(("n", "c", "k"), [(0, 0, 1), (3, 4, 1), (3, -1, 1), (3, 1, 0), (3, 1, 4)])
def test_pass_k_refuses_impossible_counts(n: int, c: int, k: int) -> None:
    with pytest.raises(MetricsError, match=r"need n >= 1 trials, 0 <= c <= n .* got n="):
        pass_at_k(n, c, k)
    with pytest.raises(MetricsError, match="1 <= k <= n"):
        pass_hat_k(n, c, k)


def _type7(sorted_values: list[float], q: float) -> float:
    position = q * (len(sorted_values) - 1)
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (position - low) * (sorted_values[high] - sorted_values[low])


def _by_hand(values: list[float], resamples: int, seed: int, level: float) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(values), size=(resamples, len(values)))
    means = sorted(sum(values[i] for i in row) / len(values) for row in picks.tolist())
    tail = (1 - level) / 2
    return _type7(means, tail), _type7(means, 1 - tail)


@pytest.mark.parametrize("seed", [0, 7])
@pytest.mark.parametrize("level", [0.95, 0.8])
def test_bootstrap_matches_resampling_by_hand(seed: int, level: float) -> None:
    values = [12.0, 55.5, 73.2, 100.0, 0.0, 64.0, 88.8]
    interval = bootstrap_ci(values, level=level, resamples=3000, seed=seed)
    low, high = _by_hand(values, 3000, seed, level)
    assert interval.mean == pytest.approx(statistics.fmean(values))
    assert (interval.ci_low, interval.ci_high) == pytest.approx((low, high), abs=1e-9)
    assert interval.n == len(values)


def test_bootstrap_is_deterministic_by_seed() -> None:
    values = [math.sqrt(v) * 7.3 for v in range(20)]
    assert bootstrap_ci(values, seed=3) == bootstrap_ci(values, seed=3)
    assert bootstrap_ci(values, seed=3) != bootstrap_ci(values, seed=4)


def test_one_value_and_equal_values_give_a_zero_width_interval() -> None:
    assert bootstrap_ci([42.0]) == Interval(mean=42.0, ci_low=42.0, ci_high=42.0, n=1)
    same = bootstrap_ci([7.5] * 5)
    assert (same.mean, same.ci_low, same.ci_high, same.n) == (7.5, 7.5, 7.5, 5)


@pytest.mark.parametrize(
    ("values", "kwargs", "message"),
    [
        ([], {}, "needs at least one value"),
        ([1.0, math.nan], {}, "needs finite numbers"),
        ([1.0, math.inf], {}, "needs finite numbers"),
        ([1.0, 2.0], {"level": 1.0}, r"confidence level is in \(0, 1\)"),
        ([1.0, 2.0], {"level": 0.0}, r"confidence level is in \(0, 1\)"),
        ([1.0, 2.0], {"resamples": 0}, "resamples must be at least 1"),
    ],
)
def test_bootstrap_refuses_bad_input(
    values: list[float], kwargs: dict[str, float], message: str
) -> None:
    with pytest.raises(MetricsError, match=message):
        bootstrap_ci(values, **kwargs)  # type: ignore[arg-type]


_values = st.lists(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=2, max_size=12
)


@settings(max_examples=40, deadline=None)
@given(values=_values, shift=st.floats(min_value=-1e3, max_value=1e3), seed=st.integers(0, 99))
def test_bootstrap_moves_with_the_data_and_stays_inside_it(
    values: list[float], shift: float, seed: int
) -> None:
    interval = bootstrap_ci(values, resamples=500, seed=seed)
    low, high = min(values), max(values)
    slack = 1e-9 * max(1.0, abs(low), abs(high))
    assert low - slack <= interval.ci_low <= interval.ci_high <= high + slack
    moved = bootstrap_ci([v + shift for v in values], resamples=500, seed=seed)
    tolerance = 1e-6 * max(1.0, abs(low), abs(high), abs(shift))
    assert moved.ci_low == pytest.approx(interval.ci_low + shift, abs=tolerance)
    assert moved.ci_high == pytest.approx(interval.ci_high + shift, abs=tolerance)


def test_the_interval_covers_a_known_mean_about_as_often_as_it_says() -> None:
    rng = np.random.default_rng(2026)
    replications, covered = 300, 0
    for seed in range(replications):
        sample = rng.normal(50.0, 10.0, size=25).tolist()
        interval = bootstrap_ci(sample, resamples=2000, seed=seed)
        covered += interval.ci_low <= 50.0 <= interval.ci_high
    # 95% nominal; the percentile bootstrap runs a little narrow at n = 25.
    assert 0.89 <= covered / replications <= 0.99, covered


def test_pairing_by_trial_index_removes_what_the_index_shares() -> None:
    # Each trial index has its own difficulty; b is a exactly 2 points worse on each.
    difficulty = [10.0, 80.0, 35.0, 60.0, 95.0]
    a = {i: d + 2.0 for i, d in enumerate(difficulty)}
    b = dict(enumerate(difficulty))
    paired = paired_difference(a, b)
    assert paired.paired
    assert paired.difference == Interval(mean=2.0, ci_low=2.0, ci_high=2.0, n=5)
    assert not paired.inside_noise
    unpaired = paired_difference(list(a.values()), list(b.values()))
    assert not unpaired.paired and unpaired.inside_noise
    assert unpaired.difference.mean == pytest.approx(2.0)
    assert unpaired.difference.ci_low < 0 < unpaired.difference.ci_high


def test_paired_difference_is_the_bootstrap_of_the_differences() -> None:
    a = {0: 90.0, 1: 70.0, 2: 85.0, 3: 60.0, 9: 50.0}
    b = {0: 40.0, 1: 55.0, 2: 30.0, 3: 61.0, 4: 99.0}  # 9 and 4 have no partner
    comparison = paired_difference(a, b, seed=5)
    expected = bootstrap_ci([50.0, 15.0, 55.0, -1.0], seed=5)
    assert comparison.difference == expected and comparison.paired
    assert comparison.inside_noise == (expected.ci_low <= 0 <= expected.ci_high)


def test_unpaired_difference_matches_resampling_by_hand() -> None:
    left, right = [90.0, 70.0, 85.0, 60.0], [40.0, 55.0, 30.0]
    comparison = paired_difference(left, right, resamples=2000, seed=11)
    rng = np.random.default_rng(11)
    first = rng.integers(0, 4, size=(2000, 4)).tolist()
    second = rng.integers(0, 3, size=(2000, 3)).tolist()
    differences = sorted(
        sum(left[i] for i in x) / 4 - sum(right[j] for j in y) / 3
        for x, y in zip(first, second, strict=True)
    )
    assert comparison.difference.mean == pytest.approx(76.25 - 125 / 3)
    assert comparison.difference.ci_low == pytest.approx(_type7(differences, 0.025))
    assert comparison.difference.ci_high == pytest.approx(_type7(differences, 0.975))
    assert not comparison.paired and not comparison.inside_noise


def test_keyed_sides_without_a_shared_index_are_compared_unpaired() -> None:
    comparison = paired_difference({0: 1.0, 1: 3.0}, {5: 1.0, 6: 3.0})
    assert not comparison.paired and comparison.inside_noise
    single = paired_difference([4.0], [1.0])
    assert single.difference == Interval(mean=3.0, ci_low=3.0, ci_high=3.0, n=1)
    assert single.inside_noise  # one value each: no noise seen, no difference told
    lopsided = paired_difference([90.0], [10.0, 12.0, 11.0])
    assert lopsided.difference.ci_low > 0 and lopsided.inside_noise
    one_pair = paired_difference({0: 90.0, 1: 95.0}, {0: 10.0, 5: 12.0})
    assert not one_pair.paired and not one_pair.inside_noise  # two apiece, far apart
    assert one_pair.difference.mean == pytest.approx(92.5 - 11.0)
    with pytest.raises(MetricsError, match="second side needs at least one value"):
        paired_difference([1.0], [])


def test_suggested_k_follows_the_normal_approximation() -> None:
    values = [40.0, 55.0, 70.0, 62.0]
    s = statistics.stdev(values)
    z = statistics.NormalDist().inv_cdf(0.975)
    assert suggested_k(values, half_width=5.0) == math.ceil((z * s / 5.0) ** 2)
    assert suggested_k(values, half_width=2.5) > suggested_k(values, half_width=5.0)
    assert suggested_k([70.0, 70.0, 70.0], half_width=1.0) == 2  # no spread seen
    # 50%: z = 0.6745, s = 70.71 -> (0.6745 * 70.71 / 10) ** 2 = 22.7 -> 23 trials.
    assert suggested_k([0.0, 100.0], half_width=10.0, level=0.5) == 23


def test_suggested_k_refuses_what_it_cannot_estimate() -> None:
    with pytest.raises(MetricsError, match="at least two trials to estimate their variance"):
        suggested_k([50.0], half_width=5.0)
    with pytest.raises(MetricsError, match="half_width must be a positive number"):
        suggested_k([50.0, 60.0], half_width=0.0)
    with pytest.raises(MetricsError, match="needs finite numbers"):
        suggested_k([50.0, math.nan], half_width=1.0)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_more_draws_raise_pass_at_k_and_lower_pass_hat_k(data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 60))
    c = data.draw(st.integers(0, n))
    at = [pass_at_k(n, c, k) for k in range(1, n + 1)]
    hat = [pass_hat_k(n, c, k) for k in range(1, n + 1)]
    assert at[0] == pytest.approx(c / n) and hat[0] == pytest.approx(c / n)
    assert all(x <= y + 1e-12 for x, y in itertools.pairwise(at))
    assert all(x + 1e-12 >= y for x, y in itertools.pairwise(hat))
    assert all(0.0 <= h <= a + 1e-12 <= 1.0 + 1e-12 for h, a in zip(hat, at, strict=True))
