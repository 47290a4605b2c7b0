"""Sandboxes: one interface (:class:`Sandbox`), backends plugged in like httpx transports.

Backends: ``docker`` (a long-lived container per sandbox), ``bwrap`` (a namespace sandbox
per command), and ``local`` (no isolation, only with an explicit unsafe flag). ``auto``
picks docker when an engine answers and its image is built, else bwrap.
"""

from toolchain.sandbox import _bwrap as _bwrap
from toolchain.sandbox import _docker as _docker
from toolchain.sandbox._backend import (
    BackendFactory,
    SandboxBackend,
    backend_names,
    create_backend,
    register_backend,
)
from toolchain.sandbox._bwrap import BwrapBackend
from toolchain.sandbox._cancel import CancelToken, CommandCancelledError
from toolchain.sandbox._cgroup import gc_cgroups
from toolchain.sandbox._docker import DockerBackend, gc_containers
from toolchain.sandbox._local import UNSAFE_WARNING, LocalBackend
from toolchain.sandbox._models import (
    TRUNCATION_MARKER,
    ExecLimits,
    ExecPolicy,
    ExecRequest,
    ExecResult,
    Mount,
    Outcome,
    SandboxSpec,
)
from toolchain.sandbox._sandbox import Sandbox, choose_backend, open_sandbox

__all__ = [
    "TRUNCATION_MARKER",
    "UNSAFE_WARNING",
    "BackendFactory",
    "BwrapBackend",
    "CancelToken",
    "CommandCancelledError",
    "DockerBackend",
    "ExecLimits",
    "ExecPolicy",
    "ExecRequest",
    "ExecResult",
    "LocalBackend",
    "Mount",
    "Outcome",
    "Sandbox",
    "SandboxBackend",
    "SandboxSpec",
    "backend_names",
    "choose_backend",
    "create_backend",
    "gc_cgroups",
    "gc_containers",
    "open_sandbox",
    "register_backend",
]
