"""The bubblewrap backend: one fresh namespace sandbox per command.

The command sees the profile's root file system read-only (the same files the Docker
image holds), the workspace at /workspace, a private /tmp, no network, and its own pid,
ipc and uts namespaces. As root we drop to the spec's uid (a run's own uid, or the shared
sandbox user 1000) before starting bwrap, so the sandbox is an unprivileged user namespace
owned by that uid, and the command runs as it.

Limits come from control groups where the machine allows them, and rlimits otherwise. Like
a container's, the sandbox has a group of its own, made when it starts, with the spec's
memory, process and CPU limits; every command's group is made inside it. So however many
commands run at once (a client can start them faster than they end), together they hold
no more than the spec's limits, and closing the sandbox kills them all.
"""

from __future__ import annotations

import contextlib
import json
import os
import posixpath
import select
import subprocess
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from toolchain._errors import SandboxClosedError, SandboxError, SandboxUnavailableError
from toolchain._hostcmd import which
from toolchain._image import MOUNT_ROOT, WORKSPACE_MOUNT, require_rootfs
from toolchain._paths import ramp_home, unreachable_parent
from toolchain.sandbox._backend import SandboxBackend, register_backend
from toolchain.sandbox._cancel import CancelToken
from toolchain.sandbox._capture import build_result
from toolchain.sandbox._cgroup import ExecCgroup, exec_cgroup_name
from toolchain.sandbox._disk import DiskWatch
from toolchain.sandbox._models import ExecLimits, ExecRequest, ExecResult, SandboxSpec
from toolchain.sandbox._policy import policy_argv
from toolchain.sandbox._process import supervise

__all__ = ["SANDBOX_ENV", "BwrapBackend"]

SANDBOX_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": WORKSPACE_MOUNT,
    "LANG": "C.UTF-8",
    "TMPDIR": "/tmp",
}


def _read_child_pid(fd: int, timeout_s: float) -> int | None:
    """bwrap's --info-fd JSON names the sandbox's first process (host pid)."""
    data = b""
    deadline = time.monotonic() + min(timeout_s, 30.0)
    while (remaining := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        data += chunk
        with contextlib.suppress(ValueError):
            return int(json.loads(data)["child-pid"])
    return None


def _rlimit_argv(prlimit: str, limits: ExecLimits, *, fallback: bool) -> list[str]:
    # prlimit as a launcher: root here may lack CAP_SYS_RESOURCE, so limits cannot be set
    # on the running sandbox from outside; they are set before bwrap starts and inherited.
    argv = [prlimit, f"--fsize={limits.file_size_mb << 20}", "--core=0"]
    if fallback:
        # Without a control group these are the only memory and process bounds.
        argv += [f"--as={limits.memory_mb << 20}", f"--nproc={limits.pids}"]
    return [*argv, "--"]


class BwrapBackend(SandboxBackend):
    name = "bwrap"

    def __init__(self, spec: SandboxSpec) -> None:
        self.spec = spec
        self._bwrap = which("bwrap")
        if self._bwrap is None:
            raise SandboxUnavailableError(
                "bubblewrap is not installed; run `ramp toolchain install` (apt: bubblewrap)"
            )
        prlimit = which("prlimit")
        if prlimit is None:
            raise SandboxUnavailableError("prlimit (util-linux) is missing on the host")
        self._prlimit = prlimit
        self._rootfs = require_rootfs(spec.profile).path
        self._workspace: Path | None = None
        self._closed = False
        self._as_root = os.geteuid() == 0
        self._group: ExecCgroup | None = None

    def start(self, workspace: Path) -> None:
        workspace = workspace.resolve()
        for path in (self._rootfs, workspace, *(m.source for m in self.spec.mounts)):
            blocked = unreachable_parent(path, self.spec.uid, self.spec.gid)
            if blocked is not None:
                raise SandboxUnavailableError(
                    f"the bwrap sandbox runs as uid {self.spec.uid}, which cannot enter {blocked} "
                    f"on the way to {path}; put the workspace somewhere it can reach (RAMP's "
                    f"own workspaces live under {ramp_home()}) or `chmod o+x {blocked}`"
                )
        self._workspace = workspace
        if self._group is None:
            limits = self.spec.limits
            self._group = ExecCgroup.create(
                exec_cgroup_name("bwrap", uuid.uuid4().hex[:12]),
                memory_bytes=limits.memory_mb << 20,
                pids_max=limits.pids,
                cpus=limits.cpus,
                nested=True,
            )

    def describe(self) -> dict[str, str]:
        group = self._group
        return {
            "backend": self.name,
            "root": str(self._rootfs),
            "profile": self.spec.profile.value,
            "workspace": str(self._workspace),
            "sandbox_cgroup": "none (rlimits only)" if group is None else str(group.dirs),
        }

    def _command_group(self, limits: ExecLimits) -> ExecCgroup | None:
        """The command's own group, inside the sandbox's (its limits at most the sandbox's:
        cgroup v1 refuses a child a larger CPU quota than its parent's)."""
        group = self._group
        ceiling = self.spec.limits
        made = ExecCgroup.create(
            exec_cgroup_name("bwrap", uuid.uuid4().hex[:12]),
            memory_bytes=min(limits.memory_mb, ceiling.memory_mb) << 20,
            pids_max=min(limits.pids, ceiling.pids),
            cpus=min(limits.cpus, ceiling.cpus),
            parent=group,
        )
        if made is None and group is not None:
            if self._closed:
                raise SandboxClosedError("this bwrap sandbox was closed; open a new one")
            raise SandboxError(
                "the command's control group could not be made inside the sandbox's, so it "
                "was not run (it would escape the sandbox's limits); see the log and retry"
            )
        return made

    def _bwrap_argv(
        self, request: ExecRequest, workspace: Path, *, info_fd: int, block_fd: int
    ) -> list[str]:
        assert self._bwrap is not None
        bind = "--bind" if self.spec.workspace_writable else "--ro-bind"
        argv = [
            self._bwrap,
            "--unshare-all",
            "--unshare-user",
            "--die-with-parent",
            "--new-session",
            "--hostname",
            "ramp",
            "--ro-bind",
            str(self._rootfs),
            "/",
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            "--size",
            str(self.spec.tmp_size_mb << 20),
            "--tmpfs",
            "/tmp",
            bind,
            str(workspace),
            WORKSPACE_MOUNT,
            *self._mount_argv(),
            "--chdir",
            self._start_dir(request),
            "--clearenv",
            "--info-fd",
            str(info_fd),
            "--block-fd",
            str(block_fd),
        ]
        if self.spec.exec_policy is None:
            # No user namespace inside: without one nothing in the sandbox can mount (a
            # cgroup hierarchy showing other runs' counters, proc, an overlay) or reach the
            # other namespace-gated kernel interfaces. (Under an exec policy the launcher
            # needs one for its noexec remount, and its seccomp filter then refuses every
            # namespace and mount call: toolchain.sandbox._launcher.)
            argv.append("--disable-userns")
        if not self._as_root:
            argv += ["--uid", str(self.spec.uid), "--gid", str(self.spec.gid)]
        for key, value in (SANDBOX_ENV | request.env).items():
            argv += ["--setenv", key, value]
        return [*argv, "--", *self._entered(request, policy_argv(self.spec, request, remount=True))]

    def _start_dir(self, request: ExecRequest) -> str:
        """Where bwrap puts the command: the workspace root when the directory is the
        agent's to shape. bwrap changes directory while it still holds descriptors of the
        host's file system, so a ``cwd`` naming a workspace symlink to ``/proc/self/fd/3``
        would leave the command on the host (a "leaky vessel"); the command enters it
        itself instead (:meth:`_entered`), where every name resolves inside the sandbox.
        Under an exec policy the directories are the grader's own (stage work directories)."""
        if self.spec.exec_policy is None:
            return WORKSPACE_MOUNT
        return posixpath.normpath(f"{WORKSPACE_MOUNT}/{request.cwd}")

    def _entered(self, request: ExecRequest, argv: Sequence[str]) -> list[str]:
        """``argv``, entering ``request.cwd`` from inside the sandbox first (see _start_dir)."""
        if self.spec.exec_policy is not None or posixpath.normpath(request.cwd) == ".":
            return list(argv)
        return ["/bin/sh", "-c", 'cd -- "$0" && exec "$@"', request.cwd, *argv]

    def _mount_argv(self) -> list[str]:
        if not self.spec.mounts:
            return []
        # The root file system is read-only: mount points are made on a tmpfs over /ramp.
        argv = ["--tmpfs", MOUNT_ROOT]
        for mount in self.spec.mounts:
            argv += ["--bind" if mount.writable else "--ro-bind", str(mount.source), mount.target]
        return argv

    def exec(self, request: ExecRequest, cancel: CancelToken | None = None) -> ExecResult:
        if self._closed:
            raise SandboxClosedError("this bwrap sandbox is closed; open a new one")
        workspace = self._workspace
        if workspace is None:
            raise SandboxUnavailableError("start(workspace) must be called before exec")
        limits = request.limits
        cgroup = self._command_group(limits)
        info_r, info_w = os.pipe()
        block_r, block_w = os.pipe()
        # Each descriptor is closed exactly once: closing a number twice could close one
        # that another thread's command has been given in the meantime.
        open_fds = {info_r, info_w, block_r, block_w}

        def close(fd: int) -> None:
            if fd in open_fds:
                open_fds.discard(fd)
                os.close(fd)

        argv = [
            *_rlimit_argv(self._prlimit, limits, fallback=cgroup is None),
            *self._bwrap_argv(request, workspace, info_fd=info_w, block_fd=block_r),
        ]
        as_user = self.spec.uid if self._as_root else None

        def admit(process: subprocess.Popen[bytes]) -> None:
            # bwrap has made the sandbox's first process and waits on block_fd: put it in
            # the control group now, so everything it starts is inside.
            close(info_w)
            close(block_r)
            child = _read_child_pid(info_r, limits.timeout_s)
            if child is None:
                return  # bwrap failed before making the sandbox; its own message says why
            if cgroup is not None:
                cgroup.add(child)
            with contextlib.suppress(OSError):
                os.write(block_w, b"1")

        try:
            raw, stdout, stderr = supervise(
                argv,
                limits=limits,
                stdin=request.stdin,
                env={"PATH": "/usr/bin:/bin"},
                cgroup=cgroup,
                pass_fds=(info_w, block_r),
                user=as_user,
                group=self.spec.gid if as_user is not None else None,
                on_spawn=admit,
                disk=self._disk_watch(workspace),
                cancel=cancel,
            )
        finally:
            for fd in (info_r, info_w, block_r, block_w):
                close(fd)
            if cgroup is not None:
                cgroup.kill_all()
                cgroup.remove()
        if cgroup is None:
            raw.notes.append("no control group available: memory and process limits are rlimits")
        return build_result(raw, stdout, stderr, backend=self.name, timeout_s=limits.timeout_s)

    def _disk_watch(self, workspace: Path) -> DiskWatch | None:
        if self.spec.disk_mb is None:
            return None
        roots = [m.source for m in self.spec.mounts if m.writable]
        if self.spec.workspace_writable:
            roots.insert(0, workspace)
        return DiskWatch(roots, self.spec.disk_mb << 20) if roots else None

    def close(self) -> None:
        """Kill every command still running and remove the sandbox's group."""
        self._closed = True
        group, self._group = self._group, None
        if group is not None:
            try:
                group.kill_all()
            except OSError as exc:
                raise SandboxError(f"closing the bwrap sandbox: {exc}") from exc
            group.remove()


register_backend("bwrap", BwrapBackend)
