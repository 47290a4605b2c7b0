"""Walking a directory tree with descriptors, never following a symlink, within bounds.

Every directory is opened from the walk's base descriptor with ``openat2`` and
``RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS``: if a process swaps a directory for a symlink while
the walk is under way, the open fails and the walk skips it; it can never wander off. Only
one or two descriptors are open at a time, whatever the depth, and a walk stops (saying why
in :attr:`Walker.stopped`) at a cap on entries visited, a deadline, or a depth cap.
"""

from __future__ import annotations

import os
import stat
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from toolchain.workspace._models import EntryKind
from toolchain.workspace._names import MAX_COMPONENTS, MAX_PATH_BYTES, show
from toolchain.workspace._syscalls import STRICT_RESOLVE, openat2

__all__ = ["UNBOUNDED", "Child", "Walker", "kind_of"]

UNBOUNDED = 1 << 30
"""A requested depth that only the walker's own depth cap limits."""


def kind_of(mode: int) -> EntryKind:
    if stat.S_ISLNK(mode):
        return EntryKind.SYMLINK
    if stat.S_ISDIR(mode):
        return EntryKind.DIR
    if stat.S_ISREG(mode):
        return EntryKind.FILE
    return EntryKind.OTHER


@dataclass(frozen=True, slots=True)
class Child:
    """One entry met by a walk, as ``lstat`` saw it."""

    path: bytes
    """Relative to the walk's base, ``/``-joined."""
    name: bytes
    depth: int
    """1 for the base's own entries."""
    kind: EntryKind
    mode: int
    size: int
    nlink: int
    uid: int
    gid: int


def _always(_child: Child) -> bool:
    return True


class Walker:
    """Lists directories below ``base_fd`` (which stays the caller's to close)."""

    def __init__(
        self,
        base_fd: int,
        *,
        visit_cap: int,
        deadline: float,
        max_depth: int = MAX_COMPONENTS,
        budget_s: float | None = None,
    ) -> None:
        self._base = base_fd
        self._cap = visit_cap
        self._deadline = deadline
        self._budget_s = budget_s
        self._max_depth = max_depth
        self.visited = 0
        self.stopped: str | None = None
        self.unreadable: list[bytes] = []
        """Directories that exist but could not be listed (permissions)."""

    def open(self, rel: bytes, flags: int) -> int:
        """A descriptor for ``rel`` below the base, refusing every symlink on the way."""
        return openat2(self._base, rel or b".", flags, STRICT_RESOLVE)

    def open_file(self, rel: bytes) -> tuple[int, os.stat_result] | None:
        """``rel`` opened for reading if it is (still) a regular file, else None."""
        try:
            fd = self.open(rel, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
        except OSError:
            return None
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            return None
        return fd, info

    def _stop(self, why: str) -> None:
        if self.stopped is None:
            self.stopped = why

    def _out_of_time(self) -> bool:
        if time.monotonic() <= self._deadline:
            return False
        budget = f"{self._budget_s:g} s" if self._budget_s is not None else "its time budget"
        self._stop(f"stopped after {budget} (after {self.visited} entries)")
        return True

    def children(self, rel: bytes, depth: int) -> list[Child]:
        """The entries of directory ``rel`` (at ``depth``), sorted by name."""
        if self.stopped is not None or self._out_of_time():
            return []
        if len(rel) > MAX_PATH_BYTES:
            self._stop(f"'{show(rel[:200])}...' is longer than {MAX_PATH_BYTES} bytes, not entered")
            return []
        try:
            fd = self.open(rel, os.O_RDONLY | os.O_DIRECTORY)
        except PermissionError:
            self.unreadable.append(rel)
            return []
        except OSError:
            return []  # gone, or swapped for a symlink or a file since it was listed
        found: list[Child] = []
        try:
            with os.scandir(fd) as scan:
                for entry in scan:
                    if self.visited >= self._cap:
                        self._stop(f"visited {self._cap} entries (the cap)")
                        break
                    self.visited += 1
                    try:
                        info = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    name = os.fsencode(entry.name)
                    found.append(
                        Child(
                            path=rel + b"/" + name if rel else name,
                            name=name,
                            depth=depth + 1,
                            kind=kind_of(info.st_mode),
                            mode=info.st_mode,
                            size=info.st_size,
                            nlink=info.st_nlink,
                            uid=info.st_uid,
                            gid=info.st_gid,
                        )
                    )
        except PermissionError:
            self.unreadable.append(rel)
        except OSError:
            pass
        finally:
            os.close(fd)
        found.sort(key=lambda child: child.name)
        return found

    def _enters(self, child: Child, max_depth: int, descend: Callable[[Child], bool]) -> bool:
        if child.kind is not EntryKind.DIR:
            return False
        if child.depth >= self._max_depth and max_depth > self._max_depth:
            self._stop(f"directories deeper than {self._max_depth} levels were not entered")
            return False
        return child.depth < min(max_depth, self._max_depth) and descend(child)

    def breadth_first(
        self, max_depth: int, descend: Callable[[Child], bool] = _always
    ) -> Iterator[Child]:
        """Level by level, each directory's entries in name order. At a cap, what was
        listed is still given; past the deadline, nothing more."""
        queue: deque[Child | None] = deque([None])
        while queue and not self._out_of_time():
            parent = queue.popleft()
            rel, depth = (b"", 0) if parent is None else (parent.path, parent.depth)
            for child in self.children(rel, depth):
                yield child
                if self._enters(child, max_depth, descend):
                    queue.append(child)

    def depth_first(
        self, max_depth: int = UNBOUNDED, descend: Callable[[Child], bool] = _always
    ) -> Iterator[Child]:
        """In path order (a directory, then everything below it, names sorted by bytes)."""
        stack = list(reversed(self.children(b"", 0)))
        while stack and not self._out_of_time():
            child = stack.pop()
            yield child
            if self._enters(child, max_depth, descend):
                stack.extend(reversed(self.children(child.path, child.depth)))
