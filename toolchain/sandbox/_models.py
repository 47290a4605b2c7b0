"""The sandbox boundary: what a command asks for and what comes back."""

from __future__ import annotations

import posixpath
from enum import StrEnum
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from toolchain._image import MOUNT_ROOT
from toolchain._manifest import Profile

__all__ = [
    "TRUNCATION_MARKER",
    "ExecLimits",
    "ExecRequest",
    "ExecResult",
    "Mount",
    "Outcome",
    "SandboxSpec",
]

TRUNCATION_MARKER = (
    "\n[ramp: output truncated after {limit} bytes; {dropped} more bytes were discarded]\n"
)


class Outcome(StrEnum):
    """How a command ended, most specific reason first."""

    OK = "ok"
    NONZERO = "nonzero"
    TIMEOUT = "timeout"
    OUT_OF_MEMORY = "out-of-memory"
    OUTPUT_LIMIT = "output-limit"
    KILLED = "killed"


class ExecLimits(BaseModel):
    """Hard limits for one command. Every backend enforces all of them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    timeout_s: float = Field(default=60.0, gt=0, le=24 * 3600, description="wall-clock limit")
    memory_mb: int = Field(default=2048, ge=16, le=1024 * 1024, description="resident memory")
    cpus: float = Field(default=1.0, gt=0, le=256, description="CPU share, in cores")
    pids: int = Field(
        default=256, ge=4, le=65536, description="processes and threads alive at once"
    )
    output_bytes: int = Field(default=1 << 20, ge=1024, description="per stream, stdout and stderr")
    file_size_mb: int = Field(default=1024, ge=1, description="largest file a command may write")

    def merged(self, **overrides: float | int | None) -> ExecLimits:
        """A copy with the non-None overrides applied (validated)."""
        changes = {k: v for k, v in overrides.items() if v is not None}
        return self if not changes else ExecLimits.model_validate(self.model_dump() | changes)


class ExecRequest(BaseModel):
    """One command: an argv list or a shell string, run in the workspace."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    argv: tuple[str, ...] | None = None
    shell: str | None = None
    cwd: str = Field(default=".", description="relative to the workspace root")
    env: dict[str, str] = Field(default_factory=dict)
    stdin: bytes = b""
    limits: ExecLimits = Field(default_factory=ExecLimits)

    @model_validator(mode="after")
    def _one_command(self) -> Self:
        if (self.argv is None) == (self.shell is None):
            raise ValueError("give exactly one of argv (a list of arguments) or shell (a string)")
        if self.argv is not None and not self.argv:
            raise ValueError("argv is empty; give at least the program to run")
        return self

    @field_validator("cwd")
    @classmethod
    def _relative_cwd(cls, cwd: str) -> str:
        parts = cwd.replace("\\", "/").split("/")
        if cwd.startswith("/") or ".." in parts or "\x00" in cwd:
            raise ValueError(
                f"cwd {cwd!r} must be a path inside the workspace, relative to its root (like 'build')"
            )
        return cwd

    @field_validator("env")
    @classmethod
    def _clean_env(cls, env: dict[str, str]) -> dict[str, str]:
        for key, value in env.items():
            if not key or "=" in key or "\x00" in key or "\x00" in value:
                raise ValueError(f"environment variable {key!r} is not a valid name=value pair")
        return env

    def command(self) -> tuple[str, ...]:
        if self.argv is not None:
            return self.argv
        assert self.shell is not None
        return ("/bin/sh", "-c", self.shell)


class ExecResult(BaseModel):
    """What a command did. ``outcome`` is the one field to branch on."""

    outcome: Outcome
    exit_code: int | None = Field(
        description="the exit status as the sandbox reports it (128+N after signal N), "
        "or None when the supervisor itself killed it"
    )
    signal: str | None = Field(default=None, description="e.g. SIGKILL, when a signal ended it")
    stdout: str
    stderr: str
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    duration_s: float
    backend: str
    detail: str = Field(default="", description="why the outcome is what it is, in words")

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK


class Mount(BaseModel):
    """A host directory shown inside the sandbox under ``/ramp`` (read-only by default)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: Path
    target: str = Field(description="absolute path under /ramp, e.g. /ramp/case")
    writable: bool = False

    @field_validator("target")
    @classmethod
    def _under_mount_root(cls, target: str) -> str:
        normal = posixpath.normpath(target)
        if not normal.startswith(MOUNT_ROOT + "/") or normal != target:
            raise ValueError(
                f"mount target {target!r} must be a normalised path under {MOUNT_ROOT}/, "
                f"like {MOUNT_ROOT}/case"
            )
        return target


class SandboxSpec(BaseModel):
    """How a sandbox is set up: which environment, and the default limits per command."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    profile: Profile = Profile.DEV
    workspace_writable: bool = True
    limits: ExecLimits = Field(default_factory=ExecLimits)
    tmp_size_mb: int = Field(default=512, ge=1)
    disk_mb: int | None = Field(
        default=None,
        ge=1,
        description="most the writable workspace and mounts may hold on the host's disk; a "
        "command that takes them past it is killed (output-limit). None: no cap",
    )
    labels: dict[str, str] = Field(default_factory=dict, description="e.g. the run id")
    mounts: tuple[Mount, ...] = ()

    @field_validator("profile")
    @classmethod
    def _sandbox_profile(cls, profile: Profile) -> Profile:
        if profile is Profile.HOST:
            raise ValueError("a sandbox runs the 'dev' or 'minimal' profile, not 'host'")
        return profile
