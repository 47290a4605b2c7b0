"""The file operations themselves, on a tree named by a root descriptor (run in a worker).

Every operation resolves the *parent* of what it touches with ``openat2`` beneath the root,
then acts on the last component relative to that descriptor (``O_NOFOLLOW``, ``renameat``,
``unlinkat``, ``mkdirat``, ``fstat`` of the opened file). No host path string is ever handed
to a second system call, so swapping a directory for a symlink between two steps cannot
redirect one: the worst a racing process can do is make a call fail.

Relative symlinks that stay inside the tree are followed for reading and for directories on
the way; the last component is never followed when writing, editing, deleting or moving.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat

from toolchain._errors import PathOutsideWorkspaceError, WorkspaceError, WorkspaceLimitError
from toolchain.workspace._errors import ReadOnlyWorkspaceError
from toolchain.workspace._models import (
    EntryKind,
    FileEdited,
    FileRead,
    FileWritten,
    PathDeleted,
    PathMoved,
    TreeEntry,
    WorkspaceLimits,
)
from toolchain.workspace._names import EXAMPLE, MAX_COMPONENTS, join, parse_path, show
from toolchain.workspace._syscalls import RENAME_NOREPLACE, SAFE_RESOLVE, openat2, renameat2
from toolchain.workspace._text import is_binary, text_window
from toolchain.workspace._walk import kind_of

__all__ = ["NEW_DIR_MODE", "Tree"]

NEW_DIR_MODE = 0o755
_NEW_FILE_MODE = 0o644
_SCRIPT_MODE = 0o755
_HEX_PREVIEW_BYTES = 64
_DIR = os.O_PATH | os.O_DIRECTORY
_READ = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY
_RETRIES = 3


class _MissingError(WorkspaceError):
    """Nothing is there (a component is missing or is not a directory)."""


def _missing(shown: str) -> WorkspaceError:
    return _MissingError(f"'{shown}' does not exist; use list_files or glob to find the right path")


class Tree:
    """File operations below ``root_fd``; refuses changes when ``read_only``."""

    def __init__(self, root_fd: int, limits: WorkspaceLimits, *, read_only: bool) -> None:
        self.root = root_fd
        self.limits = limits
        self.read_only = read_only

    # -- lookups ----------------------------------------------------------------------------

    def lookup(self, parts: tuple[bytes, ...], flags: int, shown: str) -> int:
        """``parts`` opened beneath the root, symlinks inside followed; clear errors."""
        for attempt in range(_RETRIES):
            try:
                return openat2(self.root, join(parts), flags, SAFE_RESOLVE)
            except OSError as exc:
                if exc.errno == errno.EAGAIN and attempt < _RETRIES - 1:
                    continue  # a concurrent rename raced the lookup: the kernel asks to retry
                raise self.lookup_error(exc, parts, shown) from exc
        raise AssertionError("unreachable")

    def lookup_error(self, exc: OSError, parts: tuple[bytes, ...], shown: str) -> WorkspaceError:
        code = exc.errno
        if code == errno.EXDEV:
            return self._escape_error(parts, shown)
        if code == errno.ENOENT:
            return _missing(shown)
        if code == errno.ENOTDIR:
            return _MissingError(
                f"'{shown}' cannot be reached: a component of it is not a directory; check "
                "the path with list_files"
            )
        if code == errno.ELOOP:
            return WorkspaceError(
                f"path '{shown}' runs into a symlink loop (or more than 40 symlinks); remove "
                "or fix the looping symlink, or give a path that avoids it"
            )
        if code in (errno.EACCES, errno.EPERM):
            return WorkspaceError(
                f"'{shown}' cannot be reached (permission denied); give yourself access with "
                "run_command (for example chmod u+rwx on its directories, u+rw on the file)"
            )
        if code == errno.ENAMETOOLONG:
            return WorkspaceLimitError(f"path '{shown[:200]}' is too long; use a shorter path")
        if code == errno.EAGAIN:
            return WorkspaceError(
                f"the workspace kept changing while '{shown}' was looked up (concurrent "
                "renames); retry when nothing renames directories"
            )
        return WorkspaceError(f"cannot open '{shown}' ({os.strerror(code or 0)})")

    def _escape_error(self, parts: tuple[bytes, ...], shown: str) -> WorkspaceError:
        """Name the symlink that leads out, when it can be found (only for the message)."""
        for index in range(len(parts)):
            link = self._link_text(parts[:index], parts[index])
            if link is None:
                continue
            where = show(join(parts[: index + 1]))
            if link.startswith(b"/"):
                why = (
                    "an absolute symlink, and absolute symlinks are not followed: they lead "
                    "outside the workspace as the file tools see it (use a relative link)"
                )
            else:
                why = "a symlink that leads outside the workspace"
            return PathOutsideWorkspaceError(
                f"path '{shown}' goes through the symlink '{where}' -> '{show(link)}', {why}; "
                "only relative symlinks that stay inside the workspace are followed, so give "
                "the path of the real file inside the workspace"
            )
        return PathOutsideWorkspaceError(
            f"path '{shown}' leads outside the workspace (through a symlink or onto another "
            "file system); give the path of a real file inside the workspace"
        )

    def _link_text(self, parent: tuple[bytes, ...], name: bytes) -> bytes | None:
        try:
            fd = openat2(self.root, join(parent), _DIR, SAFE_RESOLVE)
        except OSError:
            return None
        try:
            return os.readlink(name, dir_fd=fd)
        except OSError:
            return None
        finally:
            os.close(fd)

    def parent(self, parts: tuple[bytes, ...], shown: str, *, create: bool = False) -> int:
        """An ``O_PATH`` descriptor of the directory ``parts`` (made, with parents, when
        ``create``)."""
        try:
            return openat2(self.root, join(parts), _DIR, SAFE_RESOLVE)
        except OSError as exc:
            if exc.errno == errno.ENOENT and create:
                return self._make_dirs(parts, shown)
            if exc.errno == errno.ENOTDIR and create:
                raise self._in_the_way(parts) from exc
            raise self.lookup_error(exc, parts, shown) from exc

    def _make_dirs(self, parts: tuple[bytes, ...], shown: str) -> int:
        current = os.dup(self.root)
        try:
            for index, name in enumerate(parts):
                prefix = parts[: index + 1]
                try:
                    following = openat2(self.root, join(prefix), _DIR, SAFE_RESOLVE)
                except OSError as exc:
                    if exc.errno == errno.ENOTDIR:
                        raise self._in_the_way(prefix) from exc
                    if exc.errno != errno.ENOENT:
                        raise self.lookup_error(exc, prefix, shown) from exc
                    following = self._make_dir(current, name, prefix, shown)
                os.close(current)
                current = following
            return current
        except BaseException:
            os.close(current)
            raise

    def _make_dir(self, parent: int, name: bytes, prefix: tuple[bytes, ...], shown: str) -> int:
        try:
            os.mkdir(name, NEW_DIR_MODE, dir_fd=parent)
        except FileExistsError:
            pass  # made meanwhile, or a dangling symlink: the lookup below tells
        except OSError as exc:
            raise WorkspaceError(
                f"cannot create directory '{show(join(prefix))}' ({exc.strerror})"
            ) from exc
        try:
            return openat2(self.root, join(prefix), _DIR, SAFE_RESOLVE)
        except OSError as exc:
            if exc.errno in (errno.ENOTDIR, errno.ENOENT):
                raise self._in_the_way(prefix) from exc
            raise self.lookup_error(exc, prefix, shown) from exc

    @staticmethod
    def _in_the_way(prefix: tuple[bytes, ...]) -> WorkspaceError:
        return WorkspaceError(
            f"cannot create directory '{show(join(prefix))}': a file is in the way (or a "
            "dangling symlink); delete or rename it, or choose another path"
        )

    def existing_parent(self, parts: tuple[bytes, ...], shown: str) -> int:
        """The parent of an entry that must exist: a missing parent means a missing entry."""
        try:
            return self.parent(parts[:-1], shown)
        except _MissingError as exc:
            raise _missing(shown) from exc

    @staticmethod
    def lstat_at(parent: int, name: bytes, shown: str) -> os.stat_result | None:
        try:
            return os.stat(name, dir_fd=parent, follow_symlinks=False)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise WorkspaceError(f"cannot inspect '{shown}' ({exc.strerror})") from exc

    def writable(self) -> None:
        if self.read_only:
            raise ReadOnlyWorkspaceError(
                "this tree is read-only (the revealed reference outputs); copy what you need "
                "into the workspace with read_file and write_file, then change the copy"
            )

    # -- reading ----------------------------------------------------------------------------

    def stat(self, path: str) -> TreeEntry:
        """What ``path`` is (symlinks inside followed)."""
        parts = parse_path(path)
        shown = show(join(parts))
        fd = self.lookup(parts, os.O_PATH, shown)
        try:
            info = os.fstat(fd)
        finally:
            os.close(fd)
        kind = kind_of(info.st_mode)
        size = info.st_size if kind is EntryKind.FILE else None
        return TreeEntry(path=shown, kind=kind, size=size)

    def load(self, fd: int, shown: str) -> tuple[bytes, os.stat_result]:
        """The whole regular file behind ``fd``; refuses hard links and files over the cap."""
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise WorkspaceError(f"'{shown}' is a directory; use list_files to see what it holds")
        if not stat.S_ISREG(info.st_mode):
            raise WorkspaceError(f"'{shown}' is not a regular file; only regular files can be read")
        if info.st_nlink > 1:
            raise PathOutsideWorkspaceError(
                f"'{shown}' has {info.st_nlink} hard links, and another link may be outside "
                "the workspace, so it cannot be read or changed; delete it (which removes "
                "only this link) and write the file afresh"
            )
        cap = self.limits.max_file_bytes
        if info.st_size > cap:
            raise self.too_large(shown, info.st_size)
        chunks: list[bytes] = []
        total = 0
        while total <= cap:
            try:
                chunk = os.read(fd, min(1 << 20, cap + 1 - total))
            except OSError as exc:
                raise WorkspaceError(f"cannot read '{shown}' ({exc.strerror})") from exc
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > cap:
            raise self.too_large(shown, total)
        return b"".join(chunks), info

    def too_large(self, shown: str, size: int) -> WorkspaceLimitError:
        return WorkspaceLimitError(
            f"'{shown}' is {size} bytes, over the {self.limits.max_file_bytes} byte limit "
            "for workspace file operations; inspect it with a command in the sandbox "
            "instead (for example head, tail or grep)"
        )

    def read(self, path: str, offset: int, limit: int | None) -> FileRead:
        if offset < 0:
            raise WorkspaceError(f"offset must be 0 or more (a byte position); got {offset}")
        most = self.limits.max_read_bytes
        if limit is not None and limit < 1:
            raise WorkspaceError(
                f"limit must be at least 1 byte (at most {most} are returned per read); got {limit}"
            )
        limit = most if limit is None else min(limit, most)
        parts = parse_path(path)
        shown = show(join(parts))
        fd = self.lookup(parts, _READ, shown)
        try:
            data, _ = self.load(fd, shown)
        finally:
            os.close(fd)
        size = len(data)
        if offset > size:
            raise WorkspaceError(
                f"offset {offset} is past the end of '{shown}' ({size} bytes); use an "
                f"offset from 0 to {size}"
            )
        binary = is_binary(data)
        if binary:
            start, end = offset, min(size, offset + min(limit, _HEX_PREVIEW_BYTES))
        else:
            start, end = text_window(data, offset, limit)
        chunk = data[start:end]
        more = end < size
        return FileRead(
            path=shown,
            size=size,
            offset=start,
            bytes_returned=len(chunk),
            content=None if binary else chunk.decode("utf-8"),
            binary=binary,
            hex_preview=chunk.hex(" ") if binary else None,
            truncated=more,
            next_offset=end if more else None,
        )

    # -- writing ----------------------------------------------------------------------------

    def write(self, path: str, data: bytes, create_dirs: bool) -> FileWritten:
        """Create or replace a file atomically; a new file starting with ``#!`` is made
        executable."""
        self.writable()
        if len(data) > self.limits.max_file_bytes:
            raise WorkspaceLimitError(
                f"content is {len(data)} bytes, over the {self.limits.max_file_bytes} byte "
                "limit for one file; split it into smaller files"
            )
        parts = parse_path(path)
        if not parts:
            raise WorkspaceError(
                f"cannot write to the workspace root itself; give a file path, {EXAMPLE}"
            )
        shown = show(join(parts))
        if create_dirs:
            parent = self.parent(parts[:-1], shown, create=True)
        else:
            parent = self._parent_for_write(parts, shown)
        try:
            info = self.lstat_at(parent, parts[-1], shown)
            mode = _SCRIPT_MODE if data.startswith(b"#!") else _NEW_FILE_MODE
            if info is not None:
                self._check_replaceable(parent, parts[-1], info, shown, "write")
                mode = stat.S_IMODE(info.st_mode) & 0o777
            self.replace(parent, parts[-1], data, mode, shown)
        finally:
            os.close(parent)
        return FileWritten(path=shown, bytes_written=len(data), created=info is None)

    def _parent_for_write(self, parts: tuple[bytes, ...], shown: str) -> int:
        try:
            return self.parent(parts[:-1], shown)
        except _MissingError as exc:
            raise WorkspaceError(
                f"directory '{show(join(parts[:-1]))}' does not exist; create it first or "
                "pass create_dirs=True"
            ) from exc

    def _check_replaceable(
        self, parent: int, name: bytes, info: os.stat_result, shown: str, action: str
    ) -> None:
        if stat.S_ISLNK(info.st_mode):
            raise self.symlink_refusal(parent, name, shown, action)
        if stat.S_ISDIR(info.st_mode):
            raise WorkspaceError(
                f"'{shown}' is a directory; give a file path inside it, like '{shown}/name.c'"
            )
        if not stat.S_ISREG(info.st_mode):
            raise WorkspaceError(
                f"'{shown}' is not a regular file; delete it first or choose another path"
            )
        if info.st_nlink > 1:
            raise PathOutsideWorkspaceError(
                f"'{shown}' has {info.st_nlink} hard links, and another link may be outside "
                "the workspace, so it cannot be read or changed; delete it (which removes "
                "only this link) and write the file afresh"
            )

    @staticmethod
    def symlink_refusal(parent: int, name: bytes, shown: str, action: str) -> WorkspaceError:
        try:
            target = show(os.readlink(name, dir_fd=parent))
        except OSError:
            target = "?"
        return WorkspaceError(
            f"'{shown}' is a symlink; {action} through symlinks is not allowed, {action} the "
            f"file it points to ('{target}') instead"
        )

    def replace(self, parent: int, name: bytes, data: bytes, mode: int, shown: str) -> None:
        """Write ``data`` to a new file beside ``name`` and rename it over ``name``."""
        temp = b".ramp-" + os.urandom(8).hex().encode() + b".tmp"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            fd = os.open(temp, flags, 0o600, dir_fd=parent)
        except OSError as exc:
            raise WorkspaceError(
                f"cannot write '{shown}' ({exc.strerror}); check that its directory is "
                "writable (chmod u+w with run_command)"
            ) from exc
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fchmod(fd, mode)
            finally:
                os.close(fd)
            os.rename(temp, name, src_dir_fd=parent, dst_dir_fd=parent)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(temp, dir_fd=parent)
            raise WorkspaceError(f"cannot write '{shown}' ({exc.strerror})") from exc

    def edit(self, path: str, old: str, new: str, replace_all: bool) -> FileEdited:
        """Replace the exact text ``old`` with ``new``; once unless ``replace_all``."""
        self.writable()
        if not old:
            raise WorkspaceError(
                "old text is empty; give the exact text to replace, or use write to "
                "create or overwrite a whole file"
            )
        if old == new:
            raise WorkspaceError("old and new text are identical; there is nothing to change")
        parts = parse_path(path)
        shown = show(join(parts))
        if not parts:
            raise WorkspaceError(f"the workspace root is a directory; give a file path, {EXAMPLE}")
        parent = self.existing_parent(parts, shown)
        try:
            try:
                fd = os.open(parts[-1], _READ | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent)
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    raise self.symlink_refusal(parent, parts[-1], shown, "edit") from exc
                if exc.errno == errno.ENOENT:
                    raise _missing(shown) from exc
                raise self.lookup_error(exc, parts, shown) from exc
            try:
                data, info = self.load(fd, shown)
            finally:
                os.close(fd)
            text, replacements = self._edited(data, old, new, replace_all, shown)
            encoded = text.encode("utf-8")
            if len(encoded) > self.limits.max_file_bytes:
                raise WorkspaceLimitError(
                    f"after the edit '{shown}' would be {len(encoded)} bytes, over the "
                    f"{self.limits.max_file_bytes} byte limit; split the file instead"
                )
            self.replace(parent, parts[-1], encoded, stat.S_IMODE(info.st_mode) & 0o777, shown)
        finally:
            os.close(parent)
        return FileEdited(path=shown, replacements=replacements, size=len(encoded))

    @staticmethod
    def _edited(data: bytes, old: str, new: str, replace_all: bool, shown: str) -> tuple[str, int]:
        if is_binary(data):
            raise WorkspaceError(
                f"'{shown}' is a binary file (not UTF-8 text); edit only changes text files, "
                "use write to replace it whole"
            )
        text = data.decode("utf-8")
        count = text.count(old)
        if count == 0:
            raise WorkspaceError(
                f"old text not found in '{shown}'; read the file first and copy the exact "
                "text, including whitespace, indentation and line endings"
            )
        if count > 1 and not replace_all:
            raise WorkspaceError(
                f"old text occurs {count} times in '{shown}'; include more surrounding "
                "context so it matches exactly once, or pass replace_all=True to replace "
                "every occurrence"
            )
        if replace_all:
            return text.replace(old, new), count
        return text.replace(old, new, 1), 1

    # -- deleting and moving ----------------------------------------------------------------

    def delete(self, path: str, recursive: bool) -> PathDeleted:
        """Delete a file, a symlink (the link only) or a directory."""
        self.writable()
        parts = parse_path(path)
        if not parts:
            raise WorkspaceError(
                "refusing to delete the workspace root; give the path of a file or "
                "directory inside it, like 'build'"
            )
        shown = show(join(parts))
        parent = self.existing_parent(parts, shown)
        try:
            info = self.lstat_at(parent, parts[-1], shown)
            if info is None:
                raise _missing(shown)
            kind = kind_of(info.st_mode)
            try:
                if kind is not EntryKind.DIR:
                    os.unlink(parts[-1], dir_fd=parent)
                elif recursive:
                    _remove_tree(parent, parts[-1], shown)
                else:
                    os.rmdir(parts[-1], dir_fd=parent)
            except OSError as exc:
                if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
                    raise WorkspaceError(
                        f"directory '{shown}' is not empty; pass recursive=True to delete it "
                        "and everything in it"
                    ) from exc
                if exc.errno == errno.ENOENT:
                    raise _missing(shown) from exc
                raise WorkspaceError(f"cannot delete '{shown}' ({exc.strerror})") from exc
        finally:
            os.close(parent)
        return PathDeleted(path=shown, kind=kind)

    def move(self, src: str, dst: str, overwrite: bool) -> PathMoved:
        """Rename ``src`` to ``dst`` (a symlink moves as the link itself)."""
        self.writable()
        source, target = parse_path(src, "source"), parse_path(dst, "destination")
        if not source or not target:
            raise WorkspaceError(
                "cannot move the workspace root or move onto it; give paths inside it, "
                "like 'old.c' and 'src/new.c'"
            )
        src_shown, dst_shown = show(join(source)), show(join(target))
        if source == target:
            raise WorkspaceError(f"source and destination are both '{src_shown}'; nothing to move")
        src_parent = self.existing_parent(source, src_shown)
        try:
            info = self.lstat_at(src_parent, source[-1], src_shown)
            if info is None:
                raise _missing(src_shown)
            kind = kind_of(info.st_mode)
            if kind is EntryKind.DIR and target[: len(source)] == source:
                raise WorkspaceError(
                    f"cannot move directory '{src_shown}' into itself ('{dst_shown}'); "
                    "choose a destination outside it"
                )
            dst_parent = self.parent(target[:-1], dst_shown, create=True)
            try:
                existing = self.lstat_at(dst_parent, target[-1], dst_shown)
                self._check_move_target(existing, kind, overwrite, dst_shown, source[-1])
                self._rename(src_parent, source[-1], dst_parent, target[-1], overwrite)
            except OSError as exc:
                raise _move_error(exc, src_shown, dst_shown) from exc
            finally:
                os.close(dst_parent)
        finally:
            os.close(src_parent)
        return PathMoved(src=src_shown, dst=dst_shown, kind=kind, overwrote=existing is not None)

    @staticmethod
    def _check_move_target(
        existing: os.stat_result | None,
        kind: EntryKind,
        overwrite: bool,
        dst_shown: str,
        src_name: bytes,
    ) -> None:
        if existing is None:
            return
        if not overwrite:
            raise WorkspaceError(
                f"'{dst_shown}' already exists; pass overwrite=True to replace it, or "
                "choose another destination"
            )
        if stat.S_ISDIR(existing.st_mode) and kind is not EntryKind.DIR:
            raise WorkspaceError(
                f"'{dst_shown}' is a directory; to move into it give the full destination "
                f"path, like '{dst_shown}/{show(src_name)}'"
            )

    @staticmethod
    def _rename(src_dir: int, src: bytes, dst_dir: int, dst: bytes, overwrite: bool) -> None:
        if overwrite:
            os.rename(src, dst, src_dir_fd=src_dir, dst_dir_fd=dst_dir)
        else:
            renameat2(src_dir, src, dst_dir, dst, RENAME_NOREPLACE)


def _move_error(exc: OSError, src: str, dst: str) -> WorkspaceError:
    code = exc.errno
    if code == errno.EEXIST:
        return WorkspaceError(
            f"'{dst}' already exists; pass overwrite=True to replace it, or choose another "
            "destination"
        )
    if code == errno.ENOTEMPTY:
        return WorkspaceError(
            f"directory '{dst}' is not empty; delete it first or choose another destination"
        )
    if code == errno.EINVAL:
        return WorkspaceError(
            f"cannot move directory '{src}' into itself ('{dst}'); choose a destination outside it"
        )
    if code == errno.ENOENT:
        return _missing(src)
    if code in (errno.EISDIR, errno.ENOTDIR):
        return WorkspaceError(
            f"cannot move '{src}' onto '{dst}': a directory can only replace a directory, "
            "and a file only a file; choose another destination"
        )
    if code == errno.EXDEV:
        return WorkspaceError(f"cannot move '{src}' to '{dst}': they are on different file systems")
    return WorkspaceError(f"cannot move '{src}' to '{dst}' ({exc.strerror})")


def _names_in(fd: int) -> list[bytes]:
    return [os.fsencode(name) for name in os.listdir(fd)]


def _remove_tree(parent: int, name: bytes, shown: str) -> None:
    """Delete directory ``name`` below ``parent`` and all it holds, through descriptors (a
    symlink met on the way is removed as a link, never followed)."""
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    top = os.open(name, flags, dir_fd=parent)
    stack: list[tuple[int, bytes, int, list[bytes]]] = [(parent, name, top, _names_in(top))]
    try:
        while stack:
            outer, own, fd, names = stack[-1]
            if not names:
                stack.pop()
                os.close(fd)
                os.rmdir(own, dir_fd=outer)
                continue
            child = names.pop()
            try:
                info = os.stat(child, dir_fd=fd, follow_symlinks=False)
            except FileNotFoundError:
                continue
            if not stat.S_ISDIR(info.st_mode):
                _unlink_quietly(child, fd)
                continue
            if len(stack) >= MAX_COMPONENTS:
                raise WorkspaceLimitError(
                    f"'{shown}' is more than {MAX_COMPONENTS} directories deep, deeper than "
                    "delete_path goes; delete it with run_command (rm -rf)"
                )
            inner = os.open(child, flags, dir_fd=fd)
            stack.append((fd, child, inner, _names_in(inner)))
    finally:
        for _, _, fd, _ in stack:
            os.close(fd)


def _unlink_quietly(name: bytes, dir_fd: int) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(name, dir_fd=dir_fd)
