"""A run's home on the host: its own uid, its capped workspace and scratch, its references.

Every run gets an unprivileged uid of its own (gid: the same number) from
``UID_FIRST..UID_LAST``, unique in the ledger (``runs.sandbox_uid``). Every sandbox of the
run runs as it, so one run's processes cannot read, write or signal another run's.

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
from pathlib import Path

from pydantic import BaseModel

from grader._integrity import MAX_WORKSPACE_BYTES
from toolchain._capped import (
    CapRecord,
    CapUsage,
    capped_usage,
    create_capped_dir,
    ensure_mounted,
    read_record,
    release_capped_dir,
)
from toolchain._errors import RampError

__all__ = [
    "REFERENCE_DIR",
    "SCRATCH_DIR",
    "SCRATCH_MAX_BYTES",
    "SCRATCH_MAX_ENTRIES",
    "UID_FIRST",
    "UID_LAST",
    "WORKSPACE_MAX_ENTRIES",
    "RunHome",
    "RunHomeError",
    "pick_uid",
]

UID_FIRST = 200_000
UID_LAST = 299_999
WORKSPACE_MAX_ENTRIES = 100_000
# The scratch holds the RV64 runtime object and the programs run_rv64 links.
SCRATCH_MAX_BYTES = 256 << 20
SCRATCH_MAX_ENTRIES = 4_096
REFERENCE_DIR = "reference"
SCRATCH_DIR = "mcp-scratch"


class RunHomeError(RampError):
    """A run's home could not be set up (the message says why)."""


def pick_uid(taken: set[int]) -> int:
    """A uid of the range that no run holds and no host account uses."""
    free = UID_LAST - UID_FIRST + 1 - len(taken)
    for _ in range(1000 if free > 0 else 0):
        uid = UID_FIRST + secrets.randbelow(UID_LAST - UID_FIRST + 1)
        if uid in taken:
            continue
        try:
            pwd.getpwuid(uid)
        except KeyError:
            return uid
    raise RunHomeError(
        f"no free run uid left in {UID_FIRST}..{UID_LAST}; archive old runs to a new ledger"
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
        os.chown(directory, 0, gid)
        directory.chmod(0o750)
    else:
        directory.chmod(0o755)
