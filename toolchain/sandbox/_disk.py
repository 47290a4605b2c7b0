"""A polled disk cap for what a command writes to the host: its writable workspace and mounts.

Where the kernel can cap a directory it does (a run's workspace and scratch are file
systems of their own, ``toolchain._capped``) and no polling is asked for. This remains for
directories on the host's disk that nothing else bounds: grading's build.sh on its
snapshot, stage programs' output directories, and a run's workspace where nothing could be
mounted (not root). No control group bounds them and the per-file size limit does not
either (a command may write many large files). While a command runs
the supervisor asks :meth:`DiskWatch.over` a few times a second. That is cheap: the file
system's free space is compared with what it was at the start, and only when the space
used since could have taken the tree past its cap is the tree itself measured.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Sequence
from pathlib import Path

__all__ = ["POLL_S", "DiskWatch", "tree_bytes"]

POLL_S = 0.5
_MEASURE_EVERY_S = 2.0


def tree_bytes(root: Path) -> int:
    """Disk space the files below ``root`` take (allocated blocks, symlinks not followed)."""
    total = 0
    stack = [root]
    while stack:
        directory = stack.pop()
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    try:
                        info = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    total += info.st_blocks * 512
                    if stat.S_ISDIR(info.st_mode):
                        stack.append(Path(entry.path))
        except OSError:
            continue
    return total


def _free(path: Path) -> int:
    try:
        facts = os.statvfs(path)
    except OSError:
        return 0
    return facts.f_bavail * facts.f_frsize


class DiskWatch:
    """Whether the directories a command may write hold more than ``limit_bytes``."""

    def __init__(self, roots: Sequence[Path], limit_bytes: int) -> None:
        self.roots = tuple(roots)
        self.limit_bytes = limit_bytes
        self._used = sum(tree_bytes(r) for r in self.roots)
        self._free = {r: _free(r) for r in self.roots}
        self._measured = 0.0

    def over(self) -> bool:
        # Free space that vanished since the start is an upper bound of what the command
        # wrote (other writers on the same disk only make it larger).
        grown = sum(max(0, before - _free(r)) for r, before in self._free.items())
        if self._used + grown <= self.limit_bytes:
            return False
        now = time.monotonic()
        if now - self._measured < _MEASURE_EVERY_S:
            return False
        self._measured = now
        return sum(tree_bytes(r) for r in self.roots) > self.limit_bytes

    def describe(self) -> str:
        return f"its writable directories grew past their {self.limit_bytes >> 20} MB disk limit"
