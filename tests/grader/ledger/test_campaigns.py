"""Campaigns in the ledger, on SQLite and PostgreSQL: a campaign is made once and resumed by
its file's hash, a queued trial is claimed by one driver only, a trial's run counts once,
and a dead driver's trials go back in the queue."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from grader.ledger import (
    CampaignChangedError,
    CampaignNotFoundError,
    Ledger,
    TrialKey,
    TrialState,
)

KEYS = [TrialKey("ref", "m", 0), TrialKey("ref", "m", 1), TrialKey("weak", "m", 0)]


def _open(ledger: Ledger, spec_hash: str = "h1", *, restart: bool = False) -> bool:
    opened = ledger.open_campaign(
        "c1", spec='{"k": 1}', spec_hash=spec_hash, trials=KEYS, restart=restart
    )
    return opened.created


def _run_id(ledger: Ledger) -> str:
    run = ledger.create_run(
        agent="ref", model="m", workspace="/tmp/ws", sandbox="bwrap", golden_key="g-1"
    )
    return run.id


def _trial_id(ledger: Ledger, key: TrialKey) -> int:
    trial = next(
        t
        for t in ledger.campaign_trials("c1")
        if (t.agent, t.model, t.index) == (key.agent, key.model, key.index)
    )
    assert trial.id is not None
    return trial.id


def test_a_campaign_is_made_once_and_resumed_by_its_hash(ledger: Ledger) -> None:
    assert _open(ledger) is True
    assert _open(ledger) is False
    trials = ledger.campaign_trials("c1")
    assert sorted((t.agent, t.index, t.state) for t in trials) == [
        ("ref", 0, "queued"),
        ("ref", 1, "queued"),
        ("weak", 0, "queued"),
    ]
    with pytest.raises(CampaignChangedError, match=r"--restart"):
        _open(ledger, "h2")
    with pytest.raises(CampaignNotFoundError, match=r"'nope'[\s\S]*c1"):
        ledger.get_campaign("nope")


def test_restart_forgets_the_trials_but_not_their_runs(ledger: Ledger) -> None:
    _open(ledger)
    trial = _trial_id(ledger, KEYS[0])
    attempt = ledger.claim_trial(trial, driver="h:1", node="h")
    assert attempt is not None and attempt.id is not None
    run_id = _run_id(ledger)
    ledger.finish_attempt(attempt.id, outcome="ok", run_id=run_id)
    assert _open(ledger, "h2", restart=True) is True
    assert ledger.get_campaign("c1").spec_hash == "h2"
    assert {t.state for t in ledger.campaign_trials("c1")} == {"queued"}
    assert ledger.campaign_attempts("c1") == []
    assert ledger.get_run(run_id).agent == "ref"


def test_a_queued_trial_is_claimed_by_one_driver_only(ledger: Ledger) -> None:
    _open(ledger)
    trial = _trial_id(ledger, KEYS[0])
    start = threading.Barrier(8)

    def claim(n: int) -> bool:
        start.wait()
        return ledger.claim_trial(trial, driver=f"h:{n}", node="h") is not None

    with ThreadPoolExecutor(8) as pool:
        won = list(pool.map(claim, range(8)))
    assert won.count(True) == 1
    (row,) = [t for t in ledger.campaign_trials("c1") if t.id == trial]
    assert (row.state, row.attempts, row.claimed_by) == ("running", 1, f"h:{won.index(True)}")
    assert len(ledger.campaign_attempts("c1")) == 1


def test_a_trials_run_counts_once_and_a_stale_attempt_changes_nothing(ledger: Ledger) -> None:
    _open(ledger)
    trial = _trial_id(ledger, KEYS[0])
    first = ledger.claim_trial(trial, driver="h:1", node="h")
    assert first is not None and first.id is not None
    # Its driver is taken for dead: the trial is queued again and claimed anew.
    assert ledger.release_trials("c1", driver_alive=lambda claimant: False) == 1
    second = ledger.claim_trial(trial, driver="h:2", node="h")
    assert second is not None and second.id is not None and second.attempt == 2
    counted, stale = _run_id(ledger), _run_id(ledger)
    after = ledger.finish_attempt(second.id, outcome="charged", run_id=counted)
    assert (after.state, after.run_id) == (TrialState.GRADED, counted)
    # The first attempt's driver was not dead after all and reports late: recorded only.
    late = ledger.finish_attempt(first.id, outcome="ok", run_id=stale)
    assert (late.state, late.run_id) == ("graded", counted)
    # Recording the counted attempt again changes nothing either.
    again = ledger.finish_attempt(second.id, outcome="ok", run_id=stale)
    assert again.run_id == counted
    attempts = {a.attempt: (a.outcome, a.run_id) for a in ledger.campaign_attempts("c1")}
    assert attempts == {1: ("ok", stale), 2: ("charged", counted)}
    assert ledger.claim_trial(trial, driver="h:3", node="h") is None


def test_infrastructure_failures_requeue_or_fail_a_trial(ledger: Ledger) -> None:
    _open(ledger)
    trial = _trial_id(ledger, KEYS[2])
    first = ledger.claim_trial(trial, driver="h:1", node="n1")
    assert first is not None and first.id is not None
    requeued = ledger.finish_attempt(
        first.id, outcome="infrastructure", run_id=None, error="engine gone", retry=True
    )
    assert (requeued.state, requeued.run_id, requeued.error) == ("queued", None, "engine gone")
    second = ledger.claim_trial(trial, driver="h:1", node="n2")
    assert second is not None and second.id is not None
    failed = ledger.finish_attempt(
        second.id,
        outcome="infrastructure",
        run_id=_run_id(ledger),
        error="node lost",
        node="worker-7",
    )
    assert (failed.state, failed.run_id, failed.error) == ("failed", None, "node lost")
    assert failed.finished_at is not None
    assert [(a.node, a.outcome) for a in ledger.campaign_attempts("c1")] == [
        ("n1", "infrastructure"),
        ("worker-7", "infrastructure"),
    ]


def test_only_trials_of_dead_drivers_are_released(ledger: Ledger) -> None:
    _open(ledger)
    alive, dead = _trial_id(ledger, KEYS[0]), _trial_id(ledger, KEYS[1])
    assert ledger.claim_trial(alive, driver="h:alive", node="h") is not None
    assert ledger.claim_trial(dead, driver="h:dead", node="h") is not None
    released = ledger.release_trials("c1", driver_alive=lambda claimant: claimant == "h:alive")
    assert released == 1
    states = {t.id: (t.state, t.claimed_by) for t in ledger.campaign_trials("c1")}
    assert states[alive] == ("running", "h:alive")
    assert states[dead] == ("queued", None)
    outcomes = {a.trial_id: a.outcome for a in ledger.campaign_attempts("c1")}
    assert outcomes == {alive: None, dead: "abandoned"}
