"""The campaign report on a real SQLite ledger, every figure checked against a direct
computation from the scores and costs the runs were written with."""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest

from grader.ledger import STAGES, Ledger, RunNotFoundError
from grader.metrics import (
    Interval,
    bootstrap_ci,
    pass_at_k,
    pass_hat_k,
    rewards,
    suggested_k,
)
from grader.report import (
    FORMATS,
    CampaignReport,
    ReportError,
    TrialRow,
    campaign_report,
    campaign_schema,
    leaderboard,
    leaderboard_from_ledger,
    render_campaign_document,
    render_leaderboard_document,
    runs_metrics,
)
from tests.grader.report.factory import TokenReport, make_run

# agent, model -> per trial index: (six chained scores, reported cost or None)
PLAN: dict[tuple[str, str], list[tuple[Sequence[float], float | None]]] = {
    ("ref", "m"): [([100] * 6, 1.0), ([100] * 6, 1.2), ([100] * 5 + [40], 1.1)],
    ("weak", "m"): [
        ([100, 100, 20, 90, 80, 70], 0.5),
        ([100, 100, 30, 90, 85, 60], 0.4),
        ([100, 100, 10, 95, 80, 75], 0.6),
    ],
    ("costly", "m"): [([100, 100, 100, 50, 50, 50], 2.0), ([100, 100, 100, 50, 55, 50], 2.2)],
    ("ref", "m2"): [([100] * 6, None)],
}


@dataclass(frozen=True)
class Campaign:
    ledger: Ledger
    trials: list[TrialRow]
    outsider: str


@pytest.fixture
def campaign(ledger: Ledger) -> Campaign:
    return _fill(ledger)


@pytest.fixture
def sqlite_campaign(tmp_path: Path) -> Iterator[Campaign]:
    """The campaign on SQLite only, for the browser tests (the backend changes no figure)."""
    with Ledger.open(f"sqlite:///{tmp_path / 'ledger.sqlite3'}") as ledger:
        yield _fill(ledger)


def _fill(ledger: Ledger) -> Campaign:
    trials = []
    for (agent, model), plan in PLAN.items():
        for index, (scores, cost) in enumerate(plan):
            run_id = make_run(
                ledger,
                agent=agent,
                model=model,
                scores=scores,
                tokens=[TokenReport(at_s=30, cost_usd=cost)],
            )
            trials.append(TrialRow(agent=agent, model=model, index=index, run_id=run_id))
    # A run of the same agent outside the campaign, far costlier: it must change nothing.
    outsider = make_run(
        ledger, agent="ref", model="m", scores=[0], tokens=[TokenReport(at_s=1, cost_usd=90.0)]
    )
    return Campaign(ledger=ledger, trials=trials, outsider=outsider)


def _mr(scores: Sequence[float]) -> float:
    return rewards(scores).mean_reward


def test_rows_match_a_direct_computation(campaign: Campaign) -> None:
    report = campaign_report(campaign.ledger, "demo", campaign.trials)
    assert report.campaign == "demo"
    means = [row.mean_reward.mean for row in report.rows]
    assert means == sorted(means, reverse=True)
    rows = {(row.agent, row.model): row for row in report.rows}
    assert set(rows) == set(PLAN)
    for key, plan in PLAN.items():
        row = rows[key]
        scores = [s for s, _ in plan]
        assert row.trials == len(plan)
        assert [t.index for t in row.trial_runs] == list(range(len(plan)))
        assert row.mean_reward == bootstrap_ci([_mr(s) for s in scores])
        assert row.mean_reward.mean == pytest.approx(sum(_mr(s) for s in scores) / len(plan))
        assert row.pass_score == bootstrap_ci([rewards(s).pass_score for s in scores])
        assert row.pipeline_score == bootstrap_ci([rewards(s).pipeline_score for s in scores])
        for index, stage in enumerate(STAGES):
            assert row.stages[stage] == bootstrap_ci([s[index] for s in scores]), stage
            assert row.stage_passes[stage] == sum(s[index] >= 60 for s in scores), stage
        costs = [c for _, c in plan if c is not None]
        assert row.cost_usd == (bootstrap_ci(costs) if costs else None)
        assert row.elapsed_s == bootstrap_ci([360.0] * len(plan))
        for entry in row.pass_k:
            passes = list(row.stage_passes.values())
            n = len(plan)
            assert entry.pass_at_k == pytest.approx(
                100 * sum(pass_at_k(n, c, entry.k) for c in passes) / 6
            )
            assert entry.pass_hat_k == pytest.approx(
                100 * sum(pass_hat_k(n, c, entry.k) for c in passes) / 6
            )
        assert [p.k for p in row.pass_k] == list(range(1, len(plan) + 1))
        expected_k = (
            suggested_k([_mr(s) for s in scores], half_width=5.0) if len(plan) > 1 else None
        )
        assert row.suggested_k == expected_k


def test_figures_worked_out_by_hand(campaign: Campaign) -> None:
    report = campaign_report(campaign.ledger, "demo", campaign.trials)
    rows = {(row.agent, row.model): row for row in report.rows}
    ref, weak, single = rows[("ref", "m")], rows[("weak", "m")], rows[("ref", "m2")]
    # T5 passed by two of ref's three trials: pass@1 over stages = (5 * 1 + 2/3) / 6.
    assert ref.stage_passes == {"T0": 3, "T1": 3, "T2": 3, "T3": 3, "T4": 3, "T5": 2}
    assert ref.pass_k[0].pass_at_k == pytest.approx((5 + 2 / 3) / 6 * 100)
    assert ref.pass_k[2].pass_hat_k == pytest.approx(5 / 6 * 100)  # all three: not T5
    assert ref.pass_k[2].pass_at_k == pytest.approx(100.0)
    assert ref.tiers == {"none": 0, "T0": 0, "T1": 0, "T2": 0, "T3": 0, "T4": 1, "T5": 2}
    assert weak.tiers["T1"] == 3 and weak.stage_passes["T2"] == 0
    assert weak.cost_usd is not None and weak.cost_usd.mean == pytest.approx(0.5)
    # One trial: zero-width intervals, no variance to suggest a k from, no known cost.
    assert single.mean_reward == Interval(mean=100.0, ci_low=100.0, ci_high=100.0, n=1)
    assert single.suggested_k is None and single.cost_usd is None
    assert single.stable_aei is None and single.on_pareto_front is None
    # Cost against mean reward: costly spends more than ref for less reward.
    assert ref.on_pareto_front and weak.on_pareto_front
    assert rows[("costly", "m")].on_pareto_front is False


def test_the_cohort_aei_is_the_campaigns_own_runs(campaign: Campaign) -> None:
    report = campaign_report(campaign.ledger, "demo", campaign.trials)
    runs = [t.run_id for t in campaign.trials]
    metrics = {m.run.run_id: m for m in runs_metrics(campaign.ledger, runs, cohort=runs)}
    for row in report.rows:
        cohort = [metrics[t.run_id].aei.cohort for t in row.trial_runs]
        stable = [metrics[t.run_id].aei.stable for t in row.trial_runs]
        known = [a.aei for a in cohort if a is not None]
        assert row.cohort_aei == (bootstrap_ci(known) if known else None)
        assert row.stable_aei == (
            bootstrap_ci([a.aei for a in stable if a is not None]) if known else None
        )
        assert campaign.outsider not in metrics[row.trial_runs[0].run_id].aei.cohort_runs


def test_comparisons_pair_rows_by_trial_index(campaign: Campaign) -> None:
    report = campaign_report(campaign.ledger, "demo", campaign.trials)
    pairs = [
        (c.first_agent, c.first_model, c.second_agent, c.second_model) for c in report.comparisons
    ]
    expected = [
        (a.agent, a.model, b.agent, b.model) for a, b in itertools.combinations(report.rows, 2)
    ]
    assert pairs == expected and len(pairs) == 6
    by_pair = {p: c for p, c in zip(pairs, report.comparisons, strict=True)}
    ref_weak = by_pair[("ref", "m", "weak", "m")]
    differences = [_mr(PLAN[("ref", "m")][i][0]) - _mr(PLAN[("weak", "m")][i][0]) for i in range(3)]
    assert ref_weak.paired and ref_weak.difference == bootstrap_ci(differences)
    assert not ref_weak.inside_noise and ref_weak.difference.ci_low > 0
    # ref/m2 has one trial: compared unpaired, and one trial shows no noise, so even a
    # 25-point difference is not called.
    for other in (("ref", "m"), ("weak", "m"), ("costly", "m")):
        single = by_pair[("ref", "m2", *other)]
        assert not single.paired and single.inside_noise
        expected_mean = 100 - sum(_mr(s) for s, _ in PLAN[other]) / len(PLAN[other])
        assert single.difference.mean == pytest.approx(expected_mean)


def test_identical_rows_compare_inside_the_noise(ledger: Ledger) -> None:
    trials = []
    for agent in ("a", "b"):
        for index, scores in enumerate(([100, 100, 50], [100, 70], [100, 100, 100, 20])):
            run_id = make_run(ledger, agent=agent, model="m", scores=scores)
            trials.append(
                TrialRow(agent=agent, model="m", index=(index + (agent == "b")) % 3, run_id=run_id)
            )
    report = campaign_report(ledger, "twins", trials)
    (comparison,) = report.comparisons
    assert comparison.paired and comparison.inside_noise
    assert comparison.difference.mean == pytest.approx(0.0)


def test_pass_k_at_all_trials_is_the_leaderboards(campaign: Campaign) -> None:
    report = campaign_report(campaign.ledger, "demo", campaign.trials)
    runs = [t.run_id for t in campaign.trials]
    board = leaderboard(runs_metrics(campaign.ledger, runs, cohort=runs, diagnose=False))
    boards = {(r.agent, r.model): r for r in board.rows}
    for row in report.rows:
        last = row.pass_k[-1]
        assert last.pass_at_k == pytest.approx(boards[(row.agent, row.model)].pass_at_k)
        assert last.pass_hat_k == pytest.approx(boards[(row.agent, row.model)].pass_hat_k)


def test_bad_trial_lists_are_refused(campaign: Campaign) -> None:
    first = campaign.trials[0]
    with pytest.raises(ReportError, match="campaign 'demo' has no graded trial to report"):
        campaign_report(campaign.ledger, "demo", [])
    twice = first.model_copy(update={"run_id": campaign.trials[1].run_id})
    with pytest.raises(ReportError, match="trial 0 of ref / m is given twice"):
        campaign_report(campaign.ledger, "demo", [first, twice])
    shared = first.model_copy(update={"agent": "other"})
    with pytest.raises(ReportError, match="is given for two trials"):
        campaign_report(campaign.ledger, "demo", [first, shared])
    ghost = first.model_copy(update={"run_id": "no-such-run"})
    with pytest.raises(RunNotFoundError, match="no-such-run"):
        campaign_report(campaign.ledger, "demo", [ghost])


def test_the_report_is_deterministic_by_seed(campaign: Campaign) -> None:
    one = campaign_report(campaign.ledger, "demo", campaign.trials, seed=3, resamples=500)
    two = campaign_report(campaign.ledger, "demo", campaign.trials, seed=3, resamples=500)
    assert one.rows == two.rows and one.comparisons == two.comparisons
    assert one.seed == 3 and one.resamples == 500


def _md_shown(text: str) -> str:
    return text.replace("[", "\\[").replace("]", "\\]")


def test_every_format_renders_the_intervals(campaign: Campaign) -> None:
    report = campaign_report(campaign.ledger, "demo", campaign.trials)
    ref = next(r for r in report.rows if (r.agent, r.model) == ("ref", "m"))
    mean = f"{ref.mean_reward.mean:.1f}"
    bounds = f"[{ref.mean_reward.ci_low:.1f}, {ref.mean_reward.ci_high:.1f}]"
    t5 = ref.stages["T5"]
    stage = f"{t5.mean:.1f} [{t5.ci_low:.1f}, {t5.ci_high:.1f}]"
    for output_format in FORMATS:
        text = render_campaign_document(report, output_format)
        if output_format == "json":
            assert {r["agent"] for r in json.loads(text)["rows"]} == {"ref", "weak", "costly"}
            continue
        assert "weak / m" in text and "costly / m" in text, output_format
        # Markdown escapes brackets in cells (an agent's text there must not make a link).
        shown = _md_shown if output_format == "md" else str
        if output_format == "term":  # the cell's two lines, with other columns between
            assert re.search(rf"{re.escape(mean)}.*\n.*{re.escape(bounds)}", text)
        else:  # one cell: a line break, then the interval
            found = re.search(rf"{re.escape(mean)}(\n|<br>){re.escape(shown(bounds))}", text)
            assert found, output_format
        assert shown(stage) in text, output_format
    term = render_campaign_document(report, "term")
    for needle in ("Rows", "Stage scores", "pass@k", "Comparisons", "one trial: no noise seen"):
        assert needle in term, needle
    markdown = render_campaign_document(report, "md")
    assert "| # | agent / model | trials | mean reward |" in markdown
    assert "| ref / m | weak / m |" in markdown


def test_the_json_has_the_documented_shape(campaign: Campaign) -> None:
    report = campaign_report(campaign.ledger, "demo", campaign.trials)
    payload = json.loads(render_campaign_document(report, "json"))
    jsonschema.Draft202012Validator(campaign_schema()).validate(payload)
    assert payload["campaign"] == "demo"
    row = payload["rows"][0]
    assert {"agent", "model", "trials", "mean_reward", "pass_score", "stages"} <= set(row)
    assert set(row["mean_reward"]) >= {"mean", "ci_low", "ci_high"}
    assert list(row["stages"]) == list(STAGES)
    assert len(payload["comparisons"]) == 6
    assert CampaignReport.model_validate(payload) == report
    broken = json.loads(json.dumps(payload))
    broken["rows"][0]["mean_reward"]["ci_low"] = "low"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(campaign_schema()).validate(broken)


def test_the_html_is_self_contained_with_its_charts(campaign: Campaign) -> None:
    report = campaign_report(campaign.ledger, "demo <b>x</b>", campaign.trials)
    page = render_campaign_document(report, "html")
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"\s(src|href)\s*=", page)
    assert "url(" not in page and "@import" not in page
    assert set(re.findall(r"https?://[^\s\"')]+", page)) == {"http://www.w3.org/2000/svg"}
    assert 'data-chart="intervals"' in page and 'data-chart="pareto"' in page
    assert "demo &lt;b&gt;x&lt;/b&gt;" in page
    assert "<b>x</b>" not in page.split('<script type="application/json"')[0]
    embedded = re.search(
        r'<script type="application/json" id="ramp-data">(.*?)</script>', page, re.S
    )
    assert embedded is not None
    assert CampaignReport.model_validate_json(embedded.group(1)) == report


class _Marks(HTMLParser):
    """The marks the chart script drew (``data-mark``), by chart, and its rendered count."""

    def __init__(self) -> None:
        super().__init__()
        self.chart: list[str] = []
        self.marks: dict[str, list[dict[str, str | None]]] = {}
        self.rendered: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "body":
            self.rendered = found.get("data-charts-rendered")
        if tag == "figure" and found.get("data-chart"):
            self.chart.append(found["data-chart"] or "")
        if "data-mark" in found and self.chart:
            self.marks.setdefault(self.chart[-1], []).append(found)

    def handle_endtag(self, tag: str) -> None:
        if tag == "figure" and self.chart:
            self.chart.pop()


def _drawn(page: str, tmp_path: Path) -> _Marks:
    """The page's DOM after its script ran in headless Chromium, with no network at all."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("a network namespace needs root and unshare(1)")
    path = tmp_path / "page.html"
    path.write_text(page, encoding="utf-8")
    argv = [
        *("unshare", "--net", "--", browser, "--headless", "--no-sandbox", "--disable-gpu"),
        f"--user-data-dir={tmp_path / 'profile'}",
        "--dump-dom",
        path.as_uri(),
    ]
    dumped = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=True)
    marks = _Marks()
    marks.feed(dumped.stdout)
    return marks


def test_the_charts_draw_every_interval_in_chromium(
    sqlite_campaign: Campaign, tmp_path: Path
) -> None:
    report = campaign_report(sqlite_campaign.ledger, "demo", sqlite_campaign.trials)
    marks = _drawn(render_campaign_document(report, "html"), tmp_path)
    assert marks.rendered == "2"
    bars = {(m["data-row"], m["data-metric"]): m for m in marks.marks["intervals"]}
    assert len(bars) == len(report.rows) * 7  # mean reward and six stages per row
    for row in report.rows:
        name = f"{row.agent} / {row.model}"
        for metric, value in [("mean_reward", row.mean_reward), *row.stages.items()]:
            bar = bars[(name, metric)]
            assert float(bar["data-value"] or "nan") == pytest.approx(value.mean)
            assert float(bar["data-low"] or "nan") == pytest.approx(value.ci_low)
            assert float(bar["data-high"] or "nan") == pytest.approx(value.ci_high)
    points = {m["data-row"]: m for m in marks.marks["pareto"] if m["data-mark"] == "row"}
    assert set(points) == {"ref / m", "weak / m", "costly / m"}  # ref / m2: cost unknown
    assert {name: m["data-front"] for name, m in points.items()} == {
        "ref / m": "yes",
        "weak / m": "yes",
        "costly / m": "no",
    }
    (front,) = [m for m in marks.marks["pareto"] if m["data-mark"] == "front"]
    assert front["data-value"] == "2"


def test_the_leaderboard_chart_draws_the_intervals_in_chromium(
    sqlite_campaign: Campaign, tmp_path: Path
) -> None:
    board = leaderboard_from_ledger(sqlite_campaign.ledger)
    marks = _drawn(render_leaderboard_document(board, "html"), tmp_path)
    drawn = [m for m in marks.marks["leaderboard"] if m["data-mark"] == "ci"]
    expected = [r.mean_reward for r in board.rows if r.mean_reward.n > 1]
    assert len(drawn) == len(expected) == 3
    for mark, spread_ in zip(drawn, expected, strict=True):
        assert float(mark["data-low"] or "nan") == pytest.approx(spread_.ci_low)
        assert float(mark["data-high"] or "nan") == pytest.approx(spread_.ci_high)
