"""Executors: where a campaign's attempts run. The driver needs only the narrow
:class:`Executor` protocol (submit, collect what finished, cancel, close), so a Ray executor
plugs in beside :class:`LocalExecutor` without touching the driver.

The local executor runs attempts in a thread pool on this machine. Each attempt is an agent
process and its MCP server plus their sandboxes, so the pool is no wider than the campaign's
``concurrency``, the cores, or the memory available at :data:`TRIAL_MEMORY_GIB` per trial.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Protocol

from ramp_mcp.campaign._trial import AttemptResult, AttemptTask, run_attempt

__all__ = ["TRIAL_MEMORY_GIB", "Executor", "LocalExecutor", "local_slots"]

TRIAL_MEMORY_GIB = 2  # an agent, its MCP server, a sandbox command or a grading at a time


class Executor(Protocol):
    """Runs attempts; the driver keeps at most :attr:`slots` of them submitted at once."""

    @property
    def slots(self) -> int:
        """How many attempts may run at once."""
        ...

    def submit(self, task: AttemptTask) -> None:
        """Start ``task`` (or queue it until a slot frees)."""
        ...

    def finished(self, timeout_s: float) -> list[AttemptResult]:
        """The results of attempts that finished since the last call, waiting up to
        ``timeout_s`` for the first one (an empty list when none finished in time)."""
        ...

    def cancel(self) -> None:
        """Give up: drop attempts not started, stop the running ones' agents."""
        ...

    def close(self) -> None:
        """Release the executor's resources (after waiting for what still runs)."""
        ...


def _available_memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / (1 << 20)
    except (OSError, ValueError, IndexError):
        return None
    return None


def local_slots(concurrency: int) -> tuple[int, str | None]:
    """How many trials may run at once here: ``concurrency`` clamped to the cores and the
    available memory; and why it was clamped (None when it was not)."""
    cores = len(os.sched_getaffinity(0))
    memory = _available_memory_gib()
    by_memory = max(1, int(memory // TRIAL_MEMORY_GIB)) if memory is not None else concurrency
    slots = max(1, min(concurrency, cores, by_memory))
    if slots == concurrency:
        return slots, None
    limit = f"{cores} core(s)" if slots == cores else f"{memory:.1f} GiB of memory available"
    return slots, f"concurrency {concurrency} clamped to {slots} by {limit}"


def _agent_groups() -> list[int]:
    """Children of this process that lead a session of their own: the agent processes
    (``run_agent_process`` starts each in a new session), whose groups hold their MCP
    servers."""
    me, found = os.getpid(), []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        ppid, session = int(fields[1]), int(fields[3])
        if ppid == me and session == int(entry.name):
            found.append(session)
    return found


class LocalExecutor:
    """Attempts on this machine, ``slots`` at a time, each in a thread of a pool."""

    def __init__(
        self, slots: int, *, run: Callable[[AttemptTask], AttemptResult] = run_attempt
    ) -> None:
        self._slots = slots
        self._run = run
        self._pool = ThreadPoolExecutor(max_workers=slots, thread_name_prefix="ramp-trial")
        self._futures: dict[Future[AttemptResult], AttemptTask] = {}

    @property
    def slots(self) -> int:
        return self._slots

    def submit(self, task: AttemptTask) -> None:
        self._futures[self._pool.submit(self._run, task)] = task

    def finished(self, timeout_s: float) -> list[AttemptResult]:
        if not self._futures:
            return []
        done, _ = wait(self._futures, timeout=timeout_s, return_when=FIRST_COMPLETED)
        results = []
        for future in done:
            task = self._futures.pop(future)
            error = future.exception()
            if error is None:
                results.append(future.result())
                continue
            results.append(
                AttemptResult(
                    trial_id=task.trial_id,
                    attempt_id=task.attempt_id,
                    run_id=None,
                    outcome="infrastructure",
                    error=f"{type(error).__name__}: {error}",
                    node=os.uname().nodename,
                    duration_s=0.0,
                )
            )
        return results

    def cancel(self) -> None:
        for future in self._futures:
            future.cancel()
        for group in _agent_groups():
            try:
                os.killpg(group, signal.SIGTERM)
            except ProcessLookupError:
                continue

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
