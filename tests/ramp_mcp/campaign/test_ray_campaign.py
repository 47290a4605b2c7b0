"""The example campaign on a real Ray cluster on this machine (a head node and worker nodes,
each a ``ray start`` of its own) with a PostgreSQL ledger: a worker node is lost mid-campaign
(every process of it SIGKILLed), its trial comes back as an infrastructure failure and runs
again on another node; every trial is graded once, and each trial scores exactly what it
scored on the local executor."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.ledger import CampaignNotFoundError, Ledger
from tests.postgres import drop_database, new_database
from tests.ramp_mcp.campaign.campaign_support import (
    BIN,
    ROOT,
    ScriptedCampaign,
    drop_home,
    home_env,
    new_home,
    ramp_cli,
    trial_scores,
)
from tests.ramp_mcp.campaign.ray_cluster import RayCluster
from tests.support import free_port

pytestmark = pytest.mark.bwrap

CAMPAIGN = "scripted"
TRIALS = 2  # per agent (the example has 3)


@pytest.fixture
def cluster_home() -> Iterator[Path]:
    home = new_home()
    yield home
    drop_home(home)


def _running(url: str) -> list[int]:
    with Ledger.open(url) as ledger:
        try:
            trials = ledger.campaign_trials(CAMPAIGN)
        except CampaignNotFoundError:
            return []
        return [t.id or 0 for t in trials if t.state == "running"]


def _wait_for_two_running(url: str, driver: subprocess.Popen[bytes]) -> None:
    """Until two trials have been running (one per worker node) for 15 s."""
    deadline, since = time.monotonic() + 600, None
    while time.monotonic() < deadline:
        if driver.poll() is not None:
            raise AssertionError(f"the driver ended early ({driver.returncode})")
        since = (since or time.monotonic()) if len(_running(url)) == 2 else None
        if since is not None and time.monotonic() - since >= 15:
            return
        time.sleep(0.5)
    raise AssertionError("two trials never ran at once")


def _ray_options(url: str, cluster: RayCluster) -> list[str]:
    return ["--ledger", url, "--ray", cluster.address, "--json"]


def test_a_lost_ray_node_costs_one_retried_attempt_and_no_score(
    scripted_local: ScriptedCampaign, postgres_server: str, cluster_home: Path
) -> None:
    url = new_database(postgres_server)
    cluster = RayCluster(home_env(cluster_home))
    log = cluster_home / "driver.log"
    # The example campaign with two trials per agent (CI time): four trials, two at a time,
    # so one is lost with the node while others run; compared trial by trial with the same
    # trials of the local run of the whole example.
    campaign = cluster_home / "scripted.toml"
    text = scripted_local.file.read_text()
    assert "\ntrials = 3 " in text
    campaign.write_text(text.replace("\ntrials = 3 ", f"\ntrials = {TRIALS} "))
    try:
        lost = cluster.add_worker("worker-a")
        cluster.add_worker("worker-b")
        with log.open("wb") as out:
            driver = subprocess.Popen(
                [
                    str(BIN / "ramp"),
                    "campaign",
                    "run",
                    str(campaign),
                    *_ray_options(url, cluster),
                ],
                cwd=ROOT,
                env=home_env(cluster_home),
                stdout=subprocess.PIPE,
                stderr=out,
            )
        try:
            _wait_for_two_running(url, driver)
            killed = lost.kill()
            cluster.add_worker("worker-c")  # the lost node's place is taken
            stdout, _ = driver.communicate(timeout=2400)
        finally:
            if driver.poll() is None:
                driver.kill()
        assert driver.returncode == 0, log.read_text()[-4000:] + cluster.log_tail()
        status = json.loads(stdout)
        assert killed > 5  # the raylet, its workers, an agent, its MCP server, a sandbox...
        counted = _check_ledger(url, status)
        for run_id in counted:  # each run's logs, transcripts and report came back
            back = cluster_home / "campaigns" / CAMPAIGN / "runs" / run_id
            assert (back / "report.html").stat().st_size > 0 and (back / "agent").is_dir()
        local = trial_scores(scripted_local.url, CAMPAIGN)
        on_ray = trial_scores(url, CAMPAIGN)
        assert len(on_ray) == 2 * TRIALS
        assert on_ray == {key: local[key] for key in on_ray}
        _check_report(url)
    finally:
        cluster.stop()
        drop_database(url)


def _check_ledger(url: str, status: dict[str, object]) -> list[str]:
    """Every trial graded, each counted once; one attempt lost with the node, retried.
    Returns the counted runs."""
    trials_total = 2 * TRIALS
    assert status["counts"] == {"queued": 0, "running": 0, "graded": trials_total, "failed": 0}
    with Ledger.open(url) as ledger:
        trials = ledger.campaign_trials(CAMPAIGN)
        attempts = ledger.campaign_attempts(CAMPAIGN)
    (failed,) = [a for a in attempts if a.outcome == "infrastructure"]
    assert failed.error is not None and failed.error.startswith("NodeDiedError"), failed.error
    assert len(attempts) == trials_total + 1
    assert {a.outcome for a in attempts} == {"ok", "infrastructure"}
    retried = next(t for t in trials if t.id == failed.trial_id)
    assert retried.attempts == 2 and retried.state == "graded"
    counted = [t.run_id for t in trials]
    assert None not in counted and len(set(counted)) == trials_total
    ok = {a.run_id: a for a in attempts if a.outcome == "ok"}
    assert set(ok) == set(counted)
    nodes = {a.node for a in ok.values()}
    assert len(nodes) >= 2 and all("(ray node " in (node or "") for node in nodes), nodes
    return [run_id for run_id in counted if run_id is not None]


def _check_report(url: str) -> None:
    """The leaderboard ranks the reference first, outside the noise, with intervals that
    match the per-trial scores in the ledger."""
    done = ramp_cli(Path("/nonexistent"), "campaign", "report", CAMPAIGN, "--ledger", url)
    assert done.returncode == 0, done.stderr
    report = json.loads(
        ramp_cli(
            Path("/nonexistent"),
            "campaign",
            "report",
            CAMPAIGN,
            "--ledger",
            url,
            "--format",
            "json",
        ).stdout
    )
    rows = report["rows"]
    assert [row["agent"] for row in rows] == ["scripted-reference", "scripted-breaks-t2"]
    scores = trial_scores(url, CAMPAIGN)
    for row in rows:
        for stage, interval in row["stages"].items():
            values = [s[stage] or 0.0 for (agent, _), s in scores.items() if agent == row["agent"]]
            assert interval["mean"] == pytest.approx(sum(values) / len(values))
            assert interval["ci_low"] <= interval["mean"] <= interval["ci_high"]
    (comparison,) = report["comparisons"]
    assert comparison["inside_noise"] is False


def test_a_cluster_that_cannot_take_trials_is_refused_before_anything_starts(
    postgres_server: str, cluster_home: Path
) -> None:
    url = new_database(postgres_server)
    file = cluster_home / "c.toml"
    file.write_text(
        'name = "c"\n[[agents]]\nname = "a"\nkind = "scripted"\n[executor]\nkind = "ray"\n',
        encoding="utf-8",
    )
    cluster = RayCluster(home_env(cluster_home))  # a head only: no node offers "ramp"
    try:
        closed = f"127.0.0.1:{free_port()}"
        for address, said in (
            (closed, f"no Ray cluster answers at {closed}"),
            (cluster.address, "offers the resource 'ramp'"),
        ):
            done = ramp_cli(
                cluster_home, "campaign", "run", str(file), "--ledger", url, "--ray", address
            )
            assert done.returncode == 2 and said in done.stderr, done.stderr
        with Ledger.open(url) as ledger, pytest.raises(CampaignNotFoundError):
            ledger.campaign_trials("c")
    finally:
        cluster.stop()
        drop_database(url)
