"""The local backend: NO isolation. Only behind an explicit unsafe flag, and it says so."""

from __future__ import annotations

import logging
from pathlib import Path

from toolchain._errors import SandboxClosedError, SandboxUnavailableError
from toolchain.sandbox._backend import SandboxBackend, register_backend
from toolchain.sandbox._cancel import CancelToken
from toolchain.sandbox._capture import build_result
from toolchain.sandbox._models import ExecRequest, ExecResult, SandboxSpec
from toolchain.sandbox._policy import policy_argv
from toolchain.sandbox._process import supervise

__all__ = ["UNSAFE_WARNING", "LocalBackend"]

_log = logging.getLogger(__name__)
UNSAFE_WARNING = (
    "UNSAFE local backend: the command ran on the host with no isolation "
    "(no network, file system or privilege boundary; only time and output limits)"
)


class LocalBackend(SandboxBackend):
    name = "local"
    isolated = False

    def __init__(self, spec: SandboxSpec, *, allow_unsafe: bool = False) -> None:
        if not allow_unsafe:
            raise SandboxUnavailableError(
                "the local backend runs commands on the host with no isolation; "
                "pass allow_unsafe=True (CLI: --unsafe-local) if you really mean it"
            )
        if spec.mounts:
            raise SandboxUnavailableError(
                "the local backend cannot mount directories under /ramp; use docker or bwrap"
            )
        if spec.exec_policy is not None:
            raise SandboxUnavailableError(
                "the local backend cannot enforce an exec policy; use docker or bwrap"
            )
        self.spec = spec
        self._workspace: Path | None = None
        self._closed = False

    def start(self, workspace: Path) -> None:
        self._workspace = workspace.resolve()

    def exec(self, request: ExecRequest, cancel: CancelToken | None = None) -> ExecResult:
        if self._closed:
            raise SandboxClosedError("this local sandbox is closed; open a new one")
        if self._workspace is None:
            raise SandboxUnavailableError("start(workspace) must be called before exec")
        _log.warning(UNSAFE_WARNING)
        raw, stdout, stderr = supervise(
            policy_argv(self.spec, request, remount=False),
            limits=request.limits,
            stdin=request.stdin,
            env={"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(self._workspace)}
            | request.env,
            cwd=self._workspace / request.cwd,
            cancel=cancel,
        )
        raw.notes.append(UNSAFE_WARNING)
        return build_result(
            raw, stdout, stderr, backend=self.name, timeout_s=request.limits.timeout_s
        )

    def close(self) -> None:
        self._closed = True


def _refuse_implicit(spec: SandboxSpec) -> SandboxBackend:
    return LocalBackend(spec)


# By name the local backend always refuses; open_sandbox(..., allow_unsafe=True) builds it.
register_backend("local", _refuse_implicit)
