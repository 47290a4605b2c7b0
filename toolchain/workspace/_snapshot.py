"""Snapshots of a workspace: copied through a confined worker, hashed in the same pass.

``snapshot_tree`` asks a worker (the run's uid, in an empty root, holding the workspace's
descriptor, see ``_worker``) to walk the tree with descriptors, never following a symlink, and to stream
every entry: path bytes (shown form), kind, mode, and for regular files their content. The
server's side, which may be root, never looks at the workspace at all: it creates a fresh
private ``dest`` (0700) and makes every entry in it relative to directory descriptors with
``O_EXCL | O_NOFOLLOW``, checking each path and every cap again (a worker's word is not
trusted), and hashes what it writes.

Kept: regular files (content and permission bits; set-id and sticky bits are dropped),
directories and symlinks (as links). FIFOs, sockets and devices are skipped and counted.
Before anything is copied the worker adds up the sizes the walk found and refuses a tree
over ``max_bytes`` or ``max_entries``, so a sparse 900 MB file costs nothing.

``tree_hash`` walks a stored snapshot the same way and gives the same hash for the same
content, so a snapshot can be checked later.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import time
from collections.abc import Callable
from pathlib import Path

from toolchain._errors import WorkspaceError, WorkspaceLimitError
from toolchain.workspace._errors import (
    SnapshotError,
    UnreadableEntryError,
    WorkspaceTimeoutError,
)
from toolchain.workspace._models import EntryKind, SnapshotInfo
from toolchain.workspace._names import (
    MAX_COMPONENTS,
    MAX_PATH_BYTES,
    join,
    parse_name,
    parse_path,
    show,
)
from toolchain.workspace._protocol import ENTRY, SnapshotDone, SnapshotEntry, SnapshotRequest
from toolchain.workspace._tree import Tree
from toolchain.workspace._walk import Child, Walker
from toolchain.workspace._workspace import Workspace

__all__ = ["snapshot_tree", "stream_snapshot", "tree_hash"]

_CHUNK = 1 << 20
_MODE_BITS = 0o777
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FIX = "delete build outputs and large files (see list_files), then submit again"


class _TreeHasher:
    """sha256 over NUL-terminated fields (paths and link texts hold no NUL, so the encoding
    is unambiguous): ``d path mode``, ``f path mode sha256(content)``, ``l path target``."""

    def __init__(self) -> None:
        self._digest = hashlib.sha256()

    def _record(self, *fields: bytes) -> None:
        for field in fields:
            self._digest.update(field + b"\0")

    def directory(self, path: bytes, mode: int) -> None:
        self._record(b"d", path, b"%o" % (mode & _MODE_BITS))

    def file(self, path: bytes, mode: int, content_sha256: str) -> None:
        self._record(b"f", path, b"%o" % (mode & _MODE_BITS), content_sha256.encode())

    def link(self, path: bytes, target: bytes) -> None:
        self._record(b"l", path, target)

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


# -- the worker's side ------------------------------------------------------------------------


def _listed(tree: Tree, request: SnapshotRequest, deadline: float, budget: float) -> list[Child]:
    walker = Walker(
        tree.root, visit_cap=request.max_entries + 1, deadline=deadline, budget_s=budget
    )
    children = list(walker.depth_first())
    if len(children) > request.max_entries or walker.visited > request.max_entries:
        raise WorkspaceLimitError(
            f"the workspace holds more than {request.max_entries} files and directories, more "
            f"than a snapshot may hold; {_FIX}"
        )
    if walker.stopped is not None:
        if "budget" in walker.stopped:
            raise WorkspaceTimeoutError(f"the snapshot {walker.stopped}; {_FIX}")
        raise WorkspaceLimitError(f"the workspace cannot be copied whole: {walker.stopped}")
    if walker.unreadable:
        raise UnreadableEntryError(
            f"directory '{show(walker.unreadable[0]) or '.'}' cannot be read (permission "
            "denied); make it readable (chmod u+rx with run_command) and submit again"
        )
    total = sum(child.size for child in children if child.kind is EntryKind.FILE)
    if total > request.max_bytes:
        raise WorkspaceLimitError(
            f"the workspace holds {total >> 20} MB in files (sizes as the files claim, sparse "
            f"ones too), more than the {request.max_bytes >> 20} MB a submission may hold; {_FIX}"
        )
    return children


def stream_snapshot(
    tree: Tree,
    request: SnapshotRequest,
    deadline: float,
    budget: float,
    send: Callable[[int, bytes, bytes], None],
) -> SnapshotDone:
    """Walk the whole tree and send it entry by entry (run in a worker)."""
    children = _listed(tree, request, deadline, budget)
    walker = Walker(tree.root, visit_cap=1, deadline=deadline, budget_s=budget)
    sent = 0
    for child in children:
        if time.monotonic() > deadline:
            raise WorkspaceTimeoutError(f"the snapshot took more than {budget:g} s; {_FIX}")
        path = show(child.path)
        mode = child.mode & _MODE_BITS
        if child.kind is EntryKind.DIR:
            send(
                ENTRY,
                SnapshotEntry(kind="dir", path=path, mode=mode).model_dump_json().encode(),
                b"",
            )
        elif child.kind is EntryKind.SYMLINK:
            target = _link_text(walker, child)
            if target is not None:
                entry = SnapshotEntry(kind="link", path=path, target=show(target))
                send(ENTRY, entry.model_dump_json().encode(), b"")
        elif child.kind is EntryKind.FILE:
            sent = _send_file(walker, child, sent, request.max_bytes, send)
        else:
            send(ENTRY, SnapshotEntry(kind="skip", path=path).model_dump_json().encode(), b"")
    return SnapshotDone(entries=len(children), bytes=sent)


def _link_text(walker: Walker, child: Child) -> bytes | None:
    try:
        fd = walker.open(child.path.rpartition(b"/")[0], os.O_PATH | os.O_DIRECTORY)
    except OSError:
        return None
    try:
        return os.readlink(child.name, dir_fd=fd)
    except OSError:
        return None  # no longer a symlink: it changed while the snapshot was taken
    finally:
        os.close(fd)


def _send_file(
    walker: Walker,
    child: Child,
    sent: int,
    max_bytes: int,
    send: Callable[[int, bytes, bytes], None],
) -> int:
    try:
        fd = walker.open(child.path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except PermissionError as exc:
        raise UnreadableEntryError(
            f"'{show(child.path)}' cannot be read (permission denied); make it readable "
            "(chmod u+r with run_command) and submit again"
        ) from exc
    except OSError:
        return sent  # gone or replaced by a symlink since the walk listed it
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return sent
        header = SnapshotEntry(kind="file", path=show(child.path), mode=info.st_mode & _MODE_BITS)
        send(ENTRY, header.model_dump_json().encode(), b"")
        data_header = SnapshotEntry(kind="data").model_dump_json().encode()
        while chunk := os.read(fd, _CHUNK):
            sent += len(chunk)
            if sent > max_bytes:
                raise WorkspaceLimitError(
                    f"the workspace grew past the {max_bytes >> 20} MB a submission may hold "
                    f"while it was being copied; {_FIX}"
                )
            send(ENTRY, data_header, chunk)
        send(ENTRY, SnapshotEntry(kind="eof").model_dump_json().encode(), b"")
    finally:
        os.close(fd)
    return sent


# -- the server's side ------------------------------------------------------------------------


def _fresh_directory(dest: Path) -> int:
    """Create ``dest`` (which must not exist) as a private directory; its descriptor."""
    try:
        parent = os.open(dest.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise SnapshotError(
            f"the snapshot's parent directory {str(dest.parent)!r} cannot be opened "
            f"({exc.strerror}); create it first"
        ) from exc
    try:
        os.mkdir(dest.name, 0o700, dir_fd=parent)
        fd = os.open(dest.name, _DIRECTORY, dir_fd=parent)
        os.fchmod(fd, 0o700)
        return fd
    except FileExistsError as exc:
        raise SnapshotError(
            f"snapshot destination {str(dest)!r} already exists; a snapshot is made into a "
            "fresh directory, so remove it or choose another"
        ) from exc
    except OSError as exc:
        raise SnapshotError(f"cannot create snapshot directory {str(dest)!r} ({exc})") from exc
    finally:
        os.close(parent)


class _Writer:
    """Makes the streamed entries under ``dest_fd``, checking everything it is told."""

    def __init__(self, dest_fd: int, max_bytes: int, max_entries: int) -> None:
        self._stack: list[tuple[tuple[bytes, ...], int, int]] = [((), dest_fd, -1)]
        self._file: tuple[bytes, int, int, hashlib._Hash] | None = None
        self._hasher = _TreeHasher()
        self._max_bytes = max_bytes
        self._max_entries = max_entries
        self.counts = {"files": 0, "directories": 0, "symlinks": 0, "bytes": 0, "skipped": 0}

    def _directory_for(self, parts: tuple[bytes, ...]) -> int:
        """The descriptor of ``parts``' parent, which must be the directory last entered or
        one of its ancestors (entries arrive in path order)."""
        parent = parts[:-1]
        while len(self._stack) > 1 and self._stack[-1][0] != parent[: len(self._stack[-1][0])]:
            self._leave()
        if self._stack[-1][0] != parent:
            raise SnapshotError("the file worker sent entries out of order; submit again")
        return self._stack[-1][1]

    def _leave(self) -> None:
        _, fd, mode = self._stack.pop()
        os.fchmod(fd, mode)  # last, so a read-only directory could still be filled
        os.close(fd)

    def add(self, entry: SnapshotEntry, payload: bytes) -> None:
        if entry.kind in ("data", "eof"):
            self._content(entry, payload)
            return
        if self._file is not None:
            raise SnapshotError("the file worker sent a file without its end; submit again")
        if sum(self.counts[k] for k in ("files", "directories", "symlinks")) >= self._max_entries:
            raise WorkspaceLimitError(
                f"the workspace holds more than {self._max_entries} entries; {_FIX}"
            )
        try:
            parts = parse_path(entry.path, "snapshot entry")
        except WorkspaceError as exc:
            raise SnapshotError(f"the file worker sent a bad path ({exc}); submit again") from exc
        if not parts or len(parts) > MAX_COMPONENTS:
            raise SnapshotError("the file worker sent an empty path; submit again")
        if entry.kind == "skip":
            self.counts["skipped"] += 1
            return
        self._make(entry, parts, self._directory_for(parts))

    def _make(self, entry: SnapshotEntry, parts: tuple[bytes, ...], parent: int) -> None:
        name, path = parts[-1], join(parts)
        if entry.kind == "dir":
            os.mkdir(name, 0o700, dir_fd=parent)
            fd = os.open(name, _DIRECTORY, dir_fd=parent)
            self._stack.append((parts, fd, entry.mode))
            self._hasher.directory(path, entry.mode)
            self.counts["directories"] += 1
        elif entry.kind == "link":
            target = _link_target(entry.target)
            os.symlink(target, name, dir_fd=parent)
            self._hasher.link(path, target)
            self.counts["symlinks"] += 1
        else:
            fd = os.open(name, _NEW_FILE, 0o600, dir_fd=parent)
            os.fchmod(fd, entry.mode)
            self._file = (path, entry.mode, fd, hashlib.sha256())
            self.counts["files"] += 1

    def _content(self, entry: SnapshotEntry, payload: bytes) -> None:
        if self._file is None:
            raise SnapshotError("the file worker sent data outside a file; submit again")
        path, mode, fd, digest = self._file
        if entry.kind == "eof":
            os.close(fd)
            self._file = None
            self._hasher.file(path, mode, digest.hexdigest())
            return
        self.counts["bytes"] += len(payload)
        if self.counts["bytes"] > self._max_bytes:
            raise WorkspaceLimitError(
                f"the workspace holds more than the {self._max_bytes >> 20} MB a submission "
                f"may hold; {_FIX}"
            )
        digest.update(payload)
        view = memoryview(payload)
        while view:
            view = view[os.write(fd, view) :]

    def finish(self) -> SnapshotInfo:
        if self._file is not None:
            raise SnapshotError("the file worker stopped in the middle of a file; submit again")
        while len(self._stack) > 1:
            self._leave()
        return SnapshotInfo(tree_hash=self._hasher.hexdigest(), **self.counts)

    def abandon(self) -> None:
        if self._file is not None:
            os.close(self._file[2])
            self._file = None
        while len(self._stack) > 1:
            _, fd, _ = self._stack.pop()
            os.close(fd)


def _link_target(text: str) -> bytes:
    """A symlink's text from its shown form (no NUL, at most ``PATH_MAX``)."""
    raw = parse_name(text)
    if not raw or b"\0" in raw or len(raw) > MAX_PATH_BYTES:
        raise SnapshotError("the file worker sent a bad symlink; submit again")
    return raw


def snapshot_tree(
    root: Path | Workspace,
    dest: Path,
    *,
    uid: int | None = None,
    gid: int | None = None,
    max_bytes: int,
    max_entries: int,
    timeout_s: float = 600.0,
) -> SnapshotInfo:
    """Copy the workspace ``root`` into the new private directory ``dest`` through a
    confined worker (as ``uid``/``gid`` when called as root), hashing it in the same pass.

    ``root`` may be an open :class:`Workspace` (the server's, for a run): its workers, and
    the uid they run as, are used instead of starting one. Refuses, with a RampError saying
    what to do, a tree over ``max_bytes`` of file content or ``max_entries`` entries (before
    copying anything), an unreadable file or directory, or a copy that takes longer than
    ``timeout_s``; on any error ``dest`` is removed. ``dest`` and everything in it belong to
    the caller.
    """
    if isinstance(root, Workspace):
        return _take(root, dest, max_bytes, max_entries, timeout_s)
    with Workspace(root, uid=uid, gid=gid, read_only=True, workers=1) as workspace:
        return _take(workspace, dest, max_bytes, max_entries, timeout_s)


def _take(
    workspace: Workspace, dest: Path, max_bytes: int, max_entries: int, timeout_s: float
) -> SnapshotInfo:
    dest_fd = _fresh_directory(dest)
    writer = _Writer(dest_fd, max_bytes, max_entries)

    def on_entry(body: bytes, payload: bytes) -> None:
        try:
            writer.add(SnapshotEntry.model_validate_json(body), payload)
        except (OSError, ValueError) as exc:
            raise SnapshotError(
                f"the snapshot could not be written ({exc}); check the disk holding "
                f"{str(dest.parent)!r}, then submit again"
            ) from exc

    try:
        workspace.exchange(
            SnapshotRequest(max_bytes=max_bytes, max_entries=max_entries),
            SnapshotDone,
            on_entry=on_entry,
            timeout_s=timeout_s,
        )
        return writer.finish()
    except BaseException:
        writer.abandon()
        shutil.rmtree(dest, ignore_errors=True)
        raise
    finally:
        os.close(dest_fd)


def tree_hash(root: Path) -> str:
    """The hash :func:`snapshot_tree` returned for a tree with this content (walked here,
    in this process, so use it on trees only the caller can change, like a snapshot)."""
    try:
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise SnapshotError(f"{str(root)!r} cannot be hashed ({exc.strerror})") from exc
    try:
        walker = Walker(fd, visit_cap=1 << 62, deadline=float("inf"))
        hasher = _TreeHasher()
        for child in walker.depth_first():
            if child.kind is EntryKind.DIR:
                hasher.directory(child.path, child.mode)
            elif child.kind is EntryKind.SYMLINK:
                target = _link_text(walker, child)
                if target is not None:
                    hasher.link(child.path, target)
            elif child.kind is EntryKind.FILE:
                hasher.file(child.path, child.mode, _content_hash(walker, child))
        if walker.stopped is not None or walker.unreadable:
            raise SnapshotError(
                f"{str(root)!r} cannot be hashed whole ({walker.stopped or 'unreadable directories'})"
            )
        return hasher.hexdigest()
    finally:
        os.close(fd)


def _content_hash(walker: Walker, child: Child) -> str:
    opened = walker.open_file(child.path)
    if opened is None:
        raise SnapshotError(f"'{show(child.path)}' changed while it was being hashed")
    fd, _ = opened
    digest = hashlib.sha256()
    try:
        while chunk := os.read(fd, _CHUNK):
            digest.update(chunk)
    finally:
        os.close(fd)
    return digest.hexdigest()
