"""Real campaigns on bwrap: examples/campaigns/scripted.toml (the scripted reference agent
against one that breaks T2) through `ramp campaign run`, every stage really graded; and a
driver killed mid-campaign (SIGKILL), whose campaign resumes with its finished trial kept and
no trial counted twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from grader.ledger import CampaignNotFoundError, Ledger
from ramp_mcp.campaign import SCRIPTED_ENTRY
from tests.ramp_mcp.campaign.campaign_support import BIN, ROOT, ScriptedCampaign, ramp_cli
from tests.support import backend_missing, processes_with_marker
from toolchain._manifest import Profile

pytestmark = pytest.mark.bwrap


@pytest.fixture(autouse=True)
def _bwrap_ready() -> None:
    if backend_missing("bwrap") or backend_missing("bwrap", Profile.MINIMAL):
        pytest.skip("bwrap not ready")


def _ramp(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "ramp"), *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )


def _states(url: str, campaign: str) -> dict[int, Any]:
    """The campaign's trials by id (none before its driver has made it)."""
    with Ledger.open(url) as ledger:
        try:
            return {t.id or 0: t for t in ledger.campaign_trials(campaign)}
        except CampaignNotFoundError:
            return {}


def test_the_scripted_campaign_grades_both_agents_and_resumes_to_nothing_new(
    scripted_local: ScriptedCampaign,
) -> None:
    url, status = scripted_local.url, scripted_local.status
    print(f"\nscripted campaign, 2 agents x 3 trials on bwrap: {scripted_local.wall_s:.0f} s wall")
    assert status["counts"] == {"queued": 0, "running": 0, "graded": 6, "failed": 0}
    with Ledger.open(url) as ledger:
        for trial in status["trials"]:
            states = {s.stage: s for s in ledger.stage_states(trial["run_id"])}
            if trial["agent"] == "scripted-reference":
                assert all(s.state == "passed" for s in states.values()), states
                assert states["T2"].chained_score == 100.0
            else:
                assert (states["T2"].state, states["T2"].chained_score) == ("resurrected", 0.0)
                assert (states["T3"].state, states["T3"].chained_score) == ("passed", 100.0)
    runs = {(t["agent"], t["index"]): t["run_id"] for t in status["trials"]}
    assert len(set(runs.values())) == 6
    # Run again: every trial is finished, so nothing runs and nothing changes.
    file = str(scripted_local.file)
    again = ramp_cli(scripted_local.home, "campaign", "run", file, "--ledger", url, "--json")
    assert again.returncode == 0, again.stderr[-4000:]
    after = json.loads(again.stdout)
    assert after["attempts"] == 6
    assert {(t["agent"], t["index"]): t["run_id"] for t in after["trials"]} == runs


def _wait_for(check: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def _kill_marked(marker: str) -> None:
    """SIGKILL what the killed driver left running (its agents, in sessions of their own)."""
    for pid in processes_with_marker(marker):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
    _wait_for(lambda: not processes_with_marker(marker), 60, "the orphaned agents to end")


def test_a_killed_driver_resumes_keeping_finished_trials_counted_once(
    campaign_home: Path,
) -> None:
    url = f"sqlite:///{campaign_home / 'ledger.sqlite3'}"
    campaign = campaign_home / "resume.toml"
    # A short job: the scripted agent does T0 and T1 and stops (its run then grades T2).
    options = '{ stages = ["T0", "T1"] }'
    campaign.write_text(
        'name = "resume"\ntrials = 2\nsample = 4\nseed = 7\nsandbox = "bwrap"\n'
        "concurrency = 1\n[[agents]]\n"
        f'name = "short"\nkind = "python"\nentry = "{SCRIPTED_ENTRY}"\noptions = {options}\n',
        encoding="utf-8",
    )
    marker = f"RAMP_TEST_CAMPAIGN_{uuid.uuid4().hex}"
    driver = subprocess.Popen(
        [str(BIN / "ramp"), "campaign", "run", str(campaign), "--ledger", url, "--json"],
        cwd=ROOT,
        env={**os.environ, marker: "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:

        def one_graded_one_running() -> bool:
            if driver.poll() is not None:
                raise AssertionError(f"the driver ended early ({driver.returncode})")
            states = sorted(t.state for t in _states(url, "resume").values())
            return states == ["graded", "running"]

        _wait_for(one_graded_one_running, 1200, "one trial graded and the next running")
    finally:
        os.killpg(driver.pid, signal.SIGKILL)
        driver.wait()
        _kill_marked(marker)
    before = _states(url, "resume")
    (finished,) = [t for t in before.values() if t.state == "graded"]
    (cut,) = [t for t in before.values() if t.state == "running"]
    assert cut.claimed_by is not None and cut.claimed_by.endswith(f":{driver.pid}")

    resumed = _ramp("campaign", "run", str(campaign), "--ledger", url, "--json", timeout=1800)
    assert resumed.returncode == 0, resumed.stderr[-4000:]
    assert "1 trial(s) whose driver had gone are queued again" in resumed.stderr
    after = _states(url, "resume")
    assert {t.state for t in after.values()} == {"graded"}
    kept = after[finished.id or 0]
    assert (kept.run_id, kept.attempts, kept.finished_at) == (
        finished.run_id,
        1,
        finished.finished_at,
    )
    redone = after[cut.id or 0]
    assert redone.attempts == 2 and redone.run_id not in (None, finished.run_id)
    with Ledger.open(url) as ledger:
        attempts = ledger.campaign_attempts("resume")
    outcomes = sorted((a.trial_id, a.attempt, a.outcome) for a in attempts)
    redone_outcomes = [o[2] for o in outcomes if o[0] == cut.id]
    assert redone_outcomes[0] == "abandoned" and redone_outcomes[1] in ("ok", "charged")
    assert len(attempts) == 3
    counted = [t.run_id for t in after.values()]
    assert len(set(counted)) == len(counted) == 2
    assert not {a.run_id for a in attempts if a.outcome == "abandoned"} & set(counted)
