"""One supervision policy for every backend: how a running command is watched and stopped.

Why one: the docker backend (a command behind the engine's socket) and the host-process
backends (bwrap, local: a command behind pipes) must bound a command the same way, or a
limit holds on one backend and not the other. What differs between them is only plumbing:
which descriptors carry the command's output, where its output goes, how its tree dies.
That is the narrow :class:`Supervised` interface; everything else (the time limit, the
disk cap, the output cap, cancellation, the short drain after the command exits) is
:func:`watch` with the constants of :class:`Supervision`.

The rules, the same for every backend:
- a limit (time, output, disk) or a cancellation kills the command's tree and ends the
  watch at once: nothing the command does after that can change its outcome;
- when the command's own process exits, its tree is killed at once (a leftover
  background process must not hold the output open), and its output is read for at most
  ``drain_s`` more;
- the disk cap is checked every ``disk_poll_s`` until the watch ends;
- the watch ends once the command has exited and its output is closed (where its exit
  cannot be seen, a remote engine's, once its output is closed); the time limit bounds both.
"""

from __future__ import annotations

import select
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from toolchain.sandbox._disk import POLL_S, DiskWatch

__all__ = [
    "CANCELLED_NOTE",
    "LINGERED_NOTE",
    "SUPERVISION",
    "Stop",
    "Supervised",
    "Supervision",
    "Watched",
    "watch",
]

_IN = select.POLLIN | select.POLLHUP
CANCELLED_NOTE = "the call was cancelled, so the command was killed"
LINGERED_NOTE = "the output stream did not close after the command ended"


class Supervision(BaseModel):
    """The constants every backend watches a command with."""

    model_config = ConfigDict(frozen=True)

    disk_poll_s: float = Field(POLL_S, gt=0, description="how often the disk cap is checked")
    drain_s: float = Field(
        2.0, ge=0, description="how long output is still read after the command exits"
    )
    read_chunk: int = Field(1 << 16, gt=0, description="bytes moved per read or write")
    kill_deadline_s: float = Field(
        10.0, gt=0, description="how long a control group may take to empty after SIGKILL"
    )


SUPERVISION = Supervision()


class Stop(StrEnum):
    """Why the supervisor killed a command."""

    TIMEOUT = "timeout"
    OUTPUT = "output"
    DISK = "disk"
    CANCELLED = "cancelled"


class Supervised(Protocol):
    """What a backend supplies: how the command's bytes move and how its tree dies."""

    def read(self, fd: int, size: int) -> bytes:
        """Up to ``size`` bytes of output from ``fd``, b"" at its end (BlockingIOError: none yet)."""

    def route(self, fd: int, data: bytes) -> bool:
        """Keep ``data`` read from ``fd``; False once a stream is over its cap."""

    def send(self, data: memoryview) -> int:
        """Write what the command's input takes now; how many bytes (OSError: input gone)."""

    def input_done(self) -> None:
        """All of stdin is sent (or the command stopped taking it): end the command's input."""

    def kill(self) -> None:
        """SIGKILL the command and everything it started."""


@dataclass
class Watched:
    """What the watch saw: why it stopped the command, when the command ended, notes."""

    stopped: Stop | None = None
    ended_at: float | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class _State:
    """The descriptors still in play and the time the watch may last."""

    outputs: set[int]
    writer: int | None
    pending: memoryview
    exited: int | None
    cancelled: int | None
    limit: float
    seen: Watched = field(default_factory=Watched)

    def alive(self) -> bool:
        """Whether the command's own process has neither exited nor been killed."""
        return self.seen.ended_at is None

    def running(self) -> bool:
        return bool(self.outputs) or (self.exited is not None and self.alive())

    def interest(self) -> dict[int, int]:
        masks = {fd: _IN for fd in self.outputs}
        if self.exited is not None and self.alive():
            masks[self.exited] = select.POLLIN
        if self.cancelled is not None:
            masks[self.cancelled] = select.POLLIN
        if self.writer is not None:
            masks[self.writer] = masks.get(self.writer, 0) | select.POLLOUT
        return masks


def watch(
    io: Supervised,
    *,
    outputs: Collection[int],
    writer: int | None,
    stdin: bytes,
    exited: int | None,
    cancelled: int | None,
    deadline: float,
    disk: DiskWatch | None,
    policy: Supervision = SUPERVISION,
) -> Watched:
    """Feed ``stdin`` to ``writer`` and read ``outputs`` until the command is over.

    ``exited`` turns readable when the command's own process exits (None: not visible
    here, the end of its output ends the watch); ``cancelled`` turns readable when the
    caller no longer waits. The caller owns every descriptor and closes it afterwards.
    """
    state = _State(set(outputs), writer, memoryview(stdin), exited, cancelled, deadline)
    if writer is None or not stdin:
        state.writer = None
        io.input_done()
    while state.running():
        now = time.monotonic()
        if now >= state.limit:
            if state.alive():
                _stop(io, state, Stop.TIMEOUT)
            else:
                state.seen.notes.append(LINGERED_NOTE)
            break
        if disk is not None and disk.over():
            _stop(io, state, Stop.DISK)
            break
        wait = state.limit - now if disk is None else min(state.limit - now, policy.disk_poll_s)
        poller = select.poll()
        for fd, mask in state.interest().items():
            poller.register(fd, mask)
        if any(_handle(io, state, fd, event, policy) for fd, event in poller.poll(wait * 1000)):
            break
    return state.seen


def _stop(io: Supervised, state: _State, why: Stop) -> None:
    state.seen.stopped = why
    state.seen.ended_at = state.seen.ended_at or time.monotonic()
    io.kill()


def _handle(io: Supervised, state: _State, fd: int, event: int, policy: Supervision) -> bool:
    """Act on one descriptor's event; True once the command was stopped."""
    if fd == state.cancelled:
        # Even while the last output drains: the caller no longer waits for any of it.
        state.cancelled = None
        state.seen.notes.append(CANCELLED_NOTE)
        _stop(io, state, Stop.CANCELLED)
        return True
    if fd == state.exited and state.alive():
        # The command is done. Whatever it left running in the background would hold its
        # output open (and it alive) any longer, so that goes now.
        state.seen.ended_at = time.monotonic()
        state.limit = state.seen.ended_at + policy.drain_s
        io.kill()
        return False
    if fd == state.writer and (event & select.POLLOUT or fd not in state.outputs):
        _send(io, state, policy)
    if fd in state.outputs and event & ~select.POLLOUT:
        return _receive(io, state, fd, event, policy)
    return False


def _send(io: Supervised, state: _State, policy: Supervision) -> None:
    try:
        sent = io.send(state.pending[: policy.read_chunk])
    except (BlockingIOError, InterruptedError):
        return
    except OSError:  # the command closed its stdin; its output still counts
        sent = len(state.pending)
    state.pending = state.pending[sent:]
    if not state.pending:
        state.writer = None
        io.input_done()


def _receive(io: Supervised, state: _State, fd: int, event: int, policy: Supervision) -> bool:
    """Read one chunk of output; True once it took a stream over its cap."""
    data = b""
    if event & _IN:
        try:
            data = io.read(fd, policy.read_chunk)
        except (BlockingIOError, InterruptedError):
            return False
        except ConnectionResetError:
            data = b""
    if not data:
        state.outputs.discard(fd)
        if fd == state.writer:
            state.writer = None
        return False
    if io.route(fd, data):
        return False
    _stop(io, state, Stop.OUTPUT)
    return True
