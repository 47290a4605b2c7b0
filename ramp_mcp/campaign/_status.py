"""Where a campaign stands, from the ledger: its trials' states, attempts and timing."""

from __future__ import annotations

import json
from datetime import datetime

from pydantic import BaseModel, Field

from grader.ledger import CampaignAttempt, Ledger, TrialState, utc_now

__all__ = ["CampaignStatus", "TrialView", "campaign_status"]

_STATES = tuple(state.value for state in TrialState)


class TrialView(BaseModel):
    agent: str
    model: str
    index: int
    state: str
    attempts: int
    infrastructure_failures: int
    run_id: str | None = Field(description="the run that counts (graded trials)")
    error: str | None
    started_at: datetime | None
    finished_at: datetime | None


class CampaignStatus(BaseModel):
    campaign: str
    spec_hash: str
    created_at: datetime
    total: int
    counts: dict[str, int] = Field(description="trials by state: queued, running, graded, failed")
    attempts: int
    trials: list[TrialView]
    elapsed_s: float | None = Field(
        description="since the driver started (else the first trial), until the last trial "
        "finished or now"
    )
    eta_s: float | None = Field(description="from the mean attempt time so far and the slots")

    @property
    def done(self) -> bool:
        return self.counts["queued"] == self.counts["running"] == 0


def _mean_attempt_s(attempts: list[CampaignAttempt]) -> float | None:
    spans = [
        (a.finished_at - a.started_at).total_seconds()
        for a in attempts
        if a.finished_at is not None and a.outcome in ("ok", "charged", "infrastructure")
    ]
    return sum(spans) / len(spans) if spans else None


def campaign_status(
    ledger: Ledger, name: str, *, since: datetime | None = None, slots: int | None = None
) -> CampaignStatus:
    """Campaign ``name`` as the ledger has it; ``since`` (the driver's start) and ``slots``
    (attempts at once; default: the file's concurrency) make the elapsed time and the
    estimate of the time left."""
    campaign = ledger.get_campaign(name)
    if slots is None:
        slots = int(json.loads(campaign.spec).get("concurrency", 1))
    trials = ledger.campaign_trials(name)
    attempts = ledger.campaign_attempts(name)
    infra: dict[int, int] = {}
    for attempt in attempts:
        if attempt.outcome == "infrastructure":
            infra[attempt.trial_id] = infra.get(attempt.trial_id, 0) + 1
    counts = {state: sum(t.state == state for t in trials) for state in _STATES}
    started = since or min((t.started_at for t in trials if t.started_at), default=None)
    mean = _mean_attempt_s(attempts)
    left = counts["queued"] + counts["running"]
    ended = max((t.finished_at for t in trials if t.finished_at), default=None)
    until = utc_now() if left or ended is None else ended
    return CampaignStatus(
        campaign=name,
        spec_hash=campaign.spec_hash,
        created_at=campaign.created_at,
        total=len(trials),
        counts=counts,
        attempts=len(attempts),
        trials=[
            TrialView(
                agent=t.agent,
                model=t.model,
                index=t.index,
                state=t.state,
                attempts=t.attempts,
                infrastructure_failures=infra.get(t.id or 0, 0),
                run_id=t.run_id,
                error=t.error,
                started_at=t.started_at,
                finished_at=t.finished_at,
            )
            for t in trials
        ],
        elapsed_s=max(0.0, (until - started).total_seconds()) if started else None,
        eta_s=None if mean is None or left == 0 else mean * left / max(1, slots),
    )
