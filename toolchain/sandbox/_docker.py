"""The docker backend: one long-lived, locked-down container per sandbox, one exec per command.

Every command runs through a tiny /bin/sh wrapper that waits for a "go" line on stdin. In
that pause the host moves the exec's process into a control group of its own (under the
container's), so per-command memory, process and CPU limits hold from the first
instruction and the OOM count and tree kill cover exactly that command. runc already
makes each exec a session leader; the wrapper only calls setsid when a runtime does not.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import posixpath
import select
import signal
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import docker.errors
from docker import DockerClient
from docker.types import Ulimit
from pydantic import BaseModel, ConfigDict
from requests.exceptions import RequestException

from toolchain._engine import SANDBOX_LABEL, docker_client
from toolchain._errors import ImageMissingError, SandboxClosedError, SandboxError
from toolchain._image import WORKSPACE_MOUNT, find_image, image_tag
from toolchain._lifecycle import pid_alive
from toolchain.sandbox._backend import SandboxBackend, register_backend
from toolchain.sandbox._cancel import CancelToken, watching
from toolchain.sandbox._capture import CappedStream, RawExit, build_result
from toolchain.sandbox._cgroup import CgroupView, ExecCgroup, cgroups_usable
from toolchain.sandbox._disk import POLL_S, DiskWatch
from toolchain.sandbox._models import ExecLimits, ExecRequest, ExecResult, SandboxSpec
from toolchain.sandbox._noexec import NoexecViews
from toolchain.sandbox._policy import policy_argv

__all__ = ["OWNER_LABEL", "PROFILE_LABEL", "DockerBackend", "gc_containers"]

_log = logging.getLogger(__name__)

OWNER_LABEL = "io.ramp.owner-pid"
PROFILE_LABEL = "io.ramp.profile"
_HOST_BLOCK_DEVICES = "/sys/devices/virtual/block"
_BASE_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": WORKSPACE_MOUNT,
    "LANG": "C.UTF-8",
    "TMPDIR": "/tmp",
}
_MIB = 1024 * 1024
_ENGINE_ERRORS = (docker.errors.DockerException, RequestException, OSError)
_CGROUP_PREFIX = "ramp-exec-"
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
_DRAIN_S = 5.0
_KILL_DEADLINE_S = 10.0
_READ_CHUNK = 1 << 16
_FRAME_HEADER = 8
_CAPPED_LIMITS = ("memory_mb", "pids", "cpus", "file_size_mb")


class _ContainerFacts(BaseModel):
    """What the engine told us about the sandbox container once it ran."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    image_tag: str
    init_pid: int


class _OwnerLabels(BaseModel):
    """The RAMP labels `gc_containers` reads from a container."""

    name: str
    owner_pid: int | None


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


class _Exec:
    """Book-keeping for one running command."""

    def __init__(self, exec_id: str) -> None:
        self.exec_id = exec_id
        self.pid: int | None = None
        self.cgroup: ExecCgroup | None = None
        self.pidfile: str | None = None


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


def _session_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    try:
        return int(fields[3])
    except (IndexError, ValueError):
        return None


def _signal_of(exit_code: int | None) -> int | None:
    if exit_code is None or not 128 < exit_code < 128 + signal.NSIG:
        return None
    try:
        return signal.Signals(exit_code - 128)
    except ValueError:
        return None


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError as exc:
        if exc.errno != errno.ESRCH:
            raise


def _engine_error(what: str, exc: BaseException) -> SandboxError:
    return SandboxError(f"{what} failed: {exc}")


def _remove_exec_cgroups(view: CgroupView) -> None:
    """Kill and remove per-command groups left under a container's groups."""
    for directory in set(view.dirs.values()):
        with contextlib.suppress(OSError):
            for child in directory.iterdir():
                if child.is_dir() and child.name.startswith(_CGROUP_PREFIX):
                    leftover = ExecCgroup(
                        {k: d / child.name for k, d in view.dirs.items()}, view.version
                    )
                    with contextlib.suppress(OSError):
                        leftover.kill_all(deadline_s=_KILL_DEADLINE_S)
                    leftover.remove()


def _lost_view(error: SandboxError) -> bool:
    """Whether the engine failed to start a container because a noexec view was missing."""
    text = str(error)
    return "noexec-views" in text and "no such file or directory" in text


class DockerBackend(SandboxBackend):
    """Commands run as the spec's uid in a read-only, offline, capability-less container."""

    name = "docker"

    def __init__(self, spec: SandboxSpec, *, client: DockerClient | None = None) -> None:
        self.spec = spec
        self._client = client
        self._owns_client = client is None
        self._facts: _ContainerFacts | None = None
        self._view: CgroupView | None = None
        self._base_pids: frozenset[int] = frozenset()
        self._cgroup_note = "not started"
        self._closed = False
        # Held while an exec is being spawned and while sweeping, so a sweep never sees a
        # process whose exec has not yet been registered as running.
        self._lock = threading.Lock()
        self._running: dict[str, _Exec] = {}
        self._disk_roots: list[Path] = []
        self._user = f"{spec.uid}:{spec.gid}"
        self._noexec: NoexecViews | None = None
        self._views: dict[Path, Path] = {}

    # -- lifecycle -----------------------------------------------------------------------

    def start(self, workspace: Path) -> None:
        if self._closed:
            raise SandboxClosedError("this docker sandbox is closed; open a new one")
        if self._facts is not None:
            raise SandboxError("this docker sandbox is already started")
        workspace = workspace.resolve()
        if not workspace.is_dir():
            raise SandboxError(f"workspace {workspace} is not a directory")
        if self._client is None:
            self._client = docker_client()
        client = self._client
        tag = image_tag(self.spec.profile)
        try:
            image_id = find_image(self.spec.profile, client)
        except _ENGINE_ERRORS as exc:
            raise _engine_error(f"looking up image {tag}", exc) from exc
        if image_id is None:
            raise ImageMissingError(
                f"the {self.spec.profile.value} sandbox image {tag} is not in the Docker engine; "
                "run `ramp toolchain image` to build it"
            )
        self._disk_roots = [m.source.resolve() for m in self.spec.mounts if m.writable]
        if self.spec.workspace_writable:
            self._disk_roots.insert(0, workspace)
        try:
            self._start_container(client, tag, workspace)
        except SandboxError as exc:
            if self._noexec is None or not _lost_view(exc):
                raise
            # A view gone before the engine mounted it (seen under load, cause not pinned
            # down): the sandbox starts again once with fresh views.
            _log.warning("retrying a sandbox whose noexec view was gone: %s", exc)
            self._start_container(client, tag, workspace)
        self._attach_cgroups()

    def _start_container(self, client: Any, tag: str, workspace: Path) -> None:
        """Create and start the container (with fresh noexec views under an exec policy)."""
        name = f"ramp-sbx-{uuid.uuid4().hex[:12]}"
        if self.spec.exec_policy is not None:
            # Under an exec policy nothing a command writes may be mapped executable.
            self._noexec = NoexecViews(self._disk_roots)
            self._views = self._noexec.acquire()
        container: Any = None
        try:
            container = client.containers.create(tag, **self._create_options(workspace, name))
            container.start()
            container.reload()
            state = container.attrs["State"]
            if not state.get("Running"):
                raise SandboxError(
                    f"container {name} exited at once: {state.get('Error') or state}"
                )
            self._facts = _ContainerFacts(
                id=container.id, name=name, image_tag=tag, init_pid=int(state["Pid"])
            )
        except SandboxError:
            self._discard(container)
            self._release_noexec()
            raise
        except _ENGINE_ERRORS as exc:
            self._discard(container)
            self._release_noexec()
            raise _engine_error(f"starting sandbox container {name} from {tag}", exc) from exc

    def _release_noexec(self) -> None:
        if self._noexec is not None:
            self._noexec.release()
            self._noexec = None

    def _create_options(self, workspace: Path, name: str) -> dict[str, Any]:
        limits = self.spec.limits
        labels = {
            **self.spec.labels,
            SANDBOX_LABEL: "1",
            OWNER_LABEL: str(os.getpid()),
            PROFILE_LABEL: self.spec.profile.value,
        }
        file_size = limits.file_size_mb * _MIB
        return {
            "command": ["sleep", "infinity"],
            "name": name,
            "init": True,
            "user": self._user,
            "network_mode": "none",
            "read_only": True,
            "tmpfs": {
                "/tmp": f"size={self.spec.tmp_size_mb}m,mode=1777,{self._tmp_exec()}",
                # The host's block devices (every run's loop-mounted workspace image, its
                # path and live I/O counters) are not the sandbox's business.
                _HOST_BLOCK_DEVICES: "ro,size=4k,mode=0555,noexec,nosuid,nodev",
            },
            "volumes": {
                str(self._views.get(workspace, workspace)): {
                    "bind": WORKSPACE_MOUNT,
                    "mode": "rw" if self.spec.workspace_writable else "ro",
                },
                **{
                    str(self._views.get(mount.source.resolve(), mount.source.resolve())): {
                        "bind": mount.target,
                        "mode": "rw" if mount.writable else "ro",
                    }
                    for mount in self.spec.mounts
                },
            },
            "working_dir": WORKSPACE_MOUNT,
            "environment": [f"{k}={v}" for k, v in _BASE_ENV.items()],
            "mem_limit": f"{limits.memory_mb}m",
            "memswap_limit": f"{limits.memory_mb}m",
            "pids_limit": limits.pids,
            "nano_cpus": int(min(limits.cpus, self._engine_cpus()) * 1e9),
            "security_opt": ["no-new-privileges"],
            "cap_drop": ["ALL"],
            "ulimits": [
                Ulimit(name="fsize", soft=file_size, hard=file_size),
                Ulimit(name="core", soft=0, hard=0),
            ],
            "labels": labels,
            "detach": True,
        }

    def _tmp_exec(self) -> str:
        policy = self.spec.exec_policy
        return "noexec,nosuid,nodev" if policy is not None and not policy.exec_tmp else "exec"

    def _engine_cpus(self) -> float:
        # The engine refuses nano_cpus above its CPU count; the cap is the same either way.
        assert self._client is not None
        try:
            return float(self._client.info().get("NCPU") or os.cpu_count() or 1)
        except _ENGINE_ERRORS as exc:
            raise _engine_error("asking the Docker engine for its CPU count", exc) from exc

    def _attach_cgroups(self) -> None:
        """Find the container's control groups on this host, if the engine is local."""
        facts = self._facts
        assert facts is not None
        view = CgroupView.of_pid(facts.init_pid) if facts.init_pid > 0 else None
        if view is None or not any(facts.id in str(d) for d in view.dirs.values()):
            # A remote engine: its pids mean nothing here, so never signal them.
            self._cgroup_note = "no: the engine's processes are not visible on this host"
            return
        self._view = view
        end = time.monotonic() + 5.0
        members = view.pids()
        while len(members) < 2 and time.monotonic() < end:
            time.sleep(0.01)
            members = view.pids()
        self._base_pids = frozenset(members)
        if cgroups_usable():
            self._cgroup_note = f"yes (cgroup v{view.version})"
        else:
            self._cgroup_note = "no: control groups are not writable here (not root?)"

    def _discard(self, container: Any) -> None:
        if container is None:
            return
        with contextlib.suppress(*_ENGINE_ERRORS):
            container.remove(force=True)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            running = list(self._running.values())
        facts, view = self._facts, self._view
        for item in running:
            if item.cgroup is not None:
                with contextlib.suppress(OSError):
                    item.cgroup.kill_all(deadline_s=_KILL_DEADLINE_S)
        if view is not None:
            _remove_exec_cgroups(view)
        error: SandboxError | None = None
        if facts is not None and self._client is not None:
            try:
                self._client.api.remove_container(facts.id, force=True)
            except docker.errors.NotFound:
                pass
            except _ENGINE_ERRORS as exc:
                error = _engine_error(f"removing sandbox container {facts.name}", exc)
        if error is None:
            self._release_noexec()  # the container's binds are gone with it
        if self._owns_client and self._client is not None:
            with contextlib.suppress(*_ENGINE_ERRORS):
                self._client.close()
        if error is not None:
            raise error

    def describe(self) -> dict[str, str]:
        facts = self._facts
        return {
            "backend": self.name,
            "image": facts.image_tag if facts else image_tag(self.spec.profile),
            "container_id": facts.id if facts else "",
            "container_name": facts.name if facts else "",
            "per_command_cgroups": self._cgroup_note,
            "workspace_writable": str(self.spec.workspace_writable).lower(),
        }

    # -- commands ------------------------------------------------------------------------

    def exec(self, request: ExecRequest, cancel: CancelToken | None = None) -> ExecResult:
        facts = self._require_running()
        assert self._client is not None
        api = self._client.api
        limits, capped = self._effective_limits(request.limits)
        item = _Exec("")
        remote = self._view is None
        if remote:
            item.pidfile = f"/tmp/.ramp-exec-{uuid.uuid4().hex[:12]}.pid"
        file_blocks = "-"
        if limits.file_size_mb != self.spec.limits.file_size_mb:
            file_blocks = str(limits.file_size_mb * _MIB // 512)
        command = [
            "/bin/sh",
            "-c",
            _WRAPPER,
            "ramp-exec",
            file_blocks,
            item.pidfile or "-",
            *policy_argv(self.spec, request, remount=False),
        ]
        environment = [f"{k}={v}" for k, v in {**_BASE_ENV, **request.env}.items()]
        workdir = posixpath.normpath(posixpath.join(WORKSPACE_MOUNT, request.cwd))
        try:
            item.exec_id = api.exec_create(
                facts.id,
                command,
                stdout=True,
                stderr=True,
                stdin=True,
                tty=False,
                environment=environment,
                workdir=workdir,
                user=self._user,
            )["Id"]
        except _ENGINE_ERRORS as exc:
            raise self._exec_error("creating the command", exc) from exc

        with self._lock:
            if self._closed:
                raise SandboxClosedError("this docker sandbox is closed; open a new one")
            try:
                attached = api.exec_start(item.exec_id, socket=True)
            except _ENGINE_ERRORS as exc:
                raise self._exec_error("starting the command", exc) from exc
            try:
                item.pid = self._wait_for_pid(item.exec_id)
            except (*_ENGINE_ERRORS, SandboxError) as exc:
                # Closing the connection gives the waiting wrapper EOF instead of "go".
                with contextlib.suppress(OSError, AttributeError):
                    attached.close()
                if isinstance(exc, SandboxError):
                    raise
                raise self._exec_error("starting the command", exc) from exc
            self._running[item.exec_id] = item
        try:
            with watching(cancel) as cancelled:
                return self._run(item, attached, request, limits, capped, cancelled)
        finally:
            with self._lock:
                self._running.pop(item.exec_id, None)
            self._cleanup(item)

    def _require_running(self) -> _ContainerFacts:
        if self._closed:
            raise SandboxClosedError("this docker sandbox is closed; open a new one")
        if self._facts is None:
            raise SandboxError("the docker sandbox is not started; call start(workspace) first")
        return self._facts

    def _exec_error(self, what: str, exc: BaseException) -> SandboxError:
        if self._closed:
            return SandboxClosedError(f"the sandbox was closed while {what}")
        return _engine_error(f"{what} in the sandbox", exc)

    def _effective_limits(self, limits: ExecLimits) -> tuple[ExecLimits, dict[str, float | int]]:
        """A command cannot get more than the container has; returns what was capped."""
        ceiling = self.spec.limits
        capped: dict[str, float | int] = {}
        for field in _CAPPED_LIMITS:
            asked, most = getattr(limits, field), getattr(ceiling, field)
            if asked > most:
                capped[field] = most
        return (limits.model_copy(update=capped) if capped else limits), capped

    def _wait_for_pid(self, exec_id: str) -> int | None:
        """The exec's host pid, or None when it failed to start (e.g. a missing cwd)."""
        assert self._client is not None
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

    def _confine(self, item: _Exec, limits: ExecLimits, notes: list[str]) -> CgroupView | None:
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
        name = f"{_CGROUP_PREFIX}{uuid.uuid4().hex[:12]}"
        group = ExecCgroup.create(
            name,
            memory_bytes=limits.memory_mb * _MIB,
            pids_max=limits.pids,
            cpus=limits.cpus,
            parent=view,
        )
        if group is not None:
            try:
                group.add(item.pid)
            except OSError as exc:
                group.remove()
                group = None
                reason = f"moving the command into its control group failed: {exc}"
            else:
                item.cgroup = group
                return group
        else:
            reason = "a per-command control group could not be created"
            ExecCgroup({k: d / name for k, d in view.dirs.items()}, view.version).remove()
        notes.append(
            f"{reason}; the sandbox's container limits applied instead "
            f"(memory {self.spec.limits.memory_mb} MB, {self.spec.limits.pids} processes, "
            f"{self.spec.limits.cpus:g} CPUs)"
        )
        return view

    def _run(
        self,
        item: _Exec,
        attached: Any,
        request: ExecRequest,
        limits: ExecLimits,
        capped: dict[str, float | int],
        cancelled: int | None = None,
    ) -> ExecResult:
        """Feed and read the exec until it ends; a limit or ``cancelled`` (a descriptor
        that turns readable) kills it."""
        notes: list[str] = []
        stdout = CappedStream(limits.output_bytes)
        stderr = CappedStream(limits.output_bytes)
        demux = _Demux(stdout, stderr)
        oom_group = self._confine(item, limits, notes)
        oom_before = oom_group.oom_kills() if oom_group is not None else 0
        sock = _raw_socket(attached)
        exited = self._watch_exit(item)
        timed_out = output_limited = disk_limited = killed = False
        disk = None
        if self.spec.disk_mb is not None and self._disk_roots:
            disk = DiskWatch(self._disk_roots, self.spec.disk_mb << 20)
        started = time.monotonic()
        ended: float | None = None
        try:
            sock.setblocking(False)
            sock_fd = sock.fileno()
            pending: memoryview | None = memoryview(b"go\n" + request.stdin)
            deadline = started + limits.timeout_s
            while True:
                now = time.monotonic()
                if now >= deadline:
                    if ended is not None:
                        notes.append("the output stream did not close after the command ended")
                        break
                    timed_out = killed = True
                    ended = now
                    self._kill_tree(item)
                    deadline = now + _DRAIN_S
                    continue
                if disk is not None and not killed and disk.over():
                    disk_limited = killed = True
                    ended = now
                    self._kill_tree(item)
                    deadline = now + _DRAIN_S
                    continue
                watched = [fd for fd in (sock_fd, exited, cancelled) if fd is not None]
                writers = [sock_fd] if pending is not None else []
                wait = deadline - now if disk is None else min(deadline - now, POLL_S)
                readable, writable, _ = select.select(watched, writers, [], wait)
                if writable and pending is not None:
                    pending = self._send_some(sock, pending)
                if cancelled is not None and cancelled in readable:
                    cancelled = None
                    if not killed:
                        killed = True
                        notes.append("the call was cancelled, so the command was killed")
                        ended = ended or time.monotonic()
                        self._kill_tree(item)
                        deadline = time.monotonic() + _DRAIN_S
                if exited is not None and exited in readable:
                    # The command is done. Whatever it left running in the background would
                    # hold the output pipes open (the engine waits ~2 s for them), so it goes now.
                    os.close(exited)
                    exited = None
                    if ended is None:
                        ended = time.monotonic()
                        deadline = ended + _DRAIN_S
                    self._kill_tree(item)
                if sock_fd not in readable:
                    continue
                try:
                    data = sock.recv(_READ_CHUNK)
                except (BlockingIOError, InterruptedError):
                    continue
                except ConnectionResetError:
                    data = b""
                if not data:
                    break
                if not demux.feed(data) and not killed:
                    output_limited = killed = True
                    ended = ended or time.monotonic()
                    self._kill_tree(item)
                    deadline = time.monotonic() + _DRAIN_S
        except OSError as exc:
            self._kill_tree(item)
            raise self._exec_error("reading the command's output", exc) from exc
        finally:
            if exited is not None:
                os.close(exited)
            with contextlib.suppress(OSError):
                sock.close()
            with contextlib.suppress(OSError, AttributeError):
                attached.close()
        duration = (ended or time.monotonic()) - started
        exit_code = self._exit_code(item.exec_id)
        if self._closed and not killed:
            killed = True
            notes.append("the sandbox was closed while the command ran")
        if item.cgroup is not None:
            with contextlib.suppress(OSError):
                item.cgroup.kill_all(deadline_s=_KILL_DEADLINE_S)
        oom_killed = oom_group is not None and oom_group.oom_kills() > oom_before
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
        raw = RawExit(
            returncode=None if killed else exit_code,
            signal_number=signal_number,
            timed_out=timed_out,
            oom_killed=oom_killed,
            output_limited=output_limited,
            disk_limited=disk_limited,
            killed_by_sandbox=killed,
            duration_s=duration,
            notes=notes,
        )
        return build_result(raw, stdout, stderr, backend=self.name, timeout_s=limits.timeout_s)

    def _watch_exit(self, item: _Exec) -> int | None:
        """A pidfd that turns readable when the command's own process exits (local engine)."""
        if self._view is None or item.pid is None:
            return None
        try:
            return os.pidfd_open(item.pid)
        except OSError:
            return None

    @staticmethod
    def _send_some(sock: socket.socket, pending: memoryview) -> memoryview | None:
        """Write what the socket takes; half-close once stdin is all sent."""
        try:
            sent = sock.send(pending[:_READ_CHUNK])
        except (BlockingIOError, InterruptedError):
            return pending
        except (BrokenPipeError, ConnectionResetError):
            return None  # the command is gone; its output still gets read
        pending = pending[sent:]
        if len(pending):
            return pending
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_WR)
        return None

    def _exit_code(self, exec_id: str) -> int | None:
        assert self._client is not None
        end = time.monotonic() + _EXIT_WAIT_S
        delay = 0.001
        while True:
            try:
                info = self._client.api.exec_inspect(exec_id)
            except _ENGINE_ERRORS as exc:
                if self._closed:
                    return None
                raise self._exec_error("reading the command's exit status", exc) from exc
            if not info.get("Running"):
                code = info.get("ExitCode")
                return None if code is None else int(code)
            if time.monotonic() > end:
                return None
            time.sleep(delay)
            delay = min(delay * 2, 0.05)

    def _kill_tree(self, item: _Exec) -> None:
        """SIGKILL the command and everything it started."""
        if item.cgroup is not None:
            try:
                item.cgroup.kill_all(deadline_s=_KILL_DEADLINE_S)
            except OSError as exc:
                _log.warning("could not empty control group of exec %s: %s", item.exec_id, exc)
        if self._view is not None and item.pid is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(item.pid, signal.SIGKILL)
            self._kill_where(lambda pid: _session_of(pid) == item.pid)
        elif item.pidfile is not None:
            self._remote_kill(item.pidfile)

    def _remote_kill(self, pidfile: str) -> None:
        """Without a host view, kill the command's process group from inside the container."""
        facts = self._facts
        if facts is None or self._client is None:
            return
        script = f'p=$(cat {pidfile} 2>/dev/null) && kill -9 -- "-$p" "$p"; rm -f {pidfile}'
        with contextlib.suppress(*_ENGINE_ERRORS):
            exec_id = self._client.api.exec_create(
                facts.id, ["/bin/sh", "-c", script], user=self._user
            )
            self._client.api.exec_start(exec_id["Id"])

    def _kill_where(self, selected: Any) -> None:
        """SIGKILL container-level processes matching ``selected`` until none are left."""
        view = self._view
        if view is None:
            return
        end = time.monotonic() + _KILL_DEADLINE_S
        while True:
            victims = [p for p in view.pids() if p not in self._base_pids and selected(p)]
            if not victims:
                return
            if time.monotonic() > end:
                _log.warning("processes %s in sandbox %s survive SIGKILL", victims, self._facts)
                return
            for pid in victims:
                _kill(pid)
            time.sleep(0.005)

    def _cleanup(self, item: _Exec) -> None:
        """Remove the exec's group and sweep: nothing outlives the command that started it."""
        if item.cgroup is not None:
            with contextlib.suppress(OSError):
                item.cgroup.kill_all(deadline_s=_KILL_DEADLINE_S)
            item.cgroup.remove()
        if self._view is None:
            if item.pidfile is not None and not self._closed:
                self._remote_kill(item.pidfile)
            return
        with self._lock:
            protected = {other.pid for other in self._running.values() if other.pid is not None}
            try:
                self._kill_where(lambda pid: _session_of(pid) not in protected)
            except OSError as exc:
                _log.warning("sweeping sandbox %s failed: %s", self._facts, exc)


def gc_containers(client: DockerClient | None = None, *, all_owners: bool = False) -> list[str]:
    """Remove RAMP sandbox containers whose owning process is gone (or all); their names."""
    owned = client is None
    engine = client or docker_client()
    removed: list[str] = []
    try:
        try:
            found = engine.api.containers(all=True, filters={"label": SANDBOX_LABEL})
        except _ENGINE_ERRORS as exc:
            raise _engine_error("listing RAMP sandbox containers", exc) from exc
        for entry in found:
            labels = entry.get("Labels") or {}
            owner = labels.get(OWNER_LABEL, "")
            facts = _OwnerLabels(
                name=(entry.get("Names") or [entry["Id"][:12]])[0].lstrip("/"),
                owner_pid=int(owner) if owner.isdigit() else None,
            )
            if not all_owners and facts.owner_pid is not None and pid_alive(facts.owner_pid):
                continue
            _clear_container_cgroups(engine, entry["Id"])
            try:
                engine.api.remove_container(entry["Id"], force=True)
            except docker.errors.NotFound:
                continue
            except _ENGINE_ERRORS as exc:
                raise _engine_error(f"removing container {facts.name}", exc) from exc
            removed.append(facts.name)
    finally:
        if owned:
            with contextlib.suppress(*_ENGINE_ERRORS):
                engine.close()
    return removed


def _clear_container_cgroups(client: DockerClient, container_id: str) -> None:
    """Per-command groups would keep the engine from removing the container's own groups."""
    try:
        pid = int(client.api.inspect_container(container_id)["State"].get("Pid") or 0)
    except _ENGINE_ERRORS:
        return
    view = CgroupView.of_pid(pid) if pid > 0 else None
    if view is not None and any(container_id in str(d) for d in view.dirs.values()):
        _remove_exec_cgroups(view)


register_backend("docker", DockerBackend)
