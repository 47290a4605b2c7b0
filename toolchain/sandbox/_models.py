"""The sandbox boundary: what a command asks for and what comes back."""

from __future__ import annotations

import posixpath
import re
from enum import StrEnum
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from toolchain._image import MOUNT_ROOT, SANDBOX_GID, SANDBOX_UID, WORKSPACE_MOUNT
from toolchain._manifest import Profile

__all__ = [
    "TRUNCATION_MARKER",
    "ExecLimits",
    "ExecPolicy",
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
    stdin_file: str | None = Field(
        default=None, description="a sandbox path to read stdin from (exec-policy sandboxes)"
    )
    stdout_file: str | None = Field(
        default=None,
        description="a sandbox path to write stdout to, created or truncated, never through a "
        "symlink (exec-policy sandboxes: the command then needs no shell to redirect)",
    )
    stderr_file: str | None = Field(
        default=None, description="a sandbox path to write stderr to, like stdout_file"
    )
    create_files: tuple[str, ...] = Field(
        default=(),
        description="sandbox paths of files made new and empty before the command starts "
        "(exec-policy sandboxes): with own_files_only, the only files it may open for writing",
    )
    clear_env: bool = Field(
        default=False,
        description="start the command with ``env`` as its whole environment, without the "
        "sandbox's defaults (exec-policy sandboxes)",
    )
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

    @field_validator("stdin_file", "stdout_file", "stderr_file")
    @classmethod
    def _absolute_file(cls, path: str | None) -> str | None:
        if path is not None and (not path.startswith("/") or "\x00" in path):
            raise ValueError(f"redirection {path!r} must be an absolute path inside the sandbox")
        return path

    @field_validator("create_files")
    @classmethod
    def _absolute_files(cls, paths: tuple[str, ...]) -> tuple[str, ...]:
        for path in paths:
            if not _SANDBOX_PATH.match(path) or path != posixpath.normpath(path):
                raise ValueError(f"file to create {path!r} must be a normalised absolute path")
        return paths

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


_SANDBOX_PATH = re.compile(r"^(/[^/\x00]+)+$")


class ExecPolicy(BaseModel):
    """What a sandboxed command may execute, enforced by the kernel on it and all it starts.

    With a policy, every command starts under the exec-policy launcher
    (``toolchain/sandbox/_launcher.py``): Landlock lets it ``execve`` only files beneath
    ``exec_paths`` and write only to the sandbox's writable places, every writable place is
    mounted ``noexec`` (so nothing written can be mapped executable), and seccomp refuses
    ``memfd_create`` and, with ``deny_exec_memory``, every way of making writable or
    anonymous memory executable. Used where an agent's programs run at grading: they must
    not be able to run a compiler, an interpreter or code they produce at run time.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    exec_paths: tuple[str, ...] = Field(
        default=("/workspace", "/usr"),
        description="absolute sandbox paths (files or directories) whose files may be executed; "
        "read-only places only",
    )
    deny_exec_memory: bool = Field(
        default=True,
        description="refuse executable memory that is anonymous or writable (W^X); False only "
        "for emulators that translate code at run time (qemu, valgrind)",
    )
    exec_tmp: bool = Field(
        default=False,
        description="leave /tmp mountable executable (valgrind maps its client from there); "
        "execve of a file there is still refused",
    )
    no_exec_from: tuple[str, ...] = Field(
        default=(),
        description="fixed-address ELF executables (sandbox paths) whose code may not call "
        "execve: valgrind's tool makes its guest's system calls, so naming it means the "
        "measured program can start no process",
    )
    exec_command_only: bool = Field(
        default=False,
        description="the command's own file (beneath exec_paths) is the one file that may be "
        "executed: the program may re-execute itself, nothing else",
    )
    static_command: bool = Field(
        default=False,
        description="the command must be a statically linked executable without an executable "
        "stack (checked before it starts), and nothing may be mapped executable after its "
        "execve: such a program needs no mapping of code, so no ELF loader can run, not even "
        "one it carries (needs deny_exec_memory)",
    )
    own_files_only: bool = Field(
        default=False,
        description="a command may write only the files its request creates or redirects to "
        "and /tmp, and may make, remove, link or rename no file but a regular one in /tmp: "
        "nothing another command in the sandbox wrote can be touched or replaced",
    )
    solitary: bool = Field(
        default=False,
        description="the command stays one process: it is killed (SIGSYS) if it or anything "
        "it runs tries to fork, clone, trace, signal another process, open a socket, use "
        "io_uring or AIO, change file modes or owners, make or rename files, mount, change its "
        "namespaces, restrict itself further (seccomp, Landlock) or lower its file-size limit",
    )

    @field_validator("exec_paths", "no_exec_from")
    @classmethod
    def _absolute_paths(cls, paths: tuple[str, ...]) -> tuple[str, ...]:
        for path in paths:
            if not _SANDBOX_PATH.match(path) or path != posixpath.normpath(path):
                raise ValueError(
                    f"exec path {path!r} must be a normalised absolute path, like /usr/bin/qemu-riscv64"
                )
        return paths

    @model_validator(mode="after")
    def _static_means_w_x(self) -> Self:
        if self.static_command and not self.deny_exec_memory:
            raise ValueError("static_command needs deny_exec_memory (it forbids all code mapping)")
        return self


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
    uid: int = Field(
        default=SANDBOX_UID,
        ge=1,
        description="the unprivileged user every command runs as (a run's own uid for its "
        "sandboxes; the shared sandbox user for the judge and golden builds)",
    )
    gid: int = Field(default=SANDBOX_GID, ge=1, description="its group")
    exec_policy: ExecPolicy | None = Field(
        default=None,
        description="restrict what commands may execute (grading); None: no restriction (the "
        "agent's development sandbox)",
    )

    @field_validator("profile")
    @classmethod
    def _sandbox_profile(cls, profile: Profile) -> Profile:
        if profile is Profile.HOST:
            raise ValueError("a sandbox runs the 'dev' or 'minimal' profile, not 'host'")
        return profile

    def writable_paths(self) -> tuple[str, ...]:
        """Where commands may write, inside the sandbox (always noexec under a policy)."""
        mounts = tuple(m.target for m in self.mounts if m.writable)
        return ("/tmp", "/dev", *mounts) + ((WORKSPACE_MOUNT,) if self.workspace_writable else ())

    @model_validator(mode="after")
    def _exec_only_read_only(self) -> Self:
        if self.exec_policy is None:
            return self
        for path in self.exec_policy.exec_paths:
            for writable in (*self.writable_paths(), "/proc"):
                if path == writable or path.startswith(writable + "/"):
                    raise ValueError(
                        f"exec path {path} is in {writable}, where commands can write; an exec "
                        "policy allows only read-only places (mount it read-only or drop it)"
                    )
        return self
