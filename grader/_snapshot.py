"""The one way a workspace is copied for grading, and the hash that identifies the copy.

Both the stage machine (when it claims a submission) and ``grade_workspace`` (for its
private working copy) take their snapshot here, so the two cannot drift apart in what they
copy or refuse. A workspace an agent can change is copied through the confined worker of
``toolchain.workspace.snapshot_tree`` (as the run's uid, never following a link, capped
before anything is copied); a snapshot that only the grader can reach (the stage machine's
saved one) is copied in this process.
"""

from __future__ import annotations

from pathlib import Path

from grader._integrity import MAX_WORKSPACE_BYTES
from grader._run_home import WORKSPACE_MAX_ENTRIES
from toolchain import copy_tree
from toolchain.workspace import SnapshotError, Workspace, snapshot_tree, tree_hash

__all__ = ["take_snapshot", "tree_hash"]


def take_snapshot(source: Path | Workspace, dest: Path, *, uid: int | None) -> str:
    """Copy ``source`` to the new directory ``dest``; the copy's tree hash.

    ``uid``: who reads ``source`` (the run's uid; the copy is refused, with a RampError
    saying what to do, when it holds more than a submission may); an open confined
    :class:`Workspace` on it may be given instead of its path (its worker is used). None:
    ``source`` is a snapshot only the grader can reach, copied here as it is (regular
    files, directories and links, at any depth: ``toolchain._trees.copy_tree``).
    """
    if uid is None:
        if isinstance(source, Workspace):
            raise SnapshotError(
                "a private snapshot is copied by its path; give take_snapshot a Path"
            )
        copy_tree(source, dest)
        return tree_hash(dest)
    return snapshot_tree(
        source,
        dest,
        uid=uid,
        gid=uid,
        max_bytes=MAX_WORKSPACE_BYTES,
        max_entries=WORKSPACE_MAX_ENTRIES,
    ).tree_hash
