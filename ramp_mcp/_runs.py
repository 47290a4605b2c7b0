"""What the server keeps per run: its workspace, its development sandbox, its runtime object.

A run's sandbox runs as the run's own uid (``runs.sandbox_uid``), on its capped workspace
and scratch (mounted again here when they are not: after a reboot, say), with the run's
reference directory read-only at ``/ramp/reference``. Once the run's wall-clock budget is
spent, :meth:`RunContext.require_budget` refuses everything that changes the workspace or
runs something.

A run runs at most :data:`MAX_COMMANDS` commands at once (:meth:`RunContext.command_slot`):
a slot is taken before a command starts and given back only when the command has really
ended, not when its call returns. A call the client cancels kills its command (see
``CancelToken``), so cancelled calls neither pile up commands nor hold slots for long.

While one of the run's stages is graded, its tools but ``status`` are refused and its
commands killed (:class:`~ramp_mcp._gate.GradingGate`, ``RunContext.gate``).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel, Field

from golden import INCLUDE_MOUNT, RUNTIME_DIR
from grader import REFERENCE_MOUNT, RunHome, StageMachine
from grader.ledger import Ledger, Run
from ramp_mcp._gate import GradingGate
from toolchain import (
    SANDBOX_GID,
    SANDBOX_UID,
    CapUsage,
    Profile,
    RampError,
    SandboxError,
    WorkspaceError,
    capped_usage,
    make_owned_dir,
)
from toolchain.sandbox import (
    CancelToken,
    ExecLimits,
    Mount,
    Outcome,
    Sandbox,
    SandboxSpec,
    open_sandbox,
)
from toolchain.workspace import ReadOnlyWorkspaceError, Workspace

__all__ = [
    "DEV_DISK_MB",
    "MAX_COMMANDS",
    "RV64_RUNTIME",
    "SCRATCH_MOUNT",
    "BudgetSpentError",
    "RunContext",
    "ServerSettings",
    "ServerState",
    "in_reference",
]

_log = logging.getLogger(__name__)

SCRATCH_MOUNT = "/ramp/scratch"
RV64_RUNTIME = f"{SCRATCH_MOUNT}/sylib-rv64.o"
_DEV_LIMITS = ExecLimits(timeout_s=600, memory_mb=4096, pids=512, output_bytes=512 << 10)
# Only where the kernel cannot cap the workspace and scratch (a run made without root, or
# before caps existed) does the supervisor poll them against this many MB.
DEV_DISK_MB = 2048
MAX_COMMANDS = 8
"""Commands (run_command, build, run_stage, run_rv64) one run may have running at once."""
_SLOT_POLL_S = 0.2


def in_reference(path: str) -> bool:
    """Whether a tool's path (or glob pattern) names something under ``/ramp/reference``."""
    return path == REFERENCE_MOUNT or path.startswith(REFERENCE_MOUNT + "/")


class BudgetSpentError(RampError):
    """The run's wall-clock budget is spent: nothing more may change or run."""


class ServerSettings(BaseModel):
    """How the server behaves; the same for every run it serves."""

    ledger_url: str | None = Field(default=None, description="SQLAlchemy URL; None: the default")
    run_id: str | None = Field(default=None, description="stdio: the one run served")
    max_timeout_s: float = Field(default=600, gt=0, description="cap on run_command timeouts")
    progress_interval_s: float = Field(default=2.0, gt=0, le=5)


class RunContext:
    """One run as the server sees it. The sandbox is opened on first use."""

    def __init__(self, run: Run, gate: GradingGate | None = None) -> None:
        self.run_id = run.id
        self.gate = gate or GradingGate()
        self.backend = run.sandbox
        self.uid = run.sandbox_uid or SANDBOX_UID
        self.gid = run.sandbox_uid or SANDBOX_GID
        layout = RunHome(workspace=Path(run.workspace))
        self.cap = layout.open()
        self.workspace = Workspace(Path(run.workspace), uid=self.uid, gid=self.gid)
        self.home = layout.home
        self.scratch = layout.scratch
        self.reference_dir = layout.reference
        self.budget_s = run.budget_s
        started = run.started_at or run.created_at
        if started.tzinfo is None:
            started = started.replace(tzinfo=UTC)
        self.deadline = None if run.budget_s is None else started + timedelta(seconds=run.budget_s)
        self._box: Sandbox | None = None
        self._reference: Workspace | None = None
        self._runtime_ready = False
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(MAX_COMMANDS)

    # -- the file trees ------------------------------------------------------------------

    def reference(self) -> Workspace:
        """The revealed reference outputs, read-only, shown as ``/ramp/reference``."""
        with self._lock:
            if self._reference is None:
                if not self.reference_dir.is_dir():
                    raise WorkspaceError(
                        f"no reference outputs have been revealed yet: they appear in "
                        f"{REFERENCE_MOUNT}/T<k>/ when stage k+1 opens (see status)"
                    )
                self._reference = Workspace(
                    self.reference_dir,
                    uid=self.uid,
                    gid=self.gid,
                    read_only=True,
                    label=REFERENCE_MOUNT,
                )
            return self._reference

    def files(self, path: str, *, changing: bool = False) -> Workspace:
        """The tree a file tool's path names: the references for ``/ramp/reference/...``
        (read-only: refused when ``changing``), the workspace for everything else."""
        if not in_reference(path):
            return self.workspace
        if changing:
            raise ReadOnlyWorkspaceError(
                f"{REFERENCE_MOUNT} holds the revealed reference outputs and is read-only; copy "
                "what you need into the workspace (read_file, then write_file) and change the copy"
            )
        return self.reference()

    # -- the budget ----------------------------------------------------------------------

    def budget_spent(self) -> bool:
        return self.deadline is not None and datetime.now(UTC) >= self.deadline

    def require_budget(self, machine: StageMachine) -> None:
        """Refuse (BudgetSpentError) once the run's wall-clock budget is spent."""
        if not self.budget_spent():
            return
        view = machine.status(self.run_id)  # resurrects the stage that was open
        states = ", ".join(f"{s.stage.value} {s.state}" for s in view.stages)
        raise BudgetSpentError(
            f"the run's wall-clock budget of {self.budget_s:g} s is spent: the stage that was "
            f"open has been resurrected and the run is finished ({states}). Nothing more can "
            "be written, run, built or submitted; you can still read the workspace and the "
            "references (list_files, read_file, glob, grep), the resources, and status."
        )

    # -- caps ----------------------------------------------------------------------------

    def workspace_usage(self) -> CapUsage | None:
        return capped_usage(self.workspace.root)

    def full_places(self) -> list[str]:
        """The capped places that are full, each with its usage and what to do."""
        found = []
        for label, path, where in (
            ("the workspace", self.workspace.root, "/workspace"),
            ("the scratch directory", self.scratch, SCRATCH_MOUNT),
        ):
            usage = capped_usage(path)
            if usage is not None and usage.full:
                found.append(
                    f"{label} ({where}) is full: {usage.describe()}; delete build outputs, "
                    "large or many small files you do not need (delete_path, or rm -rf in "
                    "run_command) and run the command again; nothing written before was lost"
                )
        return found

    # -- the sandbox ---------------------------------------------------------------------

    @contextlib.contextmanager
    def command_slot(self, cancel: CancelToken) -> Iterator[None]:
        """Hold one of the run's command slots while the block runs (on the thread that runs
        the command, so the slot is free again only when the command has ended). Waiting
        for a slot ends, with CommandCancelledError, once ``cancel`` is cancelled."""
        while not self._slots.acquire(timeout=_SLOT_POLL_S):
            cancel.require_live("the command")
        try:
            cancel.require_live("the command")
            yield
        finally:
            self._slots.release()

    def _spec(self) -> SandboxSpec:
        if not self.scratch.is_dir():  # a run made before scratch was capped
            make_owned_dir(self.scratch, self.uid, self.gid, mode=0o700)
        self.reference_dir.mkdir(mode=0o755, exist_ok=True)
        enforced = self.cap is not None and self.cap.enforced
        return SandboxSpec(
            profile=Profile.DEV,
            limits=_DEV_LIMITS,
            disk_mb=None if enforced else DEV_DISK_MB,
            mounts=(
                Mount(source=RUNTIME_DIR, target=INCLUDE_MOUNT),
                Mount(source=self.scratch, target=SCRATCH_MOUNT, writable=True),
                Mount(source=self.reference_dir, target=REFERENCE_MOUNT),
            ),
            labels={"io.ramp.purpose": "mcp", "io.ramp.run": self.run_id},
            uid=self.uid,
            gid=self.gid,
        )

    def sandbox(self) -> Sandbox:
        with self._lock:
            if self._box is None:
                self._box = open_sandbox(self.workspace.root, self.backend, self._spec())
            return self._box

    def reset_sandbox(self) -> None:
        """Forget the development sandbox (the next command opens a new one): grading kills
        every process of the run's uid, a container's own init among them."""
        with self._lock:
            box, self._box = self._box, None
        if box is not None:
            try:
                box.close()
            except RampError as exc:
                _log.warning("closing the sandbox of run %s: %s", self.run_id, exc)

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
            self.workspace.close()
            if self._reference is not None:
                self._reference.close()


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
        self.machine.start(run_id)
        row = self.ledger.get_run(run_id)
        gate = GradingGate(lambda: self.grading_stage(run_id))
        with self._lock:
            return self._runs.setdefault(run_id, RunContext(row, gate))

    def grading_stage(self, run_id: str) -> str | None:
        """The run's stage being graded according to the ledger (by any process), if any."""
        return next(
            (s.stage for s in self.ledger.stage_states(run_id) if s.state == "grading"), None
        )

    def close(self) -> None:
        with self._lock:
            runs, self._runs = list(self._runs.values()), {}
            ledger, self._ledger = self._ledger, None
        for context in runs:
            context.close()
        if ledger is not None:
            ledger.close()
