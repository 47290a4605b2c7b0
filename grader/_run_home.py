"""A run's home on the host: its own uid, its capped workspace and scratch, its references.

Every run gets an unprivileged uid of its own (gid: the same number) from
``UID_FIRST..UID_LAST``, unique in the ledger (``runs.sandbox_uid``). Every sandbox of the
agent's tools runs as it, so one run's processes cannot read, write or signal another run's.

Grading runs the run's build.sh and stage programs as a second uid of the run,
:func:`grading_uid` (the run's uid + ``GRADING_UID_OFFSET``: ``GRADING_UID_FIRST..
GRADING_UID_LAST``, derived, never stored, used by nothing else). The kernel keeps some
counters per uid across every namespace (inotify instances, the key quota, RLIMIT_NPROC);
were a graded program the agent's own uid, it could signal through them to a command of the
agent's running meanwhile. :func:`stop_processes_of` ends every process of the run's own uid
when a stage is claimed (whatever server started them).

::

    <runs root>/<run id>/          root, 0750, group: the run's gid
        workspace/                 capped: the run's uid, 0700 (ext4 image .workspace.cap.img)
        mcp-scratch/               capped: the run's uid, 0700 (the server's scratch mount)
        reference/                 root, 0750, group: the run's gid; T<k>/ 0755, files 0644
        mcp-token                  root, 0600
        submissions/<n>/snapshot   root

The workspace holds at most what a submission may hold (``MAX_WORKSPACE_BYTES``) and
``WORKSPACE_MAX_ENTRIES`` files and directories; the kernel enforces both
(:mod:`toolchain._capped`). The revealed references live beside the workspace, outside
its cap and its snapshots, read-only to the run (``/ramp/reference`` in its sandboxes).
"""

from __future__ import annotations

import os
import pwd
import secrets
import signal
import subprocess
from pathlib import Path

from pydantic import BaseModel

from grader._integrity import MAX_WORKSPACE_BYTES
from toolchain import (
    CapRecord,
    CapUsage,
    RampError,
    capped_usage,
    create_capped_dir,
    ensure_mounted,
    hand_over,
    read_record,
    release_capped_dir,
)

__all__ = [
    "GRADING_UID_FIRST",
    "GRADING_UID_LAST",
    "GRADING_UID_OFFSET",
    "REFERENCE_DIR",
    "SCRATCH_DIR",
    "SCRATCH_MAX_BYTES",
    "SCRATCH_MAX_ENTRIES",
    "UID_FIRST",
    "UID_LAST",
    "WORKSPACE_MAX_ENTRIES",
    "RunHome",
    "RunHomeError",
    "grading_uid",
    "pick_uid",
    "stop_processes_of",
]

UID_FIRST = 200_000
UID_LAST = 299_999
GRADING_UID_OFFSET = 100_000
"""A run's grading uid is its uid plus this: 300000..399999, a range nothing else uses."""
GRADING_UID_FIRST = UID_FIRST + GRADING_UID_OFFSET
GRADING_UID_LAST = UID_LAST + GRADING_UID_OFFSET
WORKSPACE_MAX_ENTRIES = 100_000
# The scratch holds the RV64 runtime object and the programs run_rv64 links.
SCRATCH_MAX_BYTES = 256 << 20
SCRATCH_MAX_ENTRIES = 4_096
REFERENCE_DIR = "reference"
SCRATCH_DIR = "mcp-scratch"


class RunHomeError(RampError):
    """A run's home could not be set up (the message says why)."""


def grading_uid(run_uid: int) -> int:
    """The uid (gid: the same number) grading runs a run's programs as: never the uid of the
    agent's own sandboxes, so no per-uid kernel counter is shared between the two."""
    if not UID_FIRST <= run_uid <= UID_LAST:
        raise RunHomeError(
            f"uid {run_uid} is not a run uid ({UID_FIRST}..{UID_LAST}): a run made before runs "
            "had uids of their own cannot be graded apart from its agent; make a new run"
        )
    return run_uid + GRADING_UID_OFFSET


def _account_free(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
    except KeyError:
        return True
    return False


def pick_uid(taken: set[int]) -> int:
    """A uid of the range that no run holds and no host account uses (nor its grading uid)."""
    free = UID_LAST - UID_FIRST + 1 - len(taken)
    for _ in range(1000 if free > 0 else 0):
        uid = UID_FIRST + secrets.randbelow(UID_LAST - UID_FIRST + 1)
        if uid not in taken and _account_free(uid) and _account_free(grading_uid(uid)):
            return uid
    raise RunHomeError(
        f"no free run uid left in {UID_FIRST}..{UID_LAST}; archive old runs to a new ledger"
    )


# Sends SIGKILL to every process the caller may signal: as a run's uid, every process of
# that uid in any namespace (docker's and bwrap's alike). kill(-1) walks the process list in
# one pass under the kernel's lock, so a fork racing it is killed too.
_KILL_ALL = """
import os, signal, time
for _ in range(5):
    try:
        os.kill(-1, signal.SIGKILL)
    except ProcessLookupError:
        break
    time.sleep(0.01)
"""


_SYSTEM_PYTHONS = ("/usr/bin/python3", "/usr/local/bin/python3")


def stop_processes_of(run_uid: int) -> None:
    """Kill every process running as ``run_uid`` (a run's own uid, never another): the
    agent's commands of every server process of the run. Not as root (a local run), there
    is nothing to do (it has no uid of its own to act on)."""
    if not UID_FIRST <= run_uid <= UID_LAST or os.geteuid() != 0:
        return
    # The system's python (RAMP's own may live where the run's uid cannot reach); procps'
    # kill (one pass) where there is none.
    python = next((p for p in _SYSTEM_PYTHONS if os.access(p, os.X_OK)), None)
    argv = (
        [python, "-I", "-S", "-c", _KILL_ALL] if python else ["/bin/kill", "-s", "KILL", "--", "-1"]
    )
    try:
        done = subprocess.run(
            argv,
            user=run_uid,
            group=run_uid,
            extra_groups=[],
            cwd="/",
            env={},
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise RunHomeError(f"the processes of uid {run_uid} could not be stopped: {exc}") from exc
    # Killed itself by SIGKILL: another stop of the same uid (two submits at once) killed
    # this one, which is the same job done.
    if python and done.returncode not in (0, -signal.SIGKILL):
        raise RunHomeError(
            f"the processes of uid {run_uid} could not be stopped: {done.stderr[-500:]!r}"
        )


class RunHome(BaseModel):
    """The paths of one run's home, derived from its workspace."""

    workspace: Path

    @property
    def home(self) -> Path:
        return self.workspace.parent

    @property
    def reference(self) -> Path:
        return self.home / REFERENCE_DIR

    @property
    def scratch(self) -> Path:
        return self.home / SCRATCH_DIR

    def create(self, uid: int) -> CapRecord:
        """Make the home for a new run of ``uid``: the capped workspace (empty, 0700, the
        run's) and scratch, and the root-owned reference directory. Returns the
        workspace's cap record."""
        self.home.mkdir(parents=True, exist_ok=True)
        _root_only(self.home, uid)
        record = create_capped_dir(
            self.workspace,
            max_bytes=MAX_WORKSPACE_BYTES,
            max_entries=WORKSPACE_MAX_ENTRIES,
            uid=uid,
            gid=uid,
        )
        create_capped_dir(
            self.scratch,
            max_bytes=SCRATCH_MAX_BYTES,
            max_entries=SCRATCH_MAX_ENTRIES,
            uid=uid,
            gid=uid,
        )
        self.reference.mkdir(exist_ok=True)
        _root_only(self.reference, uid)
        return record

    def open(self) -> CapRecord | None:
        """Mount the workspace and scratch again where they are not (a reboot, a server
        restart); the workspace's cap record (None for a run made before caps existed)."""
        ensure_mounted(self.scratch)
        return ensure_mounted(self.workspace)

    def release(self) -> None:
        """Unmount the workspace and scratch and delete their images (the run is deleted)."""
        release_capped_dir(self.workspace)
        release_capped_dir(self.scratch)

    def workspace_cap(self) -> CapRecord | None:
        return read_record(self.workspace)

    def usage(self, path: Path) -> CapUsage | None:
        """How full capped directory ``path`` (the workspace or the scratch) is."""
        return capped_usage(path)


def _root_only(directory: Path, gid: int) -> None:
    """root's, and enterable by the run's group only (other runs' uids stay out)."""
    if os.geteuid() == 0:
        hand_over(directory, 0, gid)
        directory.chmod(0o750)
    else:
        directory.chmod(0o755)
