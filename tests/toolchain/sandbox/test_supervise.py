"""The one supervision policy every backend shares, exercised on real processes and pipes.

The backends' own suites (test_backends.py, test_docker_backend.py, test_local.py) show
each limit holding end to end; these pin the rules of the shared loop itself: a limit
ends the watch at once, a command's leftovers are not waited for beyond the drain, and a
command whose exit is not visible is still bounded by its time limit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pydantic
import pytest

from toolchain.sandbox import Outcome, open_sandbox
from toolchain.sandbox._capture import CappedStream
from toolchain.sandbox._supervise import (
    LINGERED_NOTE,
    SUPERVISION,
    Stop,
    Supervision,
    Watched,
    watch,
)


class _PipeIO:
    """A real process behind real pipes, the way a host-process backend plumbs it."""

    def __init__(self, process: subprocess.Popen[bytes], cap: int) -> None:
        assert process.stdin is not None and process.stdout is not None
        self.process = process
        self.out = CappedStream(cap)
        self.out_fd = process.stdout.fileno()
        self.in_fd = process.stdin.fileno()
        self.kills = 0
        os.set_blocking(self.in_fd, False)

    def read(self, fd: int, size: int) -> bytes:
        return os.read(fd, size)

    def route(self, fd: int, data: bytes) -> bool:
        return self.out.feed(data)

    def send(self, data: memoryview) -> int:
        return os.write(self.in_fd, data)

    def input_done(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()

    def kill(self) -> None:
        self.kills += 1
        os.killpg(self.process.pid, signal.SIGKILL)


@pytest.fixture
def spawn() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        for pipe in (process.stdin, process.stdout):
            if pipe is not None:
                pipe.close()


def _start(started: list[subprocess.Popen[bytes]], script: str, cap: int = 1 << 20) -> _PipeIO:
    process = subprocess.Popen(
        ["sh", "-c", script],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    started.append(process)
    return _PipeIO(process, cap)


def _watch(
    io: _PipeIO, *, limit_s: float = 30, stdin: bytes = b"", exited: int | None = None
) -> Watched:
    """Watch ``io``'s pipes with no disk cap and no cancellation."""
    return watch(
        io,
        outputs=(io.out_fd,),
        writer=io.in_fd,
        stdin=stdin,
        exited=exited,
        cancelled=None,
        deadline=time.monotonic() + limit_s,
        disk=None,
    )


def test_the_policy_is_one_frozen_set_of_constants() -> None:
    with pytest.raises(pydantic.ValidationError):
        SUPERVISION.drain_s = 60.0  # type: ignore[misc]
    with pytest.raises(pydantic.ValidationError):
        Supervision(disk_poll_s=0)


def test_an_output_cap_ends_the_watch_at_once(spawn: list[subprocess.Popen[bytes]]) -> None:
    io = _start(spawn, "exec yes", cap=4096)
    started = time.monotonic()
    seen = _watch(io)
    assert seen.stopped is Stop.OUTPUT
    assert seen.ended_at is not None and seen.ended_at - started < 5
    assert io.kills == 1 and io.out.overflowed
    assert io.process.wait(timeout=5) == -signal.SIGKILL


def test_stdin_is_fed_and_output_read_to_the_end(spawn: list[subprocess.Popen[bytes]]) -> None:
    io = _start(spawn, "exec tr a-z A-Z")
    exited = os.pidfd_open(io.process.pid)
    try:
        seen = _watch(io, stdin=b"shout\n" * 50_000, exited=exited)
    finally:
        os.close(exited)
    assert seen.stopped is None and seen.notes == []
    assert io.out.text() == "SHOUT\n" * 50_000


def test_an_invisible_exit_is_still_bounded_by_the_time_limit(
    spawn: list[subprocess.Popen[bytes]],
) -> None:
    # A remote engine's exit cannot be watched; the output held open must not hold the call.
    io = _start(spawn, "echo started; exec sleep 60")
    started = time.monotonic()
    seen = _watch(io, limit_s=1.0)
    assert seen.stopped is Stop.TIMEOUT
    assert 1.0 <= time.monotonic() - started < 5
    assert io.out.text() == "started\n"


def test_leftovers_holding_the_output_are_not_waited_for(workspace: Path) -> None:
    # The local backend kills only the command's session, so a leftover in a session of its
    # own keeps the output open: the call still ends one drain after the command exits.
    script = "echo before; setsid sh -c 'echo $$ > leftover.pid; exec sleep 30' & sleep 0.3"
    with open_sandbox(workspace, "local", allow_unsafe=True) as box:
        started = time.monotonic()
        result = box.exec(script, timeout_s=60)
        took = time.monotonic() - started
    leftover = int((workspace / "leftover.pid").read_text())
    os.kill(leftover, signal.SIGKILL)
    assert result.outcome is Outcome.OK, result
    assert result.stdout == "before\n"
    assert LINGERED_NOTE in result.detail
    assert SUPERVISION.drain_s <= took < SUPERVISION.drain_s + 10
