"""The one way a workspace is copied for grading, and the hash that identifies the copy.

Both the stage machine (when it claims a submission) and ``grade_workspace`` (for its
private working copy) take their snapshot here, so the two cannot drift apart in what they
copy or refuse. A workspace an agent can change is copied through the confined worker of
``toolchain.workspace.snapshot_tree`` (as the run's uid, never following a link, capped
before anything is copied); a snapshot that only the grader can reach (the stage machine's
saved one) is copied in this process.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

from grader._integrity import MAX_WORKSPACE_BYTES
from grader._run_home import WORKSPACE_MAX_ENTRIES
from toolchain.workspace import snapshot_tree, tree_hash

__all__ = ["take_snapshot", "tree_hash"]


def take_snapshot(source: Path, dest: Path, *, uid: int | None) -> str:
    """Copy ``source`` to the new directory ``dest``; the copy's tree hash.

    ``uid``: who reads ``source`` (the run's uid; the copy is refused, with a RampError
    saying what to do, when it holds more than a submission may). None: ``source`` is a
    snapshot only the grader can reach, copied here as it is.
    """
    if uid is None:
        _copy_private(source, dest)
        return tree_hash(dest)
    return snapshot_tree(
        source,
        dest,
        uid=uid,
        gid=uid,
        max_bytes=MAX_WORKSPACE_BYTES,
        max_entries=WORKSPACE_MAX_ENTRIES,
    ).tree_hash


def _copy_private(source: Path, dest: Path) -> None:
    """A tree no agent can change (already a snapshot: regular files, directories, links)."""

    def copy(path: str, target: str) -> str:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return target
        return str(shutil.copy2(path, target, follow_symlinks=False))

    shutil.copytree(source, dest, symlinks=True, copy_function=copy)
