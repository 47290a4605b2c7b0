"""A campaign trial's state machine: one table of the moves a trial may make, and the one
function that makes them (``tests/grader/test_transitions.py`` checks that no other code
assigns a state). The stage machine's own table is ``grader/_transitions.py``."""

from __future__ import annotations

from typing import Final

from grader.ledger._errors import LedgerIntegrityError
from grader.ledger._tables import CampaignTrial, TrialState

__all__ = ["TRIAL_MOVES", "move_trial"]

TRIAL_MOVES: Final[dict[TrialState, frozenset[TrialState]]] = {
    # claimed by a driver for a new attempt
    TrialState.QUEUED: frozenset({TrialState.RUNNING}),
    # graded (it counts), queued again (infrastructure, retried; or its driver is gone),
    # failed (infrastructure, no retries left)
    TrialState.RUNNING: frozenset({TrialState.QUEUED, TrialState.GRADED, TrialState.FAILED}),
    TrialState.GRADED: frozenset(),
    TrialState.FAILED: frozenset(),
}


def move_trial(trial: CampaignTrial, to: TrialState) -> None:
    """Move ``trial`` (a row locked by the caller's transaction) to state ``to``, or raise
    :class:`LedgerIntegrityError` if the table has no such move."""
    now = TrialState(trial.state)
    if to not in TRIAL_MOVES[now]:
        raise LedgerIntegrityError(
            f"campaign trial {trial.id} cannot go from {now.value} to {to.value}: the ledger "
            "was changed by something other than RAMP; check `ramp campaign status`"
        )
    trial.state = to.value
