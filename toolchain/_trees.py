"""Trees an agent's programs made: walked, copied and removed at any depth, never following a link.

A build.sh or a stage program can leave any shape on disk: a directory chain thousands of
levels deep, paths far longer than ``PATH_MAX``, symlinks anywhere. Python 3.11's
``os.walk``, ``Path.rglob``, ``shutil.copytree`` and ``shutil.rmtree`` recurse once per
level and raise RecursionError past about a thousand levels, which left grading's scratch
(and what an agent put at the bottom) on the host's disk. Everything here is iterative
and works on directory descriptors:

- a directory is opened relative to its parent's descriptor, by one name, with
  ``O_NOFOLLOW | O_DIRECTORY``: no path is ever longer than a name and no symlink is
  followed, wherever it sits;
- one descriptor is held, whatever the depth (a descriptor per level could run into the
  process's limit on open files): going up reopens ``..`` and checks it is the directory
  that was left, by device and inode, so a tree moved under the walk stops it with a
  :class:`TreeError` instead of letting it wander;
- a directory on another file system (a mount point) is never entered.

The callers are the grader's scans of a snapshot after build.sh, its private copies of a
stored snapshot, and every removal of grading's and run_stage's scratch
(``toolchain._capped.remove_tree``).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from toolchain._errors import RampError

__all__ = [
    "Step",
    "TreeEntry",
    "TreeError",
    "copy_tree",
    "delete_tree",
    "open_regular",
    "walk_tree",
]

_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_CHUNK = 1 << 20
_SHOWN_LEVELS = 32


class TreeError(RampError):
    """A tree could not be walked or copied whole (the message says why)."""


class Step(StrEnum):
    """What :func:`walk_tree` met."""

    ENTER = "enter"  # a directory, about to be walked (entry: as its parent lists it)
    ITEM = "item"  # anything but a directory: a file, a symlink, a FIFO, a device, a socket
    LEAVE = "leave"  # a directory walked whole; the walk is back in its parent
    FOREIGN = "foreign"  # a directory on another file system: not entered
    UNREADABLE = "unreadable"  # a directory that could not be opened or listed: not entered


@dataclass(frozen=True, slots=True)
class TreeEntry:
    """One entry as its parent directory listed it (``lstat``).

    ``dir_fd`` is the parent's descriptor, valid only until the walk goes on: act on the
    entry by ``name`` relative to it (``os.unlink(entry.name, dir_fd=entry.dir_fd)``).
    """

    name: str
    dir_fd: int
    info: os.stat_result
    parent: TreeEntry | None  # the directory it is in (None: the walk's root)

    @property
    def path(self) -> str:
        """Relative to the walk's root, "/"-joined, for messages: the last
        ``_SHOWN_LEVELS`` components at most (a path built whole at every level of a deep
        tree would cost time quadratic in its depth)."""
        names = [self.name]
        above = self.parent
        while above is not None and len(names) < _SHOWN_LEVELS:
            names.append(above.name)
            above = above.parent
        return ("…/" if above is not None else "") + "/".join(reversed(names))


@dataclass(slots=True)
class _Level:
    entry: TreeEntry | None  # None: the root
    ident: tuple[int, int]
    pending: list[tuple[str, os.stat_result]] = field(default_factory=list)


def _listing(fd: int) -> list[tuple[str, os.stat_result]]:
    """The entries of directory ``fd``, last name first (so ``pop`` goes in name order)."""
    found = []
    with os.scandir(fd) as scan:
        for item in scan:
            try:
                found.append((item.name, item.stat(follow_symlinks=False)))
            except OSError:
                continue  # gone since it was listed
    found.sort(key=lambda pair: os.fsencode(pair[0]), reverse=True)
    return found


def _ident(info: os.stat_result) -> tuple[int, int]:
    return info.st_dev, info.st_ino


def _open_child(parent: int, name: str, info: os.stat_result, repair: bool) -> int | None:
    """Directory ``name`` of ``parent`` opened, if it is still the one listed."""
    try:
        fd = os.open(name, _DIRECTORY, dir_fd=parent)
    except PermissionError:
        if not (repair and info.st_uid == os.geteuid()):
            return None
        try:
            # Not root: our own directory without read or search permission (a tree that
            # cannot be deleted otherwise). Listed as a directory just now; were it swapped
            # for a link since, chmod could only reach another file of ours.
            os.chmod(name, 0o700, dir_fd=parent)
            fd = os.open(name, _DIRECTORY, dir_fd=parent)
        except OSError:
            return None
    except OSError:
        return None
    opened = os.fstat(fd)
    if _ident(opened) != _ident(info):
        os.close(fd)
        return None
    if repair and opened.st_uid == os.geteuid() and opened.st_mode & 0o700 != 0o700:
        os.fchmod(fd, 0o700)  # not root: so its entries can be removed
    return fd


def _up(fd: int, expected: tuple[int, int], where: str) -> int:
    """The parent of directory ``fd``, checked to be the directory the walk came from."""
    parent = os.open("..", _DIRECTORY, dir_fd=fd)
    if _ident(os.fstat(parent)) != expected:
        os.close(parent)
        raise TreeError(
            f"the tree changed while it was being walked ('{where}' was moved); nothing may "
            "write into a tree while the grader walks it"
        )
    return parent


def walk_tree(root: Path, *, repair: bool = False) -> Iterator[tuple[Step, TreeEntry]]:
    """Every entry below ``root``, depth first in name order (see :class:`Step`).

    ``root`` must be a directory (its last component is not followed if it is a link).
    ``repair`` (for deleting as a user that is not root): directories of ours are made
    ``u+rwx`` on the way, so their entries can be listed and removed.
    """
    fd = os.open(root, _DIRECTORY)
    try:
        top = os.fstat(fd)
        levels = [_Level(None, _ident(top), _listing(fd))]
        while levels:
            level = levels[-1]
            if not level.pending:
                levels.pop()
                if level.entry is None:
                    break
                fd = _swap(fd, _up(fd, levels[-1].ident, level.entry.path))
                done = level.entry
                yield Step.LEAVE, TreeEntry(done.name, fd, done.info, done.parent)
                continue
            name, info = level.pending.pop()
            entry = TreeEntry(name, fd, info, level.entry)
            if not stat.S_ISDIR(info.st_mode):
                yield Step.ITEM, entry
                continue
            if info.st_dev != top.st_dev:
                yield Step.FOREIGN, entry
                continue
            child = _open_child(fd, name, info, repair)
            listed = None
            if child is not None:
                try:
                    listed = _listing(child)
                except OSError:
                    os.close(child)
            if child is None or listed is None:
                yield Step.UNREADABLE, entry
                continue
            try:
                yield Step.ENTER, entry
            except BaseException:
                os.close(child)
                raise
            fd = _swap(fd, child)
            levels.append(_Level(entry, _ident(info), listed))
    finally:
        os.close(fd)


def _swap(old: int, new: int) -> int:
    os.close(old)
    return new


def open_regular(entry: TreeEntry) -> int | None:
    """``entry`` opened for reading if it is still the regular file listed, else None."""
    try:
        fd = os.open(entry.name, _READ, dir_fd=entry.dir_fd)
    except OSError:
        return None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or _ident(info) != _ident(entry.info):
        os.close(fd)
        return None
    return fd


def delete_tree(path: Path) -> list[str]:
    """Remove ``path`` and everything below it, at any depth, following no link; what
    could not be removed (paths relative to ``path``; empty when all is gone).

    Another file system mounted inside is not entered (release capped directories first:
    ``toolchain._capped.remove_tree`` does). Not root, our own directories without
    permissions are made ``u+rwx`` so they can be emptied.
    """
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return []
    if not stat.S_ISDIR(info.st_mode):
        path.unlink()
        return []
    left: list[str] = []
    for step, entry in walk_tree(path, repair=os.geteuid() != 0):
        try:
            if step is Step.ITEM:
                os.unlink(entry.name, dir_fd=entry.dir_fd)
            elif step is Step.LEAVE:
                os.rmdir(entry.name, dir_fd=entry.dir_fd)
            elif step in (Step.FOREIGN, Step.UNREADABLE):
                left.append(entry.path)
        except FileNotFoundError:
            continue
        except OSError:
            left.append(entry.path)
    try:
        path.rmdir()
    except FileNotFoundError:
        pass
    except OSError:
        left.append(".")
    return left


def copy_tree(source: Path, dest: Path) -> None:
    """Copy ``source`` to the new directory ``dest`` (it must not exist): regular files
    (content, permission bits, times), directories and symlinks (as links); anything else
    is skipped. For trees only the caller can change, like a stored snapshot."""
    top = os.lstat(source)
    dest.mkdir(mode=0o700)
    out = os.open(dest, _DIRECTORY)
    modes = [top.st_mode]
    try:
        for step, entry in walk_tree(source):
            if step is Step.ENTER:
                os.mkdir(entry.name, 0o700, dir_fd=out)
                out = _swap(out, os.open(entry.name, _DIRECTORY, dir_fd=out))
                modes.append(entry.info.st_mode)
            elif step is Step.LEAVE:
                _finish_directory(out, modes.pop(), entry.info)
                out = _swap(out, os.open("..", _DIRECTORY, dir_fd=out))
            elif step is Step.ITEM:
                _copy_item(entry, out)
            else:
                raise TreeError(f"'{entry.path}' could not be read, so the tree was not copied")
        _finish_directory(out, modes.pop(), top)
    finally:
        os.close(out)


def _finish_directory(fd: int, mode: int, info: os.stat_result) -> None:
    os.fchmod(fd, stat.S_IMODE(mode) & 0o777)
    os.utime(fd, ns=(info.st_atime_ns, info.st_mtime_ns))


def _copy_item(entry: TreeEntry, out: int) -> None:
    if stat.S_ISLNK(entry.info.st_mode):
        os.symlink(os.readlink(entry.name, dir_fd=entry.dir_fd), entry.name, dir_fd=out)
        return
    if not stat.S_ISREG(entry.info.st_mode):
        return
    source = open_regular(entry)
    if source is None:
        raise TreeError(f"'{entry.path}' changed while it was being copied")
    try:
        target = os.open(entry.name, _NEW_FILE, 0o600, dir_fd=out)
        try:
            while chunk := os.read(source, _CHUNK):
                view = memoryview(chunk)
                while view:
                    view = view[os.write(target, view) :]
            os.fchmod(target, stat.S_IMODE(entry.info.st_mode) & 0o777)
            os.utime(target, ns=(entry.info.st_atime_ns, entry.info.st_mtime_ns))
        finally:
            os.close(target)
    finally:
        os.close(source)
