"""The Sandbox facade: one object per workspace, any backend behind it."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import anyio.to_thread
from pydantic import ValidationError

from toolchain._engine import engine_available
from toolchain._errors import SandboxClosedError, SandboxError, SandboxUnavailableError
from toolchain._image import find_rootfs
from toolchain._lifecycle import Closing
from toolchain._ownership import hand_over_tree
from toolchain.sandbox._backend import SandboxBackend, create_backend
from toolchain.sandbox._cancel import CancelToken
from toolchain.sandbox._local import LocalBackend
from toolchain.sandbox._models import ExecLimits, ExecRequest, ExecResult, SandboxSpec

__all__ = ["Sandbox", "choose_backend", "open_sandbox"]

_log = logging.getLogger(__name__)


def choose_backend(spec: SandboxSpec) -> str:
    """``auto``: docker when an engine answers and the image is there, else bwrap."""
    if engine_available():
        from toolchain._engine import docker_client
        from toolchain._image import find_image

        client = docker_client()
        try:
            if find_image(spec.profile, client) is not None:
                return "docker"
        finally:
            client.close()
        _log.info("Docker engine answers but the %s image is not built", spec.profile.value)
    if find_rootfs(spec.profile) is not None:
        return "bwrap"
    raise SandboxUnavailableError(
        f"no sandbox can run the {spec.profile.value} profile here: build the images and root "
        "file systems with `ramp toolchain image` (and start a Docker engine for the docker backend)"
    )


class Sandbox(Closing):
    """Commands run in one workspace through one backend; use as a context manager."""

    def __init__(self, workspace: Path, backend: SandboxBackend, spec: SandboxSpec) -> None:
        if not workspace.is_dir():
            raise SandboxError(f"workspace {workspace} is not a directory; create it first")
        self.workspace = workspace.resolve()
        self.backend = backend
        self.spec = spec
        self._closed = False
        _hand_over_writable(self.workspace, spec)
        backend.start(self.workspace)

    @property
    def backend_name(self) -> str:
        return self.backend.name

    def exec(
        self,
        command: Sequence[str] | str,
        *,
        cwd: str = ".",
        env: Mapping[str, str] | None = None,
        stdin: bytes | str = b"",
        limits: ExecLimits | None = None,
        timeout_s: float | None = None,
        memory_mb: int | None = None,
        output_bytes: int | None = None,
        stdin_file: str | None = None,
        stdout_file: str | None = None,
        cancel: CancelToken | None = None,
        stderr_file: str | None = None,
        create_files: Sequence[str] = (),
        clear_env: bool = False,
    ) -> ExecResult:
        """Run ``command`` (argv list, or a string for ``/bin/sh -c``) in the workspace.

        ``stdin_file``/``stdout_file`` (sandbox paths) redirect without a shell; they need a
        sandbox with an exec policy, whose launcher opens them before it execs the command;
        so do ``stderr_file``, ``create_files`` and ``clear_env`` (see ExecRequest).
        ``cancel``: cancelling it (from any thread) kills the command at once.
        """
        if self._closed:
            raise SandboxClosedError("this sandbox is closed; open a new one")
        if cancel is not None:
            cancel.require_live("the command")
        chosen = (limits or self.spec.limits).merged(
            timeout_s=timeout_s, memory_mb=memory_mb, output_bytes=output_bytes
        )
        try:
            request = ExecRequest(
                argv=None if isinstance(command, str) else tuple(command),
                shell=command if isinstance(command, str) else None,
                cwd=cwd,
                env=dict(env or {}),
                stdin=stdin.encode() if isinstance(stdin, str) else stdin,
                stdin_file=stdin_file,
                stdout_file=stdout_file,
                stderr_file=stderr_file,
                create_files=tuple(create_files),
                clear_env=clear_env,
                limits=chosen,
            )
        except ValidationError as exc:
            # A bad argument (a cwd outside the workspace, say) is the caller's to fix: say
            # which and why, as every RampError does, not as a model's validation report.
            problems = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
            raise SandboxError(f"the command was not run: {problems}") from exc
        return self.backend.exec(request, cancel)

    async def aexec(self, command: Sequence[str] | str, **options: object) -> ExecResult:
        """``exec`` in a worker thread, for async callers (the MCP server)."""
        return await anyio.to_thread.run_sync(lambda: self.exec(command, **options))  # type: ignore[arg-type]

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.backend.close()


def _hand_over_writable(workspace: Path, spec: SandboxSpec) -> None:
    """Commands run as the spec's uid in every backend, so what they may write is theirs.

    A directory whose root already belongs to that uid was made for it (a run's workspace
    is created owned by the run's uid) and is left alone: walking it would be slow, and
    that uid's own processes could race the walk. What root made for a sandbox (a grading
    snapshot, output directories) is handed over whole (``hand_over_tree``: no link is
    followed); nothing of the uid runs there yet. Not root, there is no other uid to give
    anything to.
    """
    if os.geteuid() != 0:
        return
    writable = [m.source for m in spec.mounts if m.writable]
    for directory in ([workspace] if spec.workspace_writable else []) + writable:
        resolved = directory.resolve()
        if resolved.lstat().st_uid != spec.uid:
            hand_over_tree(resolved, spec.uid, spec.gid)


def open_sandbox(
    workspace: Path,
    backend: str = "auto",
    spec: SandboxSpec | None = None,
    *,
    allow_unsafe: bool = False,
) -> Sandbox:
    """Open a sandbox on ``workspace`` with the named backend (auto, docker, bwrap, local)."""
    spec = spec or SandboxSpec()
    if backend == "local":
        return Sandbox(workspace, LocalBackend(spec, allow_unsafe=allow_unsafe), spec)
    name = choose_backend(spec) if backend == "auto" else backend
    return Sandbox(workspace, create_backend(name, spec), spec)
