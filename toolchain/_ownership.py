"""The one way RAMP gives what it makes to an unprivileged uid, never through a link.

Every sandbox and every confined file worker runs as an unprivileged uid (a run's, its
grading uid, or the images' sandbox user), so what they may write must be that uid's.
Root gets it there in one of two ways, both here:

- **made owned**: whoever creates a file or directory for a uid gives it away in the same
  function, before anything of that uid can reach it: :func:`write_owned` (a new file,
  given away on its descriptor before a byte is written), :func:`make_owned_dir`, and
  :func:`hand_over` for one entry (an agent's workspace at creation, a run's home and its
  scratch, a judge's work directories);
- **handed over once**: a tree root filled for a sandbox (a grading snapshot, its output
  directories, a judge's build tree) is given whole when the sandbox opens, before any
  process of that uid runs there (:func:`hand_over_tree`, called by the ``Sandbox``
  facade, the only place that knows which uid a sandbox runs as and what it may write).
  The preparers stay uid-agnostic, and a snapshot is hashed while it is still root's.

Neither follows a symlink. One entry is changed with ``fchownat(AT_SYMLINK_NOFOLLOW)`` by
name (relative to a directory descriptor where the caller has one) or ``fchown`` on an
open descriptor. A tree is walked by :func:`toolchain._trees.walk_tree`: every directory is
opened relative to its parent's descriptor with ``O_NOFOLLOW`` and checked to be the one
listed, and every entry is changed relative to its parent's descriptor. A symlink is left
as it is, and so is a regular file with several hard links (its other name could be
anywhere on the file system). A directory on another file system is not entered.

Only root can give files away; a process that is not root (a local run, a developer's
tests) has no other uid to give them to, so then no owner changes here.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from toolchain._trees import Step, TreeError, walk_tree

__all__ = ["hand_over", "hand_over_tree", "make_owned_dir", "write_owned"]

_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def _as_root() -> bool:
    return os.geteuid() == 0


def hand_over(target: Path | str | int, uid: int, gid: int, *, dir_fd: int | None = None) -> None:
    """Make ``uid``/``gid`` the owner of one entry, never following a symlink.

    ``target``: a path, a name relative to ``dir_fd``, or an open descriptor (a file just
    created, given away before a byte is written). Not root: nothing changes.
    """
    if not _as_root():
        return
    if isinstance(target, int):
        os.fchown(target, uid, gid)
    else:
        os.chown(target, uid, gid, dir_fd=dir_fd, follow_symlinks=False)


def make_owned_dir(
    path: Path | str, uid: int, gid: int, *, mode: int = 0o777, dir_fd: int | None = None
) -> None:
    """Create directory ``path`` (``mode`` less the umask, like ``mkdir``) and give it to
    ``uid``/``gid`` at once; it must not exist. Not root: it stays the caller's."""
    os.mkdir(path, mode, dir_fd=dir_fd)
    hand_over(path, uid, gid, dir_fd=dir_fd)


def write_owned(
    path: Path | str,
    data: bytes,
    uid: int,
    gid: int,
    *,
    mode: int = 0o644,
    dir_fd: int | None = None,
) -> None:
    """Create the new file ``path`` (never through a symlink; ``mode`` less the umask),
    give it to ``uid``/``gid`` on its descriptor, then write ``data``: the file holds
    nothing until it is theirs. Not root: it stays the caller's."""
    fd = os.open(path, _NEW_FILE, mode, dir_fd=dir_fd)
    with os.fdopen(fd, "wb") as handle:
        hand_over(handle.fileno(), uid, gid)
        handle.write(data)


def hand_over_tree(root: Path, uid: int, gid: int) -> int:
    """Make ``uid``/``gid`` the owner of directory ``root`` and everything in it; how many
    entries changed owner. Not root: nothing changes (0).

    ``root`` is a path the caller trusts: a symlink on the way to it is resolved, once;
    nothing below it is ever followed.
    """
    if not _as_root():
        return 0
    root = Path(os.path.realpath(root))
    changed = 0
    try:
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        raise TreeError(
            f"{root} cannot be handed over to uid {uid} ({exc.strerror}): it must be a "
            "directory; create it before handing it over (or opening a sandbox on it)"
        ) from exc
    try:
        info = os.fstat(fd)
        if (info.st_uid, info.st_gid) != (uid, gid):
            os.fchown(fd, uid, gid)
            changed += 1
    finally:
        os.close(fd)
    for step, entry in walk_tree(root):
        if step not in (Step.ITEM, Step.ENTER) or not _handed(entry.info, uid, gid):
            continue
        try:
            os.chown(entry.name, uid, gid, dir_fd=entry.dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            continue  # gone since its directory was listed
        changed += 1
    return changed


def _handed(info: os.stat_result, uid: int, gid: int) -> bool:
    """Whether an entry, as its directory listed it, is one to give away."""
    if stat.S_ISLNK(info.st_mode) or (info.st_uid, info.st_gid) == (uid, gid):
        return False
    return not (stat.S_ISREG(info.st_mode) and info.st_nlink > 1)
