"""What the server keeps per run: its workspace, its development sandbox, its runtime object."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from pydantic import BaseModel, Field

from golden._builder import RUNTIME_DIR
from golden._reference import INCLUDE_MOUNT
from grader._machine import StageMachine
from grader.ledger import Ledger, Run
from toolchain._errors import RampError, SandboxError
from toolchain._image import SANDBOX_GID, SANDBOX_UID
from toolchain._manifest import Profile
from toolchain.sandbox import ExecLimits, Mount, Outcome, Sandbox, SandboxSpec, open_sandbox
from toolchain.workspace import Workspace

__all__ = [
    "DEV_DISK_MB",
    "RV64_RUNTIME",
    "SCRATCH_MOUNT",
    "RunContext",
    "ServerSettings",
    "ServerState",
    "hand_over",
]

_log = logging.getLogger(__name__)

SCRATCH_MOUNT = "/ramp/scratch"
RV64_RUNTIME = f"{SCRATCH_MOUNT}/sylib-rv64.o"
_DEV_LIMITS = ExecLimits(timeout_s=600, memory_mb=4096, pids=512, output_bytes=512 << 10)
# The workspace and scratch live on the host's disk: a command filling them is stopped.
DEV_DISK_MB = 2048


class ServerSettings(BaseModel):
    """How the server behaves; the same for every run it serves."""

    ledger_url: str | None = Field(default=None, description="SQLAlchemy URL; None: the default")
    run_id: str | None = Field(default=None, description="stdio: the one run served")
    max_timeout_s: float = Field(default=600, gt=0, description="cap on run_command timeouts")
    progress_interval_s: float = Field(default=2.0, gt=0, le=5)


def hand_over(root: Path, path: Path) -> None:
    """Root writes files for the agent: give them (and new parents) to the sandbox user."""
    if os.geteuid() != 0:
        return
    try:
        if path.is_dir() and not path.is_symlink():
            for child in (path, *path.rglob("*")):
                if not child.is_symlink():
                    os.chown(child, SANDBOX_UID, SANDBOX_GID, follow_symlinks=False)
        elif path.exists() and not path.is_symlink():
            os.chown(path, SANDBOX_UID, SANDBOX_GID, follow_symlinks=False)
        parent = path.parent
        while parent != root and root in parent.parents:
            if parent.stat().st_uid != SANDBOX_UID:
                os.chown(parent, SANDBOX_UID, SANDBOX_GID, follow_symlinks=False)
            parent = parent.parent
    except OSError as exc:
        _log.warning("could not hand %s over to the sandbox user: %s", path, exc)


class RunContext:
    """One run as the server sees it. The sandbox is opened on first use."""

    def __init__(self, run: Run) -> None:
        self.run_id = run.id
        self.backend = run.sandbox
        self.workspace = Workspace(Path(run.workspace))
        self.home = Path(run.workspace).parent
        self.scratch = self.home / "mcp-scratch"
        self._box: Sandbox | None = None
        self._runtime_ready = False
        self._lock = threading.Lock()

    def sandbox(self) -> Sandbox:
        with self._lock:
            if self._box is None:
                self.scratch.mkdir(mode=0o755, exist_ok=True)
                self.scratch.chmod(0o755)
                spec = SandboxSpec(
                    profile=Profile.DEV,
                    limits=_DEV_LIMITS,
                    disk_mb=DEV_DISK_MB,
                    mounts=(
                        Mount(source=RUNTIME_DIR, target=INCLUDE_MOUNT),
                        Mount(source=self.scratch, target=SCRATCH_MOUNT, writable=True),
                    ),
                    labels={"io.ramp.purpose": "mcp", "io.ramp.run": self.run_id},
                )
                self._box = open_sandbox(self.workspace.root, self.backend, spec)
            return self._box

    def rv64_runtime(self) -> str:
        """The SysY runtime compiled for RV64 once per run; its path inside the sandbox."""
        box = self.sandbox()
        with self._lock:
            if not self._runtime_ready:
                built = box.exec(
                    "clang-19 --target=riscv64-unknown-linux-gnu -march=rv64gc -mabi=lp64d -O2 "
                    f"-c {INCLUDE_MOUNT}/sylib.c -o {RV64_RUNTIME}",
                    timeout_s=120,
                )
                if built.outcome is not Outcome.OK:
                    raise SandboxError(
                        f"building the RV64 runtime failed ({built.detail}): {built.stderr[-1000:]}"
                    )
                self._runtime_ready = True
        return RV64_RUNTIME

    def close(self) -> None:
        with self._lock:
            if self._box is not None:
                try:
                    self._box.close()
                except RampError as exc:
                    _log.warning("closing the sandbox of run %s: %s", self.run_id, exc)
                self._box = None


class ServerState:
    """The ledger, the stage machine and the run contexts, opened lazily, closed at shutdown."""

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self._ledger: Ledger | None = None
        self._machine: StageMachine | None = None
        self._runs: dict[str, RunContext] = {}
        self._lock = threading.Lock()

    @property
    def ledger(self) -> Ledger:
        with self._lock:
            if self._ledger is None:
                self._ledger = Ledger.open(self.settings.ledger_url)
            return self._ledger

    @property
    def machine(self) -> StageMachine:
        ledger = self.ledger
        with self._lock:
            if self._machine is None:
                self._machine = StageMachine(ledger)
            return self._machine

    def run(self, run_id: str) -> RunContext:
        with self._lock:
            known = self._runs.get(run_id)
        if known is not None:
            return known
        row = self.ledger.get_run(run_id)
        self.machine.start(run_id)
        with self._lock:
            return self._runs.setdefault(run_id, RunContext(row))

    def close(self) -> None:
        with self._lock:
            runs, self._runs = list(self._runs.values()), {}
            ledger, self._ledger = self._ledger, None
        for context in runs:
            context.close()
        if ledger is not None:
            ledger.close()
