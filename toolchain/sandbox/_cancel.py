"""Cancelling a running command from another thread: the command is killed, not abandoned.

Why: a server runs a command on a worker thread and may stop waiting for it (its client
cancelled the call, or went away). Walking away would leave the command running with all
its limits, uncounted; so the waiting side cancels a token and the thread running the
command, which watches the token beside its pipes, kills the command's whole tree at once.

A watch is an ``eventfd`` made and closed by the thread that waits on it; ``cancel`` only
writes to watches still open, under a lock, so no descriptor number is ever written after it
was closed (and perhaps reused).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from toolchain._errors import SandboxError

__all__ = ["CancelToken", "CommandCancelledError", "watching"]


class CommandCancelledError(SandboxError):
    """The command was cancelled before it started (its caller no longer waits for it)."""


class CancelToken:
    """Set once, from any thread; every command watching it is killed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cancelled = False
        self._watches: set[int] = set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def cancel(self) -> None:
        """Kill the commands watching this token now, and any that start watching later."""
        with self._lock:
            self._cancelled = True
            for fd in self._watches:
                os.eventfd_write(fd, 1)

    def require_live(self, what: str) -> None:
        """Raise CommandCancelledError when the token is already cancelled."""
        if self._cancelled:
            raise CommandCancelledError(
                f"{what} was cancelled before it started (the call was cancelled); call again"
            )

    @contextmanager
    def watch(self) -> Iterator[int]:
        """A descriptor that is readable once the token is cancelled (already or later)."""
        fd = os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)
        with self._lock:
            self._watches.add(fd)
            if self._cancelled:
                os.eventfd_write(fd, 1)
        try:
            yield fd
        finally:
            with self._lock:
                self._watches.discard(fd)
                os.close(fd)


@contextmanager
def watching(cancel: CancelToken | None) -> Iterator[int | None]:
    """``cancel.watch()``, or None when there is no token."""
    if cancel is None:
        yield None
        return
    with cancel.watch() as fd:
        yield fd
