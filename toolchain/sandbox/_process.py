"""Supervising one host process tree: stdin, capped output, time limit, tree kill.

Shared by the backends that start a host process per command (bwrap, local). The tree is
bounded three ways: its own session (killpg), an optional control group (kill every
member), and, for bwrap, a pid namespace that dies with its first process.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from toolchain.sandbox._cancel import CancelToken, watching
from toolchain.sandbox._capture import CappedStream, RawExit
from toolchain.sandbox._cgroup import ExecCgroup
from toolchain.sandbox._disk import POLL_S, DiskWatch
from toolchain.sandbox._models import ExecLimits

__all__ = ["SIGNAL_EXIT_CODES", "supervise"]

_READ_CHUNK = 1 << 16
_DRAIN_S = 2.0
# A sandbox reports a signal death the shell way (128 + N); these N are read as a signal.
SIGNAL_EXIT_CODES = {
    128 + s
    for s in (
        signal.SIGKILL,
        signal.SIGSEGV,
        signal.SIGABRT,
        signal.SIGBUS,
        signal.SIGFPE,
        signal.SIGILL,
        signal.SIGXFSZ,
        signal.SIGXCPU,
        signal.SIGTERM,
    )
}


def _pump(
    process: subprocess.Popen[bytes],
    stdin: bytes,
    stdout: CappedStream,
    stderr: CappedStream,
    *,
    deadline: float,
    cgroup: ExecCgroup | None,
    disk: DiskWatch | None = None,
    cancelled: int | None = None,
) -> str | None:
    """Feed stdin and collect output on this thread until the command is over.

    Returns why the supervisor stopped it ("timeout", "output", "disk", "cancelled": the
    ``cancelled`` descriptor turned readable), or None. When the command's
    own process exits, its tree is killed at once: a leftover background process must not
    keep the pipes open (and the command alive) any longer.
    """
    assert process.stdin is not None and process.stdout is not None and process.stderr is not None
    sinks = {process.stdout.fileno(): stdout, process.stderr.fileno(): stderr}
    pending = memoryview(stdin)
    writer: int | None = None
    if pending:
        writer = process.stdin.fileno()
        os.set_blocking(writer, False)
    else:
        process.stdin.close()
    exited = os.pidfd_open(process.pid)
    poller = select.poll()
    for fd in sinks:
        poller.register(fd, select.POLLIN)
    poller.register(exited, select.POLLIN)
    if cancelled is not None:
        poller.register(cancelled, select.POLLIN)
    if writer is not None:
        poller.register(writer, select.POLLOUT)
    reason: str | None = None
    drain_until: float | None = None
    running = True
    try:
        while sinks or running:
            now = time.monotonic()
            limit = drain_until if drain_until is not None else deadline
            if now >= limit:
                if drain_until is None:
                    reason = "timeout"
                    _kill_tree(process, cgroup)
                break
            if disk is not None and drain_until is None and disk.over():
                reason = "disk"
                _kill_tree(process, cgroup)
                drain_until = time.monotonic()
                continue
            wait = limit - now if disk is None else min(limit - now, POLL_S)
            for fd, event in poller.poll(wait * 1000):
                if fd == cancelled:
                    poller.unregister(cancelled)
                    if drain_until is None:
                        reason = "cancelled"
                        _kill_tree(process, cgroup)
                        drain_until = time.monotonic()
                elif fd == exited:
                    running = False
                    poller.unregister(exited)
                    _kill_tree(process, cgroup)
                    drain_until = time.monotonic() + _DRAIN_S
                elif fd == writer:
                    try:
                        sent = os.write(writer, pending[:_READ_CHUNK])
                    except BlockingIOError:
                        continue
                    except OSError:  # the command closed its stdin; its output still counts
                        sent = len(pending)
                    pending = pending[sent:]
                    if not pending:
                        poller.unregister(writer)
                        process.stdin.close()
                        writer = None
                elif fd in sinks:
                    data = (
                        os.read(fd, _READ_CHUNK)
                        if event & (select.POLLIN | select.POLLHUP)
                        else b""
                    )
                    if not data:
                        poller.unregister(fd)
                        del sinks[fd]
                    elif not sinks[fd].feed(data):
                        reason = "output"
                        _kill_tree(process, cgroup)
                        drain_until = time.monotonic()
    finally:
        os.close(exited)
        for pipe in (process.stdin, process.stdout, process.stderr):
            with contextlib.suppress(OSError):
                pipe.close()
    _kill_tree(process, cgroup)
    return reason


def _kill_tree(process: subprocess.Popen[bytes], cgroup: ExecCgroup | None) -> None:
    with contextlib.suppress(OSError):
        os.killpg(process.pid, signal.SIGKILL)
    if cgroup is not None:
        cgroup.kill_all()


def supervise(
    argv: Sequence[str],
    *,
    limits: ExecLimits,
    stdin: bytes = b"",
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    cgroup: ExecCgroup | None = None,
    pass_fds: Sequence[int] = (),
    user: int | None = None,
    group: int | None = None,
    on_spawn: Callable[[subprocess.Popen[bytes]], None] | None = None,
    disk: DiskWatch | None = None,
    cancel: CancelToken | None = None,
) -> tuple[RawExit, CappedStream, CappedStream]:
    """Run ``argv`` until it ends or a limit stops it; nothing it started survives.

    ``on_spawn`` runs right after the process starts (bwrap uses it to place the sandbox
    in its control group before letting the command run); ``user``/``group`` drop root;
    cancelling ``cancel`` kills the tree at once.
    """
    stdout = CappedStream(limits.output_bytes)
    stderr = CappedStream(limits.output_bytes)
    oom_before = cgroup.oom_kills() if cgroup is not None else 0
    started = time.monotonic()
    process = subprocess.Popen(
        list(argv),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=cwd,
        start_new_session=True,
        close_fds=True,
        pass_fds=tuple(pass_fds),
        user=user,
        group=group,
        extra_groups=[] if user is not None else None,
    )
    if on_spawn is not None:
        try:
            on_spawn(process)
        except BaseException:
            _kill_tree(process, cgroup)
            process.wait()
            raise
    assert process.stdin is not None and process.stdout is not None and process.stderr is not None
    with watching(cancel) as watch:
        stopped = _pump(
            process,
            stdin,
            stdout,
            stderr,
            deadline=started + limits.timeout_s,
            cgroup=cgroup,
            disk=disk,
            cancelled=watch,
        )
    returncode = process.wait()
    duration = time.monotonic() - started
    timed_out = stopped == "timeout"
    oom = cgroup is not None and cgroup.oom_kills() > oom_before
    signal_number: int | None = None
    if returncode < 0:
        signal_number = -returncode
    elif returncode in SIGNAL_EXIT_CODES:
        signal_number = returncode - 128
    raw = RawExit(
        returncode=returncode,
        signal_number=signal_number,
        timed_out=timed_out,
        oom_killed=oom,
        output_limited=stopped == "output",
        disk_limited=stopped == "disk",
        killed_by_sandbox=stopped == "cancelled",
        duration_s=duration,
    )
    if stopped == "cancelled":
        raw.notes.append("the call was cancelled, so the command was killed")
    return raw, stdout, stderr
