"""The leaderboard's aggregation, checked against figures worked out by hand."""

from __future__ import annotations

import json
import math

import pytest

from grader.ledger import Ledger
from grader.metrics import bootstrap_ci
from grader.report import (
    ReportError,
    leaderboard_from_ledger,
    render_leaderboard_document,
    spread,
)
from tests.grader.report.factory import TokenReport, ToolCall, make_run

# Mean Reward by hand (weights 1,2,2,3,3,4; bonus 1.2 unaffected, 1.0 affected):
#   all 100                      -> 100
#   [100,100,100,100,100,0]      -> 100 * 1.2*(1+2+2+3+3) / (1.2*(1+2+2+3+3+4)) = 1320/18
#   [100,0,100,100,100,100]      -> T2..T5 affected: 100*(1.2+2+3+3+4) / (1.2+2.4+2+3+3+4)
#                                   = 1320/15.6
#   [100,40] (T2..T5 ungraded=0) -> (100*1.2 + 40*2.4) / (1.2+2.4+2+3+3+4) = 216/15.6
MR_ALL = 100.0
MR_T5_FAILED = 1320 / 18
MR_T1_FAILED = 1320 / 15.6
MR_BETA = 216 / 15.6
# Pass score: sum(1.5 unaffected / 1.0 affected over stages >= 60) / 9 * 100.
PASS_ALL, PASS_T5_FAILED, PASS_T1_FAILED, PASS_BETA = (
    100.0,
    7.5 / 9 * 100,
    5.5 / 9 * 100,
    1.5 / 9 * 100,
)


def _tokens(cost: float | None) -> list[TokenReport]:
    return [
        TokenReport(at_s=30, input_tokens=1000, cache_read=200, output_tokens=100, cost_usd=cost)
    ]


@pytest.fixture
def board_ledger(ledger: Ledger) -> Ledger:
    calls = [ToolCall(end_s=10), ToolCall(end_s=70, outcome="error")]
    make_run(
        ledger,
        agent="alpha",
        model="m1",
        harness="h",
        scores=[100] * 6,
        tool_calls=calls,
        tokens=_tokens(1.0),
    )
    make_run(
        ledger, agent="alpha", model="m1", harness="h", scores=[100] * 5 + [0], tokens=_tokens(3.0)
    )
    make_run(
        ledger,
        agent="alpha",
        model="m1",
        harness="h",
        scores=[100, 0, 100, 100, 100, 100],
        tokens=_tokens(None),
    )  # no reported cost and an unpriced model: cost unknown
    make_run(ledger, agent="beta", model="m2", scores=[100, 40], tokens=_tokens(0.5))
    return ledger


def test_trials_are_grouped_and_aggregated(board_ledger: Ledger) -> None:
    board = leaderboard_from_ledger(board_ledger)
    assert board.runs == 4
    assert [(r.agent, r.model, r.harness, r.trials) for r in board.rows] == [
        ("alpha", "m1", "h", 3),
        ("beta", "m2", None, 1),
    ]
    alpha, beta = board.rows

    mean = (MR_ALL + MR_T5_FAILED + MR_T1_FAILED) / 3
    stdev = math.sqrt(
        ((MR_ALL - mean) ** 2 + (MR_T5_FAILED - mean) ** 2 + (MR_T1_FAILED - mean) ** 2) / 2
    )
    assert alpha.mean_reward.n == 3
    assert alpha.mean_reward.mean == pytest.approx(mean)
    assert alpha.mean_reward.stdev == pytest.approx(stdev)
    assert (alpha.mean_reward.min, alpha.mean_reward.max) == pytest.approx((MR_T5_FAILED, MR_ALL))
    assert alpha.pass_score.mean == pytest.approx((PASS_ALL + PASS_T5_FAILED + PASS_T1_FAILED) / 3)

    # Passed by all three trials: T0, T2, T3, T4 (T1 failed in one, T5 in another).
    assert alpha.passed_by_all == ["T0", "T2", "T3", "T4"]
    assert alpha.pass_hat_k == pytest.approx(4 / 6 * 100)
    assert alpha.pass_at_k == pytest.approx(100.0)
    assert alpha.tiers == {"none": 0, "T0": 1, "T1": 0, "T2": 0, "T3": 0, "T4": 1, "T5": 1}

    # Cost known for two trials only ($1 and $3): mean 2, sample stdev sqrt(2).
    assert alpha.cost_usd is not None
    assert alpha.cost_usd.n == 2
    assert (alpha.cost_usd.mean, alpha.cost_usd.min, alpha.cost_usd.max) == pytest.approx(
        (2.0, 1.0, 3.0)
    )
    assert alpha.cost_usd.stdev == pytest.approx(math.sqrt(2))
    # Every trial ran six 60-second stages: elapsed 360 s, no spread.
    assert alpha.elapsed_s is not None
    assert alpha.elapsed_s.mean == pytest.approx(360.0)
    assert alpha.elapsed_s.stdev == 0.0
    # The paper's token count: input + output + reasoning + cache reads = 1000+100+0+200.
    assert alpha.total_tokens is not None and alpha.total_tokens.mean == pytest.approx(1300)
    # No AEI without a cost: two of the three trials have one.
    assert alpha.aei is not None and alpha.aei.n == 2
    assert alpha.stable_aei is not None and alpha.stable_aei.n == 2

    assert beta.mean_reward.mean == pytest.approx(MR_BETA)
    assert beta.mean_reward.stdev is None
    assert beta.pass_score.mean == pytest.approx(PASS_BETA)
    assert beta.pass_hat_k == pytest.approx(100 / 6)
    assert beta.tiers["T0"] == 1
    # Two stages of 60 s graded, nothing after: elapsed 120 s.
    assert beta.elapsed_s is not None and beta.elapsed_s.mean == pytest.approx(120.0)


def test_the_cohort_aei_is_over_every_run_on_the_board(board_ledger: Ledger) -> None:
    board = leaderboard_from_ledger(board_ledger)
    alpha = board.rows[0]
    # The all-100 run holds the tier and reward maxima, the most time (tied), the least cost.
    # Maxima: tier 5, MR 100, time 360 s, cost $3, tokens 1300 (all equal).
    # All-100 run: stage 100, reward 100, time 0, cost (3-1)/3*100, tokens 0 -> mean.
    best = (100 + 100 + 0 + 200 / 3 + 0) / 5
    # T5-failed run: stage 80, reward 1320/18, time 0, cost 0, tokens 0.
    second = (80 + MR_T5_FAILED + 0 + 0 + 0) / 5
    assert alpha.aei is not None
    assert alpha.aei.max == pytest.approx(best)
    assert alpha.aei.min == pytest.approx(second)


def test_status_filter(board_ledger: Ledger) -> None:
    finished = leaderboard_from_ledger(board_ledger, statuses=["finished"])
    assert [(r.agent, r.trials) for r in finished.rows] == [("alpha", 3)]
    with pytest.raises(ReportError, match="holds no runs with status aborted"):
        leaderboard_from_ledger(board_ledger, statuses=["aborted"])


def test_spread_of_one_and_of_none() -> None:
    assert spread([]) is None
    single = spread([4.0])
    assert single is not None and single.stdev is None and single.min == single.max == 4.0
    pair = spread([1.0, 2.0, 3.0, 6.0])
    assert pair is not None
    assert pair.mean == 3.0 and pair.stdev == pytest.approx(math.sqrt((4 + 1 + 0 + 9) / 3))


def test_every_spread_carries_the_means_bootstrap_interval(board_ledger: Ledger) -> None:
    board = leaderboard_from_ledger(board_ledger)
    alpha, beta = board.rows
    rewards = [MR_ALL, MR_T5_FAILED, MR_T1_FAILED]
    interval = bootstrap_ci(rewards)
    assert (alpha.mean_reward.ci_low, alpha.mean_reward.ci_high) == pytest.approx(
        (interval.ci_low, interval.ci_high)
    )
    assert alpha.mean_reward.min <= alpha.mean_reward.ci_low < alpha.mean_reward.ci_high
    assert alpha.mean_reward.ci_high <= alpha.mean_reward.max
    assert alpha.cost_usd is not None
    costs = bootstrap_ci([1.0, 3.0])
    assert (alpha.cost_usd.ci_low, alpha.cost_usd.ci_high) == (costs.ci_low, costs.ci_high)
    # One trial: the interval is the value itself.
    assert beta.mean_reward.ci_low == beta.mean_reward.ci_high == pytest.approx(MR_BETA)
    # The JSON keeps every earlier field and adds the interval's two ends.
    fields = set(json.loads(board.model_dump_json())["rows"][0]["mean_reward"])
    assert fields == {"n", "mean", "stdev", "min", "max", "ci_low", "ci_high"}
    shown = f"CI {interval.ci_low:.1f}-{interval.ci_high:.1f}"
    for output_format in ("term", "md", "html"):
        assert shown in render_leaderboard_document(board, output_format), output_format


def test_runs_of_two_epochs_never_share_a_row_and_the_board_says_so(ledger: Ledger) -> None:
    make_run(ledger, agent="alpha", model="m1", scores=[100] * 6)
    make_run(ledger, agent="alpha", model="m1", scores=[100] * 6, epoch="g1-f3-p1-abc")
    make_run(ledger, agent="alpha", model="m1", scores=[100] * 5 + [0], epoch="g1-f3-p1-abc")
    board = leaderboard_from_ledger(ledger)
    assert board.epochs == ["0", "g1-f3-p1-abc"]
    assert [(row.epoch, row.trials) for row in board.rows] == [("0", 1), ("g1-f3-p1-abc", 2)]
    for output_format in ("md", "term", "html"):
        assert "MIX EPOCHS" in render_leaderboard_document(board, output_format), output_format
    only = leaderboard_from_ledger(ledger, epoch="g1-f3-p1-abc")
    assert only.epochs == ["g1-f3-p1-abc"] and [row.trials for row in only.rows] == [2]
    text = render_leaderboard_document(only, "md")
    assert "MIX EPOCHS" not in text and "Every run was graded on epoch g1-f3-p1-abc" in text
    with pytest.raises(ReportError, match="of epoch nope"):
        leaderboard_from_ledger(ledger, epoch="nope")
