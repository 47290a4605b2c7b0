"""Supervising one host process tree: stdin, capped output, time limit, tree kill.

The policy (limits, drain, cancellation) is the one every backend shares
(:mod:`toolchain.sandbox._supervise`); this module supplies a host process's plumbing.

Shared by the backends that start a host process per command (bwrap, local). The tree is
bounded three ways: its own session (killpg), an optional control group (kill every
member), and, for bwrap, a pid namespace that dies with its first process.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from toolchain.sandbox._cancel import CancelToken, watching
from toolchain.sandbox._capture import CappedStream, RawExit
from toolchain.sandbox._cgroup import ExecCgroup
from toolchain.sandbox._disk import DiskWatch
from toolchain.sandbox._models import ExecLimits
from toolchain.sandbox._supervise import SUPERVISION, Stop, Watched, watch

__all__ = ["SIGNAL_EXIT_CODES", "supervise"]

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


class _Pipes:
    """The :class:`Supervised` plumbing of a host process: three pipes and a session."""

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        stdout: CappedStream,
        stderr: CappedStream,
        cgroup: ExecCgroup | None,
    ) -> None:
        assert process.stdin is not None and process.stdout is not None
        assert process.stderr is not None
        self.process = process
        self.cgroup = cgroup
        self.sinks = {process.stdout.fileno(): stdout, process.stderr.fileno(): stderr}
        self.writer = process.stdin.fileno()

    def read(self, fd: int, size: int) -> bytes:
        return os.read(fd, size)

    def route(self, fd: int, data: bytes) -> bool:
        return self.sinks[fd].feed(data)

    def send(self, data: memoryview) -> int:
        return os.write(self.writer, data)

    def input_done(self) -> None:
        assert self.process.stdin is not None
        with contextlib.suppress(OSError):
            self.process.stdin.close()

    def kill(self) -> None:
        _kill_tree(self.process, self.cgroup)


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
) -> Watched:
    """Feed stdin and collect output on this thread until the command is over (the shared
    policy of :func:`toolchain.sandbox._supervise.watch`); nothing it started survives."""
    pipes = _Pipes(process, stdout, stderr, cgroup)
    os.set_blocking(pipes.writer, False)
    exited = os.pidfd_open(process.pid)
    try:
        seen = watch(
            pipes,
            outputs=tuple(pipes.sinks),
            writer=pipes.writer,
            stdin=stdin,
            exited=exited,
            cancelled=cancelled,
            deadline=deadline,
            disk=disk,
        )
    finally:
        os.close(exited)
        for pipe in (process.stdin, process.stdout, process.stderr):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
    _kill_tree(process, cgroup)
    return seen


def _kill_tree(process: subprocess.Popen[bytes], cgroup: ExecCgroup | None) -> None:
    with contextlib.suppress(OSError):
        os.killpg(process.pid, signal.SIGKILL)
    if cgroup is not None:
        cgroup.kill_all(deadline_s=SUPERVISION.kill_deadline_s)


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
        _admit(process, cgroup, on_spawn)
    with watching(cancel) as cancelled:
        seen = _pump(
            process,
            stdin,
            stdout,
            stderr,
            deadline=started + limits.timeout_s,
            cgroup=cgroup,
            disk=disk,
            cancelled=cancelled,
        )
    returncode = process.wait()
    oom = cgroup is not None and cgroup.oom_kills() > oom_before
    raw = _raw_exit(returncode, seen, oom_killed=oom, duration_s=time.monotonic() - started)
    return raw, stdout, stderr


def _admit(
    process: subprocess.Popen[bytes],
    cgroup: ExecCgroup | None,
    on_spawn: Callable[[subprocess.Popen[bytes]], None],
) -> None:
    """Run ``on_spawn``; when it fails, the process it was given dies with it."""
    try:
        on_spawn(process)
    except BaseException:
        _kill_tree(process, cgroup)
        process.wait()
        raise


def _raw_exit(returncode: int, seen: Watched, *, oom_killed: bool, duration_s: float) -> RawExit:
    """What a host process's wait status and its watch tell."""
    signal_number: int | None = None
    if returncode < 0:
        signal_number = -returncode
    elif returncode in SIGNAL_EXIT_CODES:
        signal_number = returncode - 128
    return RawExit(
        returncode=returncode,
        signal_number=signal_number,
        timed_out=seen.stopped is Stop.TIMEOUT,
        oom_killed=oom_killed,
        output_limited=seen.stopped is Stop.OUTPUT,
        disk_limited=seen.stopped is Stop.DISK,
        killed_by_sandbox=seen.stopped is Stop.CANCELLED,
        duration_s=duration_s,
        notes=seen.notes,
    )
