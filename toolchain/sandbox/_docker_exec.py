"""Running one command in the docker sandbox's container: start it paused, confine it, watch it.

Every command runs through a tiny /bin/sh wrapper that waits for a "go" line on stdin. In
that pause the host moves the exec's process into a control group of its own (under the
container's), so per-command memory, process and CPU limits hold from the first
instruction and the OOM count and tree kill cover exactly that command. runc already
makes each exec a session leader; the wrapper only calls setsid when a runtime does not.
The command is then watched by the policy every backend shares
(:mod:`toolchain.sandbox._supervise`); this module supplies the engine's plumbing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import posixpath
import signal
import socket
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from docker import DockerClient

from toolchain._errors import SandboxClosedError, SandboxError
from toolchain._image import WORKSPACE_MOUNT
from toolchain.sandbox._capture import CappedStream, RawExit, build_result
from toolchain.sandbox._cgroup import CgroupView, ExecCgroup
from toolchain.sandbox._disk import DiskWatch
from toolchain.sandbox._docker_cleanup import EXEC_CGROUP_PREFIX, kill_where, session_of
from toolchain.sandbox._docker_lifecycle import (
    BASE_ENV,
    ENGINE_ERRORS,
    MIB,
    ContainerFacts,
    HostView,
    engine_error,
)
from toolchain.sandbox._models import ExecLimits, ExecRequest, ExecResult, SandboxSpec
from toolchain.sandbox._policy import policy_argv
from toolchain.sandbox._supervise import SUPERVISION, Stop, Watched, watch

__all__ = ["ContainerExec", "Exec", "effective_limits"]

_log = logging.getLogger(__name__)

# $1: file size limit in 512-byte blocks (dash and POSIX-mode bash agree) or "-";
# $2: a file to record the wrapper's pid in (remote engines only) or "-"; then the command.
_WRAPPER = (
    "read -r _ || exit 125; "
    'if [ "$1" != - ]; then ulimit -f "$1" || exit 125; fi; '
    'if [ "$2" != - ]; then echo $$ >"$2"; fi; '
    "shift 2; "
    "{ read -r _p _c _s _pp _pg _sid _r; } </proc/self/stat; "
    'if [ "$_sid" != "$$" ]; then exec setsid -w "$@"; fi; '
    'exec "$@"'
)
_PID_WAIT_S = 10.0
_EXIT_WAIT_S = 5.0
_FRAME_HEADER = 8
_CAPPED_LIMITS = ("memory_mb", "pids", "cpus", "file_size_mb")


class _Demux:
    """Splits the engine's multiplexed stream (8-byte frame headers) into stdout and stderr."""

    def __init__(self, stdout: CappedStream, stderr: CappedStream) -> None:
        self._targets = {1: stdout, 2: stderr}
        self._buffer = bytearray()
        self._stream = 1
        self._remaining = 0

    def feed(self, data: bytes) -> bool:
        """Route ``data``; False once either stream is over its limit."""
        self._buffer += data
        within = True
        while True:
            if self._remaining == 0:
                if len(self._buffer) < _FRAME_HEADER:
                    break
                self._stream = self._buffer[0]
                self._remaining = int.from_bytes(self._buffer[4:8], "big")
                del self._buffer[:_FRAME_HEADER]
                continue
            take = min(self._remaining, len(self._buffer))
            if take == 0:
                break
            chunk = bytes(self._buffer[:take])
            del self._buffer[:take]
            self._remaining -= take
            target = self._targets.get(self._stream, self._targets[1])
            within = target.feed(chunk) and within
        return within


class Exec:
    """Book-keeping for one running command."""

    def __init__(self, exec_id: str) -> None:
        self.exec_id = exec_id
        self.pid: int | None = None
        self.cgroup: ExecCgroup | None = None
        self.pidfile: str | None = None


class _EngineSocket:
    """The :class:`Supervised` plumbing of an exec: one socket both ways, framed output."""

    def __init__(self, sock: socket.socket, demux: _Demux, kill: Callable[[], None]) -> None:
        self.sock = sock
        self.demux = demux
        self.kill = kill

    def read(self, fd: int, size: int) -> bytes:
        return self.sock.recv(size)

    def route(self, fd: int, data: bytes) -> bool:
        return self.demux.feed(data)

    def send(self, data: memoryview) -> int:
        return self.sock.send(data)

    def input_done(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_WR)


def _raw_socket(attached: Any) -> socket.socket:
    """The plain socket under what `exec_start(socket=True)` returned."""
    if isinstance(attached, socket.socket):
        return attached
    inner = getattr(attached, "_sock", None)
    if isinstance(inner, socket.socket):
        return inner
    raise SandboxError(
        f"the Docker engine connection ({type(attached).__name__}) does not expose a socket; "
        "use a local unix socket or a tcp DOCKER_HOST"
    )


def _signal_of(exit_code: int | None) -> int | None:
    if exit_code is None or not 128 < exit_code < 128 + signal.NSIG:
        return None
    try:
        return signal.Signals(exit_code - 128)
    except ValueError:
        return None


def effective_limits(
    spec: SandboxSpec, limits: ExecLimits
) -> tuple[ExecLimits, dict[str, float | int]]:
    """A command cannot get more than the container has; returns what was capped."""
    ceiling = spec.limits
    capped: dict[str, float | int] = {}
    for field in _CAPPED_LIMITS:
        asked, most = getattr(limits, field), getattr(ceiling, field)
        if asked > most:
            capped[field] = most
    return (limits.model_copy(update=capped) if capped else limits), capped


class ContainerExec:
    """Runs commands in one started container; the backend serialises starts and sweeps."""

    def __init__(
        self,
        client: DockerClient,
        facts: ContainerFacts,
        host: HostView,
        spec: SandboxSpec,
        *,
        disk_roots: list[Path],
        closed: Callable[[], bool],
    ) -> None:
        self._client = client
        self._facts = facts
        self._view = host.cgroups
        self._base_pids = host.base_pids
        self._spec = spec
        self._user = f"{spec.uid}:{spec.gid}"
        self._disk_roots = disk_roots
        self._closed = closed

    def error(self, what: str, exc: BaseException) -> SandboxError:
        if self._closed():
            return SandboxClosedError(f"the sandbox was closed while {what}")
        return engine_error(f"{what} in the sandbox", exc)

    # -- starting ------------------------------------------------------------------------

    def create(self, request: ExecRequest, limits: ExecLimits) -> Exec:
        """Create (not start) the exec: the wrapper, then the policy's command."""
        item = Exec("")
        if self._view is None:
            item.pidfile = f"/tmp/.ramp-exec-{uuid.uuid4().hex[:12]}.pid"
        file_blocks = "-"
        if limits.file_size_mb != self._spec.limits.file_size_mb:
            file_blocks = str(limits.file_size_mb * MIB // 512)
        command = [
            "/bin/sh",
            "-c",
            _WRAPPER,
            "ramp-exec",
            file_blocks,
            item.pidfile or "-",
            *policy_argv(self._spec, request, remount=False),
        ]
        try:
            item.exec_id = self._client.api.exec_create(
                self._facts.id,
                command,
                stdout=True,
                stderr=True,
                stdin=True,
                tty=False,
                environment=[f"{k}={v}" for k, v in {**BASE_ENV, **request.env}.items()],
                workdir=posixpath.normpath(posixpath.join(WORKSPACE_MOUNT, request.cwd)),
                user=self._user,
            )["Id"]
        except ENGINE_ERRORS as exc:
            raise self.error("creating the command", exc) from exc
        return item

    def launch(self, item: Exec) -> Any:
        """Start the exec (paused in its wrapper) and learn its pid; the attached stream."""
        try:
            attached = self._client.api.exec_start(item.exec_id, socket=True)
        except ENGINE_ERRORS as exc:
            raise self.error("starting the command", exc) from exc
        try:
            item.pid = self._wait_for_pid(item.exec_id)
        except (*ENGINE_ERRORS, SandboxError) as exc:
            # Closing the connection gives the waiting wrapper EOF instead of "go".
            with contextlib.suppress(OSError, AttributeError):
                attached.close()
            if isinstance(exc, SandboxError):
                raise
            raise self.error("starting the command", exc) from exc
        return attached

    def _wait_for_pid(self, exec_id: str) -> int | None:
        """The exec's host pid, or None when it failed to start (e.g. a missing cwd)."""
        end = time.monotonic() + _PID_WAIT_S
        while True:
            info = self._client.api.exec_inspect(exec_id)
            if info.get("Pid"):
                return int(info["Pid"])
            if not info.get("Running") and info.get("ExitCode") is not None:
                return None
            if time.monotonic() > end:
                raise SandboxError(f"the command did not start within {_PID_WAIT_S:g} s")
            time.sleep(0.002)

    def _confine(self, item: Exec, limits: ExecLimits, notes: list[str]) -> CgroupView | None:
        """Move the (paused) exec into its own group; returns the group to watch for OOM."""
        view = self._view
        if item.pid is None:
            return view
        if view is None:
            notes.append(
                "per-command limits not applied separately (remote engine): "
                "the sandbox's container limits applied"
            )
            return None
        name = f"{EXEC_CGROUP_PREFIX}{uuid.uuid4().hex[:12]}"
        group = ExecCgroup.create(
            name,
            memory_bytes=limits.memory_mb * MIB,
            pids_max=limits.pids,
            cpus=limits.cpus,
            parent=view,
        )
        if group is not None:
            try:
                group.add(item.pid)
            except OSError as exc:
                group.remove()
                reason = f"moving the command into its control group failed: {exc}"
            else:
                item.cgroup = group
                return group
        else:
            reason = "a per-command control group could not be created"
            ExecCgroup({k: d / name for k, d in view.dirs.items()}, view.version).remove()
        ceiling = self._spec.limits
        notes.append(
            f"{reason}; the sandbox's container limits applied instead "
            f"(memory {ceiling.memory_mb} MB, {ceiling.pids} processes, "
            f"{ceiling.cpus:g} CPUs)"
        )
        return view

    # -- running -------------------------------------------------------------------------

    def run(
        self,
        item: Exec,
        attached: Any,
        request: ExecRequest,
        limits: ExecLimits,
        capped: dict[str, float | int],
        cancelled: int | None = None,
    ) -> ExecResult:
        """Feed and read the started exec until it ends; a limit or ``cancelled`` (a
        descriptor that turns readable) kills it."""
        notes: list[str] = []
        stdout = CappedStream(limits.output_bytes)
        stderr = CappedStream(limits.output_bytes)
        oom_group = self._confine(item, limits, notes)
        oom_before = oom_group.oom_kills() if oom_group is not None else 0
        seen, started = self._watch(
            item, attached, request, limits, _Demux(stdout, stderr), cancelled
        )
        duration = (seen.ended_at or time.monotonic()) - started
        exit_code = self._exit_code(item.exec_id)
        killed = seen.stopped is not None
        notes += seen.notes
        if self._closed() and not killed:
            killed = True
            notes.append("the sandbox was closed while the command ran")
        if item.cgroup is not None:
            with contextlib.suppress(OSError):
                item.cgroup.kill_all(deadline_s=SUPERVISION.kill_deadline_s)
        oom_killed = oom_group is not None and oom_group.oom_kills() > oom_before
        raw = _raw_exit(exit_code, seen, killed, oom_killed, capped, notes, duration)
        return build_result(raw, stdout, stderr, backend="docker", timeout_s=limits.timeout_s)

    def _watch(
        self,
        item: Exec,
        attached: Any,
        request: ExecRequest,
        limits: ExecLimits,
        demux: _Demux,
        cancelled: int | None,
    ) -> tuple[Watched, float]:
        """Watch the exec under the shared policy; what was seen and when it started."""
        sock = _raw_socket(attached)
        exited = self._watch_exit(item)
        disk = None
        if self._spec.disk_mb is not None and self._disk_roots:
            disk = DiskWatch(self._disk_roots, self._spec.disk_mb << 20)
        started = time.monotonic()
        io = _EngineSocket(sock, demux, lambda: self.kill_tree(item))
        try:
            sock.setblocking(False)
            seen = watch(
                io,
                outputs=(sock.fileno(),),
                writer=sock.fileno(),
                stdin=b"go\n" + request.stdin,
                exited=exited,
                cancelled=cancelled,
                deadline=started + limits.timeout_s,
                disk=disk,
            )
        except OSError as exc:
            self.kill_tree(item)
            raise self.error("reading the command's output", exc) from exc
        finally:
            if exited is not None:
                os.close(exited)
            with contextlib.suppress(OSError):
                sock.close()
            with contextlib.suppress(OSError, AttributeError):
                attached.close()
        return seen, started

    def _watch_exit(self, item: Exec) -> int | None:
        """A pidfd that turns readable when the command's own process exits (local engine)."""
        if self._view is None or item.pid is None:
            return None
        try:
            return os.pidfd_open(item.pid)
        except OSError:
            return None

    def _exit_code(self, exec_id: str) -> int | None:
        end = time.monotonic() + _EXIT_WAIT_S
        delay = 0.001
        while True:
            try:
                info = self._client.api.exec_inspect(exec_id)
            except ENGINE_ERRORS as exc:
                if self._closed():
                    return None
                raise self.error("reading the command's exit status", exc) from exc
            if not info.get("Running"):
                code = info.get("ExitCode")
                return None if code is None else int(code)
            if time.monotonic() > end:
                return None
            time.sleep(delay)
            delay = min(delay * 2, 0.05)

    # -- killing -------------------------------------------------------------------------

    def kill_tree(self, item: Exec) -> None:
        """SIGKILL the command and everything it started."""
        if item.cgroup is not None:
            try:
                item.cgroup.kill_all(deadline_s=SUPERVISION.kill_deadline_s)
            except OSError as exc:
                _log.warning("could not empty control group of exec %s: %s", item.exec_id, exc)
        if self._view is not None and item.pid is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(item.pid, signal.SIGKILL)
            self._kill_where(lambda pid: session_of(pid) == item.pid)
        elif item.pidfile is not None:
            self.remote_kill(item.pidfile)

    def remote_kill(self, pidfile: str) -> None:
        """Without a host view, kill the command's process group from inside the container."""
        script = f'p=$(cat {pidfile} 2>/dev/null) && kill -9 -- "-$p" "$p"; rm -f {pidfile}'
        with contextlib.suppress(*ENGINE_ERRORS):
            exec_id = self._client.api.exec_create(
                self._facts.id, ["/bin/sh", "-c", script], user=self._user
            )
            self._client.api.exec_start(exec_id["Id"])

    def sweep(self, protected: set[int]) -> None:
        """Kill every container process outside the sessions of ``protected`` commands."""
        self._kill_where(lambda pid: session_of(pid) not in protected)

    def _kill_where(self, selected: Callable[[int], bool]) -> None:
        if self._view is not None:
            kill_where(self._view, self._base_pids, selected, str(self._facts))


def _raw_exit(
    exit_code: int | None,
    seen: Watched,
    killed: bool,
    oom_killed: bool,
    capped: dict[str, float | int],
    notes: list[str],
    duration_s: float,
) -> RawExit:
    """What the engine's exit status and the watch tell (the engine has no wait status)."""
    signal_number = _signal_of(exit_code)
    if killed or (oom_killed and exit_code is None):
        signal_number = signal.SIGKILL
    elif signal_number is not None and not oom_killed:
        # The engine reports 128+N for a process ended by signal N, exactly like a shell;
        # a command calling exit(128+N) itself is indistinguishable (and rare).
        notes.append(f"signal inferred from exit status {exit_code}")
    # Only mention a cap where it explains the outcome, not on every result.
    if oom_killed and "memory_mb" in capped:
        notes.append(f"memory was capped at the sandbox's {capped['memory_mb']:g} MB")
    if exit_code == 128 + signal.SIGXFSZ and "file_size_mb" in capped:
        notes.append(f"file size was capped at the sandbox's {capped['file_size_mb']:g} MB")
    return RawExit(
        returncode=None if killed else exit_code,
        signal_number=signal_number,
        timed_out=seen.stopped is Stop.TIMEOUT,
        oom_killed=oom_killed,
        output_limited=seen.stopped is Stop.OUTPUT,
        disk_limited=seen.stopped is Stop.DISK,
        killed_by_sandbox=killed,
        duration_s=duration_s,
        notes=notes,
    )
