"""`ramp campaign report NAME`: a campaign made through the ledger's own campaign API (open,
claim, finish) over runs written the way the stage machine writes them, reported in every
format; its figures checked against a direct computation from the stage scores the ledger
holds for the runs that count, and its errors checked for exit code and advice."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from click.testing import CliRunner, Result
from sqlmodel import col, select

from grader.ledger import STAGES, AttemptOutcome, Ledger, StageState, TrialKey
from grader.metrics import bootstrap_ci, rewards
from grader.report import campaign_schema
from ramp_mcp.campaign import campaign_group
from tests.grader.report.factory import make_run

BIN = Path(sys.executable).parent

# agent -> per trial index: six chained scores of the run that counts
PLAN: dict[str, list[list[float]]] = {
    "weak": [[100, 100, 0, 90, 80, 70], [100, 100, 20, 85, 80, 60], [100, 100, 10, 95, 75, 65]],
    "ref": [[100] * 6, [100] * 6, [100, 100, 100, 100, 100, 40]],
}


@dataclass(frozen=True)
class Made:
    url: str
    counted: dict[tuple[str, int], str]  # (agent, index) -> the run that counts
    stray: list[str]  # runs of the campaign's attempts that must not count


def _attempt(
    ledger: Ledger, trial_id: int, outcome: AttemptOutcome, run_id: str, *, retry: bool
) -> None:
    attempt = ledger.claim_trial(trial_id, driver="test:1", node="here")
    assert attempt is not None and attempt.id is not None
    ledger.finish_attempt(attempt.id, outcome=outcome, run_id=run_id, retry=retry)


def _make(ledger: Ledger, name: str, *, unfinished: bool) -> Made:
    """Campaign ``name`` with every trial of PLAN graded: weak #1 only after an
    infrastructure attempt whose run scored nothing, weak #2 charged to the model; with
    ``unfinished``, one more agent whose trial 0 is queued and trial 1 failed."""
    keys = [TrialKey(agent, "m", i) for agent, plan in PLAN.items() for i in range(len(plan))]
    if unfinished:
        keys += [TrialKey("late", "m", 0), TrialKey("late", "m", 1)]
    ledger.open_campaign(name, spec="{}", spec_hash=name, trials=keys)
    ids = {(t.agent, t.index): t.id for t in ledger.campaign_trials(name)}
    counted: dict[tuple[str, int], str] = {}
    stray: list[str] = []
    for agent, plan in PLAN.items():
        for index, scores in enumerate(plan):
            trial_id = ids[(agent, index)]
            assert trial_id is not None
            if (agent, index) == ("weak", 1):
                stray.append(make_run(ledger, agent=agent, model="m", scores=[0]))
                _attempt(ledger, trial_id, "infrastructure", stray[-1], retry=True)
            run_id = make_run(ledger, agent=agent, model="m", scores=scores)
            outcome: AttemptOutcome = "charged" if (agent, index) == ("weak", 2) else "ok"
            _attempt(ledger, trial_id, outcome, run_id, retry=False)
            counted[(agent, index)] = run_id
    if unfinished:
        stray.append(make_run(ledger, agent="late", model="m", scores=[100] * 6))
        late = ids[("late", 1)]
        assert late is not None
        _attempt(ledger, late, "infrastructure", stray[-1], retry=False)
    return Made(url=ledger.url, counted=counted, stray=stray)


@pytest.fixture
def made(tmp_path: Path) -> Iterator[Made]:
    with Ledger.open(f"sqlite:///{tmp_path / 'ledger.sqlite3'}") as ledger:
        result = _make(ledger, "demo", unfinished=False)
        _make(ledger, "half", unfinished=True)
        ledger.open_campaign("idle", spec="{}", spec_hash="idle", trials=[TrialKey("a", "m", 0)])
    yield result


def _report(*args: str) -> Result:
    return CliRunner().invoke(campaign_group, ["report", *args])


def _scores(url: str, run_ids: Sequence[str]) -> dict[str, list[float]]:
    """The chained score of each stage of each run, read straight from the ledger."""
    with Ledger.open(url) as ledger, ledger.session(write=False) as session:
        states = session.exec(select(StageState).where(col(StageState.run_id).in_(run_ids))).all()
        found = {(s.run_id, s.stage): s.chained_score for s in states}
    return {run: [found[(run, stage)] or 0.0 for stage in STAGES] for run in run_ids}


def test_json_matches_the_schema_and_a_direct_computation(made: Made) -> None:
    result = _report("demo", "--format", "json", "--ledger", made.url)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    jsonschema.validate(document, campaign_schema())
    assert document["campaign"] == "demo" and document["partial"] is None
    assert [row["agent"] for row in document["rows"]] == ["ref", "weak"]
    scores = _scores(made.url, list(made.counted.values()))
    for row in document["rows"]:
        runs = [made.counted[(row["agent"], i)] for i in range(len(PLAN[row["agent"]]))]
        assert [t["run_id"] for t in row["trial_runs"]] == runs
        assert not set(made.stray) & {t["run_id"] for t in row["trial_runs"]}
        table = np.array([scores[run] for run in runs])
        assert row["trials"] == 3
        for index, stage in enumerate(STAGES):
            assert row["stages"][stage]["mean"] == pytest.approx(table[:, index].mean())
        reward = [rewards(list(line)).mean_reward for line in table]
        assert row["mean_reward"]["mean"] == pytest.approx(float(np.mean(reward)))
        assert row["mean_reward"] == bootstrap_ci(reward).model_dump()
        passing = [rewards(list(line)).pass_score for line in table]
        assert row["pass_score"] == bootstrap_ci(passing).model_dump()
        interval = row["mean_reward"]
        assert interval["ci_low"] <= interval["mean"] <= interval["ci_high"]
    (comparison,) = document["comparisons"]
    assert (comparison["first_agent"], comparison["second_agent"]) == ("ref", "weak")
    assert comparison["paired"] and not comparison["inside_noise"]
    assert comparison["difference"]["mean"] == pytest.approx(
        document["rows"][0]["mean_reward"]["mean"] - document["rows"][1]["mean_reward"]["mean"]
    )


def test_every_format_renders(made: Made, tmp_path: Path) -> None:
    term = _report("demo", "--ledger", made.url)
    assert term.exit_code == 0, term.output
    assert "ref / m" in term.stdout and "weak / m" in term.stdout and "[" in term.stdout
    markdown = _report("demo", "--format", "md", "--ledger", made.url)
    assert markdown.exit_code == 0 and markdown.stdout.startswith("# RAMP campaign demo")
    assert "| ref / m |" in markdown.stdout.replace("**", "")
    page = tmp_path / "out" / "report.html"
    html = _report("demo", "--format", "html", "--ledger", made.url, "-o", str(page))
    assert html.exit_code == 0 and html.stdout == "" and "wrote" in html.stderr
    text = page.read_text(encoding="utf-8")
    assert (
        "RAMP campaign demo" in text
        and "weak / m" in text
        and text.lstrip().lower().startswith("<!doctype html")
    )


def test_a_partial_campaign_says_how_much_it_covers(made: Made) -> None:
    result = _report("half", "--format", "json", "--ledger", made.url)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["partial"] == {"graded": 6, "total": 8}
    assert {row["agent"] for row in document["rows"]} == {"ref", "weak"}
    term = _report("half", "--ledger", made.url)
    assert "6 of 8 trials graded" in term.stdout


def test_the_console_script_gives_the_same_figures(made: Made) -> None:
    done = subprocess.run(
        [str(BIN / "ramp"), "campaign", "report", "demo", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "RAMP_LEDGER_URL": made.url},
    )
    assert done.returncode == 0, done.stderr
    direct = json.loads(_report("demo", "--format", "json", "--ledger", made.url).stdout)
    printed = json.loads(done.stdout)
    assert printed["rows"] == direct["rows"]
    assert printed["comparisons"] == direct["comparisons"]


def test_errors_exit_with_advice(made: Made, tmp_path: Path) -> None:
    unknown = _report("nope", "--ledger", made.url)
    assert unknown.exit_code == 2
    assert "'nope' is not in the ledger" in unknown.stderr and "demo" in unknown.stderr
    idle = _report("idle", "--ledger", made.url)
    assert idle.exit_code == 2
    assert "no graded trial yet" in idle.stderr and "ramp campaign run" in idle.stderr
    down = _report("demo", "--ledger", "postgresql+psycopg://ramp@127.0.0.1:1/ramp")
    assert down.exit_code == 3 and "Connection refused" in down.stderr
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    unwritable = _report("demo", "--format", "md", "--ledger", made.url, "-o", f"{blocker}/r.md")
    assert unwritable.exit_code == 2 and "choose a writable path for -o" in unwritable.stderr
