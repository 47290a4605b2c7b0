"""The backend interface, like an httpx transport: the Sandbox facade delegates to one."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from toolchain._errors import SandboxUnavailableError
from toolchain.sandbox._cancel import CancelToken
from toolchain.sandbox._models import ExecRequest, ExecResult, SandboxSpec

__all__ = [
    "BackendFactory",
    "SandboxBackend",
    "backend_names",
    "create_backend",
    "register_backend",
]


class SandboxBackend(ABC):
    """Runs commands for one workspace. Implementations: docker, bwrap, local (unsafe)."""

    name: ClassVar[str]
    isolated: ClassVar[bool] = True

    @abstractmethod
    def start(self, workspace: Path) -> None:
        """Bind to ``workspace`` (an existing directory) and get ready to run commands."""

    @abstractmethod
    def exec(self, request: ExecRequest, cancel: CancelToken | None = None) -> ExecResult:
        """Run one command to completion (or until a limit stops it). Thread-safe.
        Cancelling ``cancel`` kills the command and everything it started at once."""

    @abstractmethod
    def close(self) -> None:
        """Release everything; no process or container of this sandbox survives. Idempotent."""

    def describe(self) -> dict[str, str]:
        """Facts for diagnostics (image, root file system, limits support)."""
        return {"backend": self.name}


BackendFactory = Callable[[SandboxSpec], SandboxBackend]
_REGISTRY: dict[str, BackendFactory] = {}


def register_backend(name: str, factory: BackendFactory) -> None:
    """Make a backend available by name (to `open_sandbox`, the CLI and run configs)."""
    _REGISTRY[name] = factory


def backend_names() -> tuple[str, ...]:
    return tuple(sorted(_REGISTRY))


def create_backend(name: str, spec: SandboxSpec) -> SandboxBackend:
    try:
        factory = _REGISTRY[name]
    except KeyError:
        raise SandboxUnavailableError(
            f"unknown sandbox backend {name!r}; choose one of: auto, {', '.join(backend_names())}"
        ) from None
    return factory(spec)
