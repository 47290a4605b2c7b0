"""Per-run metrics over runs written into a real ledger (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest

from grader.ledger import Ledger, RunNotFoundError
from grader.metrics import REFERENCE_BUDGETS, RunEfficiency, cohort_aei, rewards, stable_aei
from grader.report import ReportError, run_metrics, runs_metrics
from tests.grader.report.factory import T0_TIME, TokenReport, ToolCall, make_run


def test_stages_rewards_and_funnel(ledger: Ledger) -> None:
    run_id = make_run(
        ledger, agent="a", model="m", scores=[100, 100, 45.5, 80], isolated=[100, 100, 70, 90]
    )
    metrics = run_metrics(ledger, run_id)
    assert [s.state for s in metrics.stages] == [
        "passed",
        "passed",
        "resurrected",
        "passed",
        "open",
        "locked",
    ]
    assert [s.chained_score for s in metrics.stages] == [100, 100, 45.5, 80, None, None]
    assert [s.isolated_score for s in metrics.stages] == [100, 100, 70, 90, None, None]
    assert [s.reached for s in metrics.stages] == [True] * 5 + [False]
    assert [s.affected for s in metrics.stages] == [False, False, False, True, True, True]
    assert metrics.stages[2].resurrection_reason is not None
    assert metrics.stages[0].seconds_open == pytest.approx(60.0)
    assert (metrics.funnel.reached, metrics.funnel.passed, metrics.funnel.resurrected) == (5, 3, 1)
    # The paper's figures come from grader.metrics, over chained scores, ungraded = 0.
    assert metrics.rewards == rewards([100, 100, 45.5, 80, 0, 0])
    assert metrics.rewards.tier == 1


def test_elapsed_spans_first_to_last_event(ledger: Ledger) -> None:
    # A tool call ending 5 s before the first submission, lasting 3 s, starts the run's clock
    # at -8 s; a token report 40 s after the finish ends it. Creation (-30 s) does not count.
    run_id = make_run(
        ledger,
        agent="a",
        model="m",
        scores=[100] * 6,
        tool_calls=[ToolCall(end_s=-5, duration_s=3), ToolCall(end_s=70, tool="build")],
        tokens=[TokenReport(at_s=400, cost_usd=0.01)],
    )
    metrics = run_metrics(ledger, run_id)
    assert metrics.elapsed.first_event_at == T0_TIME - timedelta(seconds=8)
    assert metrics.elapsed.last_event_at == T0_TIME + timedelta(seconds=400)
    assert metrics.elapsed.elapsed_s == pytest.approx(408.0)
    tools = [e for e in metrics.timeline if e.kind == "tool_call"]
    # The early call came before T0 opened; the other started while T1 was open.
    assert [(e.tool, e.stage, e.offset_s) for e in tools] == [
        ("run_command", None, 0.0),
        ("build", "T1", pytest.approx(77.5)),
    ]
    submissions = [e for e in metrics.timeline if e.kind == "submission"]
    assert [e.stage for e in submissions] == [f"T{i}" for i in range(6)]
    assert [e.offset_s for e in submissions] == pytest.approx(
        [8 + 60 * (i + 1) - 5 for i in range(6)]
    )
    assert [e.duration_s for e in submissions] == pytest.approx([5.0] * 6)
    assert [e.at for e in metrics.timeline] == sorted(e.at for e in metrics.timeline)


def test_a_run_with_no_event_has_no_elapsed_time_and_no_aei(ledger: Ledger) -> None:
    run_id = make_run(ledger, agent="a", model="m", scores=[])
    metrics = run_metrics(ledger, run_id)
    assert metrics.elapsed.elapsed_s is None and metrics.timeline == []
    assert metrics.aei.missing == ["elapsed_s", "cost_usd", "total_tokens"]
    assert metrics.aei.cohort is None and metrics.aei.stable is None
    assert run_id not in metrics.aei.cohort_runs


def _efficient(
    ledger: Ledger, agent: str, scores: Sequence[float], cost: float, stage_s: float
) -> str:
    return make_run(
        ledger,
        agent=agent,
        model="m",
        scores=scores,
        stage_s=stage_s,
        tokens=[
            TokenReport(
                at_s=1, input_tokens=5000, cache_read=1000, output_tokens=500, cost_usd=cost
            )
        ],
    )


def test_cohort_aei_moves_when_a_run_joins_and_stable_aei_does_not(ledger: Ledger) -> None:
    first = _efficient(ledger, "first", [100] * 4 + [50, 0], cost=2.0, stage_s=60)
    alone = run_metrics(ledger, first, cohort=[first])
    assert alone.aei.cohort is not None and alone.aei.stable is not None
    # Alone it holds every maximum: stage and reward 100, time, cost and tokens 0 -> 40.
    assert alone.aei.cohort.aei == pytest.approx(40.0)
    assert alone.aei.cohort_runs == [first]

    second = _efficient(ledger, "second", [100] * 6, cost=8.0, stage_s=120)
    joined = run_metrics(ledger, first)  # cohort: every run in the ledger
    assert joined.aei.cohort_runs == [first, second]
    assert joined.aei.cohort is not None
    assert joined.aei.cohort.aei != pytest.approx(alone.aei.cohort.aei)
    # The cohort form is the paper's function over the cohort's inputs, reused, not re-derived.
    inputs = [run_metrics(ledger, r, cohort=[r]).aei.inputs for r in (first, second)]
    assert all(isinstance(i, RunEfficiency) for i in inputs)
    expected = cohort_aei([i for i in inputs if i is not None])[0]
    assert joined.aei.cohort == expected
    # By hand: maxima tier 5, MR 100, time 720 s, cost $8, tokens equal.
    assert joined.aei.cohort.time == pytest.approx(50.0)
    assert joined.aei.cohort.cost == pytest.approx(75.0)
    assert joined.aei.cohort.stage == pytest.approx(60.0)  # tier 3 of 5
    # The stable form is unchanged, and is the paper-budget function of the run's inputs.
    assert joined.aei.stable == alone.aei.stable
    assert alone.aei.inputs is not None
    assert alone.aei.stable == stable_aei(alone.aei.inputs, REFERENCE_BUDGETS)
    assert alone.aei.inputs.total_tokens == 5000 + 500 + 1000  # cache reads counted again


def test_given_cohort_and_runs_metrics_agree(ledger: Ledger) -> None:
    a = _efficient(ledger, "a", [100, 100], cost=1.0, stage_s=30)
    b = _efficient(ledger, "b", [100, 0], cost=4.0, stage_s=90)
    _efficient(ledger, "outsider", [100] * 6, cost=100.0, stage_s=600)
    both = runs_metrics(ledger, [a, b], cohort=[])
    assert [m.run.run_id for m in both] == [a, b]
    assert both[0].aei.cohort_runs == [a, b]  # the reported runs always join the cohort
    assert both[0].aei == run_metrics(ledger, a, cohort=[b]).aei
    assert both[1].stages == run_metrics(ledger, b).stages


def test_unknown_runs_are_named(ledger: Ledger) -> None:
    make_run(ledger, agent="a", model="m", scores=[100])
    with pytest.raises(RunNotFoundError, match=r"runs 'r-nope1', 'r-nope2' are not in the ledger"):
        runs_metrics(ledger, ["r-nope1", "r-nope2"])
    with pytest.raises(ReportError, match="no runs were given"):
        runs_metrics(ledger, [])
