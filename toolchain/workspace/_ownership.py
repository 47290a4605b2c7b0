"""Giving a workspace tree to the run's uid, by descriptors (run as root, in process).

The file workers run as the run's uid, so what they change must be that uid's. A tree made
by root (a new run's contracts and cases) is handed over once with ``fchownat`` relative to
directory descriptors opened beneath the root without following any symlink: a symlink is
never followed nor changed, and a regular file with several hard links is left alone (its
other link could be anywhere).
"""

from __future__ import annotations

import os
from pathlib import Path

from toolchain.workspace._models import EntryKind
from toolchain.workspace._pool import open_root
from toolchain.workspace._walk import Walker

__all__ = ["hand_over_tree"]


def hand_over_tree(root: Path, uid: int, gid: int) -> int:
    """Make ``uid``/``gid`` the owner of ``root`` and everything in it; how many entries
    changed owner."""
    root_fd = open_root(root)
    changed = 0
    try:
        info = os.fstat(root_fd)
        if (info.st_uid, info.st_gid) != (uid, gid):
            os.fchown(root_fd, uid, gid)
            changed += 1
        walker = Walker(root_fd, visit_cap=1 << 62, deadline=float("inf"))
        parent: tuple[bytes, int] | None = None
        try:
            for child in walker.depth_first():
                if child.kind is EntryKind.SYMLINK or (child.uid, child.gid) == (uid, gid):
                    continue
                if child.kind is EntryKind.FILE and child.nlink > 1:
                    continue
                where = child.path.rpartition(b"/")[0]
                if parent is None or parent[0] != where:
                    if parent is not None:
                        os.close(parent[1])
                        parent = None
                    try:
                        parent = (where, walker.open(where, os.O_PATH | os.O_DIRECTORY))
                    except OSError:
                        continue  # gone, or swapped for a symlink: nothing to hand over there
                try:
                    os.chown(child.name, uid, gid, dir_fd=parent[1], follow_symlinks=False)
                    changed += 1
                except FileNotFoundError:
                    continue
        finally:
            if parent is not None:
                os.close(parent[1])
    finally:
        os.close(root_fd)
    return changed
