"""The ledger's part of campaigns: a campaign's file and trials, claiming a trial for an
attempt, recording how the attempt ended, and counting a trial's run exactly once.

The ledger stores and locks; the campaign driver (``ramp_mcp.campaign``) decides what runs
where and how an attempt's ending is classified. Every change of a trial happens in one
write transaction holding the trial's row (``SELECT ... FOR UPDATE`` on PostgreSQL, the
database's write lock on SQLite), so two drivers can never both claim a queued trial, and a
trial's counted run is set once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

from sqlmodel import Session, col, delete, select

from grader.ledger._errors import CampaignChangedError, CampaignNotFoundError, LedgerError
from grader.ledger._tables import (
    AttemptOutcome,
    Campaign,
    CampaignAttempt,
    CampaignTrial,
    TrialState,
    utc_now,
)
from grader.ledger._transitions import move_trial

__all__ = ["CampaignOpened", "CampaignRecords", "TrialKey"]

_COUNTED: frozenset[str] = frozenset({"ok", "charged"})


@dataclass(frozen=True)
class TrialKey:
    """What names a trial within its campaign."""

    agent: str
    model: str
    index: int


@dataclass(frozen=True)
class CampaignOpened:
    """What :meth:`CampaignRecords.open_campaign` found or made."""

    campaign: Campaign
    created: bool  # a new campaign (or one restarted from a changed file)
    restarted: bool


class CampaignRecords:
    """The campaign methods of :class:`grader.ledger.Ledger` (a mixin: it needs only the
    ledger's :meth:`session`)."""

    @property
    def url(self) -> str:
        raise NotImplementedError  # Ledger's

    def session(self, *, write: bool = True) -> AbstractContextManager[Session]:
        raise NotImplementedError  # Ledger's

    # -- campaigns ------------------------------------------------------------------------

    def open_campaign(
        self,
        name: str,
        *,
        spec: str,
        spec_hash: str,
        trials: Sequence[TrialKey],
        restart: bool = False,
    ) -> CampaignOpened:
        """Make campaign ``name`` with ``trials`` (all queued), or find it to resume.

        An existing campaign made from a file with another ``spec_hash`` is refused
        (:class:`CampaignChangedError`) unless ``restart``: then its trials and attempts are
        deleted (their runs stay in the ledger, counted by nothing) and it starts again."""
        with self.session() as session:
            found = session.exec(
                select(Campaign).where(Campaign.name == name).with_for_update()
            ).first()
            if found is not None and found.spec_hash == spec_hash:
                _add_missing(session, name, trials)
                return CampaignOpened(campaign=found, created=False, restarted=False)
            if found is not None and not restart:
                raise CampaignChangedError(
                    f"campaign {name!r} in the ledger at {self.url} was made from a different "
                    f"campaign file (spec hash {found.spec_hash[:12]} there, {spec_hash[:12]} "
                    "now): run it with --restart to start it again from this file (its "
                    "trials so far are forgotten; their runs stay in the ledger), or give the "
                    "changed campaign a new name"
                )
            if found is not None:
                _forget_trials(session, name)
                found.spec, found.spec_hash, found.created_at = spec, spec_hash, utc_now()
                campaign = found
            else:
                campaign = Campaign(name=name, spec=spec, spec_hash=spec_hash)
                session.add(campaign)
                session.flush()  # the campaign row first: the trial rows reference it
            _add_missing(session, name, trials)
            return CampaignOpened(campaign=campaign, created=True, restarted=found is not None)

    def get_campaign(self, name: str) -> Campaign:
        """Campaign ``name``; :class:`CampaignNotFoundError` if there is none."""
        with self.session(write=False) as session:
            found = session.get(Campaign, name)
            if found is None:
                known = session.exec(select(Campaign.name).order_by(col(Campaign.name))).all()
        if found is None:
            listed = ", ".join(known[:20]) or "none"
            raise CampaignNotFoundError(
                f"campaign {name!r} is not in the ledger at {self.url} (campaigns there: "
                f"{listed}); check the name, and that --ledger or $RAMP_LEDGER_URL points at "
                "the ledger the campaign ran on"
            )
        return found

    def campaign_trials(self, name: str) -> list[CampaignTrial]:
        """The trials of campaign ``name``, by agent, model and index."""
        self.get_campaign(name)
        with self.session(write=False) as session:
            return list(
                session.exec(
                    select(CampaignTrial)
                    .where(CampaignTrial.campaign == name)
                    .order_by(
                        col(CampaignTrial.agent), col(CampaignTrial.model), col(CampaignTrial.index)
                    )
                ).all()
            )

    def campaign_attempts(self, name: str) -> list[CampaignAttempt]:
        """Every attempt at a trial of campaign ``name``, oldest first."""
        with self.session(write=False) as session:
            return list(
                session.exec(
                    select(CampaignAttempt)
                    .join(CampaignTrial, col(CampaignTrial.id) == col(CampaignAttempt.trial_id))
                    .where(CampaignTrial.campaign == name)
                    .order_by(col(CampaignAttempt.started_at), col(CampaignAttempt.id))
                ).all()
            )

    # -- trials ---------------------------------------------------------------------------

    def release_trials(self, name: str, *, driver_alive: Callable[[str], bool]) -> int:
        """Put back in the queue every running trial of campaign ``name`` whose driver
        (``claimed_by``) ``driver_alive`` says is gone; their open attempts end as
        ``abandoned``. Returns how many trials were released."""
        released = 0
        with self.session() as session:
            running = session.exec(
                select(CampaignTrial)
                .where(
                    CampaignTrial.campaign == name,
                    CampaignTrial.state == TrialState.RUNNING.value,
                )
                .with_for_update()
            ).all()
            for trial in running:
                if trial.claimed_by is not None and driver_alive(trial.claimed_by):
                    continue
                for attempt in _open_attempts(session, trial):
                    attempt.outcome = "abandoned"
                    attempt.finished_at = utc_now()
                    attempt.error = (
                        f"the campaign driver {trial.claimed_by} ended before this attempt did"
                    )
                move_trial(trial, TrialState.QUEUED)
                trial.claimed_by = None
                released += 1
        return released

    def claim_trial(self, trial_id: int, *, driver: str, node: str) -> CampaignAttempt | None:
        """Start a new attempt at trial ``trial_id`` if it is queued (None if it is not: another
        driver claimed it, or it is finished). The trial moves to ``running``."""
        with self.session() as session:
            trial = _locked_trial(session, trial_id)
            if trial.state != TrialState.QUEUED.value:
                return None
            now = utc_now()
            trial.attempts += 1
            move_trial(trial, TrialState.RUNNING)
            trial.claimed_by = driver
            trial.started_at = trial.started_at or now
            attempt = CampaignAttempt(
                trial_id=trial_id, attempt=trial.attempts, node=node, started_at=now
            )
            session.add(attempt)
            session.flush()
            return attempt

    def finish_attempt(
        self,
        attempt_id: int,
        *,
        outcome: AttemptOutcome,
        run_id: str | None,
        error: str | None = None,
        retry: bool = False,
        node: str | None = None,
    ) -> CampaignTrial:
        """Record how attempt ``attempt_id`` ended and move its trial on: an ``ok`` or
        ``charged`` attempt makes the trial ``graded`` with its run as the one that counts
        (set once: never replaced); an ``infrastructure`` one puts the trial back in the
        queue when ``retry``, else fails it. An attempt that is not the trial's latest (its
        driver was thought gone, so it was marked ``abandoned``) is recorded and changes
        nothing else. Recording an attempt twice changes nothing. ``node`` is where it ran
        (default: where it was claimed). Returns the trial as it now stands."""
        with self.session() as session:
            attempt = session.exec(
                select(CampaignAttempt).where(CampaignAttempt.id == attempt_id).with_for_update()
            ).first()
            if attempt is None:
                raise LedgerError(f"no campaign attempt {attempt_id} in the ledger at {self.url}")
            trial = _locked_trial(session, attempt.trial_id)
            if attempt.outcome not in (None, "abandoned"):
                return trial
            now = utc_now()
            attempt.outcome, attempt.run_id, attempt.error = outcome, run_id, error
            attempt.finished_at = now
            attempt.node = node or attempt.node
            if attempt.attempt != trial.attempts or trial.state != TrialState.RUNNING.value:
                return trial
            trial.claimed_by = None
            if outcome in _COUNTED and trial.run_id is None and run_id is not None:
                move_trial(trial, TrialState.GRADED)
                trial.run_id, trial.error = run_id, None
                trial.finished_at = now
            elif retry:
                move_trial(trial, TrialState.QUEUED)
                trial.error = error
            else:
                move_trial(trial, TrialState.FAILED)
                trial.error = error
                trial.finished_at = now
            return trial


def _locked_trial(session: Session, trial_id: int) -> CampaignTrial:
    trial = session.exec(
        select(CampaignTrial).where(CampaignTrial.id == trial_id).with_for_update()
    ).first()
    if trial is None:
        raise LedgerError(f"no campaign trial {trial_id} in the ledger")
    return trial


def _open_attempts(session: Session, trial: CampaignTrial) -> Iterator[CampaignAttempt]:
    yield from session.exec(
        select(CampaignAttempt).where(
            CampaignAttempt.trial_id == trial.id, col(CampaignAttempt.outcome).is_(None)
        )
    ).all()


def _add_missing(session: Session, name: str, trials: Sequence[TrialKey]) -> None:
    have = {
        TrialKey(t.agent, t.model, t.index)
        for t in session.exec(select(CampaignTrial).where(CampaignTrial.campaign == name)).all()
    }
    session.add_all(
        CampaignTrial(campaign=name, agent=key.agent, model=key.model, index=key.index)
        for key in trials
        if key not in have
    )


def _forget_trials(session: Session, name: str) -> None:
    ids = select(CampaignTrial.id).where(CampaignTrial.campaign == name)
    session.exec(delete(CampaignAttempt).where(col(CampaignAttempt.trial_id).in_(ids)))
    session.exec(delete(CampaignTrial).where(col(CampaignTrial.campaign) == name))
