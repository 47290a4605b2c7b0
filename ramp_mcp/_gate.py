"""The grading gate: while a run's stage is graded, none of the run's tools but ``status`` runs.

Why: a stage program graded on the hidden cases sees them, and the agent's own sandbox
shares the machine with it. Whatever both can see (the machine's thread count in
/proc/loadavg, its load, memory and disk pressure) is a channel out of grading; a command
of the agent's running while its program is graded would read it. So ``submit_stage``
closes the gate before it claims the stage: every command of the run still running is
killed (its token cancelled), every call still in progress is waited for, and every call
that comes later is refused with :class:`GradingInProgressError` until the grade is
recorded and ``submit_stage`` returns.

Both sides take the same lock: a call either entered before the gate closed (and is then
cancelled and waited for) or finds it closed (and is refused); none slips between.

This gate is one server process's. Another server process of the same run has its own, so
a call there also asks ``grading_elsewhere`` (the ledger: is a stage of the run being
graded?), and the grader kills every process of the run's uid when grading starts
(``grader._run_home.stop_processes_of``): what another server started before the claim
ends there. A call that passed that ledger check an instant before another process claimed
can still start a command after that kill; see docs/threat-model.md.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from golden import Stage
from toolchain import RampError
from toolchain.sandbox import CancelToken

__all__ = ["GradingGate", "GradingInProgressError"]

_DRAIN_S = 10.0
"""How long closing waits for calls in progress to end (commands are killed at once; a
file call or a run_stage, which no token stops, is waited for, then left to the grader's
kill of the run's processes)."""


class GradingInProgressError(RampError):
    """A tool was called while one of the run's stages is being graded."""


def refusal(stage: str) -> str:
    """The words a tool call during grading is refused with."""
    return (
        f"stage {stage} is being graded; the tools are back when submit_stage returns "
        "(status still answers). Commands that were running when it was submitted were killed."
    )


class GradingGate:
    """One run's gate in one server process (see the module's docstring)."""

    def __init__(self, grading_elsewhere: Callable[[], str | None] = lambda: None) -> None:
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._grading: str | None = None
        self._calls: dict[object, CancelToken | None] = {}
        self._elsewhere = grading_elsewhere

    @property
    def grading(self) -> str | None:
        """The stage this process is grading, if any."""
        return self._grading

    @contextmanager
    def entered(self, cancel: CancelToken | None = None) -> Iterator[None]:
        """Hold the gate open for one call (``cancel``: the token of its commands, which
        closing cancels); refused while a stage of the run is being graded."""
        key = object()
        with self._lock:
            if self._grading is not None:
                raise GradingInProgressError(refusal(self._grading))
            self._calls[key] = cancel
        try:
            elsewhere = self._elsewhere()
            if elsewhere is not None:
                raise GradingInProgressError(
                    refusal(elsewhere) + f" If no submit_stage of yours is running, the grader "
                    f"that took it stopped: call submit_stage {elsewhere} to get its result."
                )
            yield
        finally:
            with self._lock:
                del self._calls[key]
                self._idle.notify_all()

    def close(self, stage: Stage) -> None:
        """Close the gate for grading ``stage``: kill the run's commands in progress, wait
        (a while) for its calls to end; new calls are refused until :meth:`reopen`."""
        with self._lock:
            if self._grading is not None:
                raise GradingInProgressError(
                    f"{self._grading} is being graded right now; wait for that result (a run's "
                    "submissions are graded one at a time)"
                )
            self._grading = stage.value
            tokens = [t for t in self._calls.values() if t is not None]
        for token in tokens:
            token.cancel()
        with self._lock:
            self._idle.wait_for(lambda: not self._calls, timeout=_DRAIN_S)

    def reopen(self) -> None:
        with self._lock:
            self._grading = None

    @contextmanager
    def closed(self, stage: Stage) -> Iterator[None]:
        """:meth:`close` for the block, :meth:`reopen` after it."""
        self.close(stage)
        try:
            yield
        finally:
            self.reopen()
