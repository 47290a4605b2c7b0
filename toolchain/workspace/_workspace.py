"""A file API confined to one workspace directory.

Untrusted agents name files with relative path strings. :meth:`Workspace.resolve` is the
one place that turns such a string into a host path; every operation goes through it and
never follows a symlink out of the workspace root.

The checks are made against the file system as it is when a call starts. A process that
changes the tree concurrently (for example a command running in the sandbox) could still
swap a directory for a symlink between a check and its use; operations re-check what
they can cheaply (the opened file's inode, the parent directory of a write) to keep that
window small.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import stat
import tempfile
import time
from collections import deque
from collections.abc import Iterator
from fnmatch import fnmatchcase
from pathlib import Path

import regex as _regex

from toolchain._errors import PathOutsideWorkspaceError, WorkspaceError, WorkspaceLimitError
from toolchain.workspace._models import (
    EntryKind,
    FileEdited,
    FileRead,
    FileWritten,
    GlobResult,
    GrepMatch,
    GrepResult,
    PathDeleted,
    PathMoved,
    TreeEntry,
    TreeListing,
    WorkspaceLimits,
)

__all__ = ["Workspace"]

_EXAMPLE = "like 'src/main.c'"
_BINARY_SNIFF_BYTES = 8 * 1024
_HEX_PREVIEW_BYTES = 64
_GREP_LINE_CHARS = 500
_GREP_LINE_LEAD = 100
_NEW_FILE_MODE = 0o644
_GLOB_MAGIC = frozenset("*?[")
# An agent's regular expression may backtrack for ever; grep gives up after this.
_GREP_SECONDS = 5.0


def _kind(mode: int) -> EntryKind:
    if stat.S_ISLNK(mode):
        return EntryKind.SYMLINK
    if stat.S_ISDIR(mode):
        return EntryKind.DIR
    if stat.S_ISREG(mode):
        return EntryKind.FILE
    return EntryKind.OTHER


def _is_binary(data: bytes) -> bool:
    if b"\0" in data[:_BINARY_SNIFF_BYTES]:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _is_continuation(data: bytes, index: int) -> bool:
    return index < len(data) and data[index] & 0xC0 == 0x80


def _text_window(data: bytes, offset: int, limit: int) -> tuple[int, int]:
    """Byte range of at most ``limit`` bytes from ``offset`` that starts and ends on
    UTF-8 character boundaries (``data`` is valid UTF-8)."""
    start = offset
    while _is_continuation(data, start):
        start += 1
    end = min(len(data), start + limit)
    back = end
    while back > start and _is_continuation(data, back):
        back -= 1
    if back > start:
        return start, back
    # The limit is smaller than the character at ``start``: return that one character.
    while _is_continuation(data, end):
        end += 1
    return start, end


def _encode(text: str, what: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise WorkspaceError(
            f"{what} is not valid Unicode text (a lone surrogate {text[exc.start]!r} at "
            f"character {exc.start}); send UTF-8 text, or write binary data with a command "
            "in the sandbox"
        ) from exc


def _pattern_matches(segments: tuple[str, ...], parts: tuple[str, ...]) -> bool:
    """Whether path ``parts`` match glob ``segments``; ``**`` spans any number of parts."""
    reachable = {0}
    for segment in segments:
        following: set[int] = set()
        for index in reachable:
            if segment == "**":
                following.update(range(index, len(parts) + 1))
            elif index < len(parts) and fnmatchcase(parts[index], segment):
                following.add(index + 1)
        if not following:
            return False
        reachable = following
    return len(parts) in reachable


class Workspace:
    """File operations confined to the directory ``root``."""

    def __init__(self, root: Path, *, limits: WorkspaceLimits | None = None) -> None:
        try:
            real_root = Path(root).resolve(strict=True)
        except (OSError, RuntimeError) as exc:
            raise WorkspaceError(
                f"workspace root {str(root)!r} cannot be used ({exc}); "
                "create the directory before opening a workspace on it"
            ) from exc
        if not real_root.is_dir():
            raise WorkspaceError(
                f"workspace root {str(root)!r} is not a directory; give a directory path"
            )
        self._root = real_root
        self._limits = limits if limits is not None else WorkspaceLimits()

    @property
    def root(self) -> Path:
        """The real (symlink-free) path of the workspace root."""
        return self._root

    @property
    def limits(self) -> WorkspaceLimits:
        return self._limits

    # -- path validation ---------------------------------------------------------------

    def resolve(self, path: str) -> Path:
        """Validate a workspace-relative path and return it as a host path.

        Every directory along the returned path is real (symlinks inside the workspace
        are replaced by their targets); the last component is left as named, so it may
        be a symlink, which then points inside the workspace. The path need not exist.
        """
        parts = self._split(path)
        current = self._root
        for index, name in enumerate(parts):
            candidate = current / name
            try:
                info = candidate.lstat()
            except (FileNotFoundError, NotADirectoryError):
                # Nothing below a missing entry or a file exists, so the rest is plain.
                return self._confirm_inside(current.joinpath(*parts[index:]), path)
            except OSError as exc:
                raise WorkspaceError(
                    f"path {path!r} cannot be checked ({exc.strerror}); "
                    f"give an existing path relative to the workspace root, {_EXAMPLE}"
                ) from exc
            if stat.S_ISLNK(info.st_mode):
                target = self._real(candidate, path)
                if not self._inside(target):
                    raise PathOutsideWorkspaceError(
                        f"path {path!r} goes through the symlink '{self._rel(candidate)}' "
                        f"-> {self._link_text(candidate)!r}, which leads outside the "
                        "workspace; only symlinks that stay inside the workspace can be "
                        "used, so give the path of the real file inside the workspace"
                    )
                if index == len(parts) - 1:
                    return candidate
                current = target
            else:
                current = candidate
        return self._confirm_inside(current, path)

    def _split(self, path: str) -> tuple[str, ...]:
        if not isinstance(path, str):
            raise WorkspaceError(
                f"path must be a string relative to the workspace root, {_EXAMPLE}; "
                f"got {type(path).__name__}"
            )
        if "\0" in path:
            raise PathOutsideWorkspaceError(
                f"path {path!r} contains a NUL byte; give a plain path relative to the "
                f"workspace root, {_EXAMPLE}"
            )
        if path.startswith("/"):
            raise PathOutsideWorkspaceError(
                f"path {path!r} is absolute; give a path relative to the workspace root, {_EXAMPLE}"
            )
        try:
            os.fsencode(path)
        except UnicodeEncodeError as exc:
            raise WorkspaceError(
                f"path {path!r} is not valid text for a file name; give a plain path "
                f"relative to the workspace root, {_EXAMPLE}"
            ) from exc
        parts = tuple(part for part in path.split("/") if part not in ("", "."))
        if ".." in parts:
            raise PathOutsideWorkspaceError(
                f"path {path!r} contains a '..' component, which is not allowed; give a "
                f"path relative to the workspace root without '..', {_EXAMPLE}"
            )
        return parts

    def _real(self, path: Path, shown: str) -> Path:
        try:
            return path.resolve()
        except RuntimeError as exc:  # Python 3.11 reports symlink loops this way.
            raise WorkspaceError(
                f"path {shown!r} runs into a symlink loop; remove or fix the looping "
                "symlink, or give a path that avoids it"
            ) from exc
        except OSError as exc:
            raise WorkspaceError(
                f"path {shown!r} cannot be resolved ({exc.strerror}); give an existing "
                f"path relative to the workspace root, {_EXAMPLE}"
            ) from exc

    def _inside(self, real: Path) -> bool:
        return real == self._root or real.is_relative_to(self._root)

    def _confirm_inside(self, candidate: Path, shown: str) -> Path:
        if not self._inside(self._real(candidate, shown)):
            raise PathOutsideWorkspaceError(
                f"path {shown!r} resolves outside the workspace; give a path relative to "
                f"the workspace root, {_EXAMPLE}"
            )
        return candidate

    def _rel(self, path: Path) -> str:
        return path.relative_to(self._root).as_posix()

    @staticmethod
    def _link_text(path: Path) -> str:
        try:
            return str(path.readlink())
        except OSError:
            return "?"

    @staticmethod
    def _lstat(path: Path) -> os.stat_result | None:
        try:
            return path.lstat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise WorkspaceError(f"cannot inspect '{path.name}' ({exc.strerror})") from exc

    def _existing(self, path: Path) -> os.stat_result:
        info = self._lstat(path)
        if info is None:
            raise WorkspaceError(
                f"'{self._rel(path)}' does not exist; use list_tree or glob to find the right path"
            )
        return info

    def _check_single_link(self, path: Path, info: os.stat_result) -> None:
        """Refuse a regular file with more than one hard link.

        Another link to the same inode may live outside the workspace, so reading or
        writing the file could reach data the workspace does not own.
        """
        if stat.S_ISREG(info.st_mode) and info.st_nlink > 1:
            raise PathOutsideWorkspaceError(
                f"'{self._rel(path)}' has {info.st_nlink} hard links, and another link may "
                "be outside the workspace, so it cannot be read or changed; delete it "
                "(which removes only this link) and write the file afresh"
            )

    def _symlink_refusal(self, path: Path, action: str) -> WorkspaceError:
        target = self._rel(self._real(path, self._rel(path)))
        return WorkspaceError(
            f"'{self._rel(path)}' is a symlink; {action} through symlinks is not allowed, "
            f"{action} the file it points to ('{target}') instead"
        )

    # -- listing -----------------------------------------------------------------------

    def _walk(self, start: Path, max_depth: int | None) -> Iterator[tuple[Path, os.stat_result]]:
        """Breadth-first walk below ``start``, sorted by name, never entering symlinks."""
        queue: deque[tuple[Path, int]] = deque([(start, 1)])
        while queue:
            directory, depth = queue.popleft()
            try:
                with os.scandir(directory) as scan:
                    entries = sorted(scan, key=lambda entry: entry.name)
            except OSError:
                continue
            for entry in entries:
                child = directory / entry.name
                try:
                    info = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                yield child, info
                if stat.S_ISDIR(info.st_mode) and (max_depth is None or depth < max_depth):
                    queue.append((child, depth + 1))

    def list_tree(self, path: str = "", *, depth: int = 3) -> TreeListing:
        """List entries below a directory, ``depth`` levels deep (1 = direct children)."""
        if depth < 1:
            raise WorkspaceError(
                f"depth must be at least 1 (1 lists only direct children); got {depth}"
            )
        start = self.resolve(path)
        rel = self._rel(start)
        info = self._existing(start)
        if stat.S_ISLNK(info.st_mode):
            info = self._stat_target(start)
        if not stat.S_ISDIR(info.st_mode):
            raise WorkspaceError(
                f"'{rel}' is not a directory; use read to see a file, or list its parent directory"
            )
        cap = self._limits.max_list_entries
        entries: list[TreeEntry] = []
        truncated = False
        for child, child_info in self._walk(start, depth):
            if len(entries) >= cap:
                truncated = True
                break
            kind = _kind(child_info.st_mode)
            entries.append(
                TreeEntry(
                    path=self._rel(child),
                    kind=kind,
                    size=child_info.st_size if kind is EntryKind.FILE else None,
                    target=self._link_text(child) if kind is EntryKind.SYMLINK else None,
                )
            )
        entries.sort(key=lambda entry: entry.path.split("/"))
        return TreeListing(path=rel, depth=depth, entries=tuple(entries), truncated=truncated)

    def _stat_target(self, path: Path) -> os.stat_result:
        try:
            return path.stat()
        except OSError as exc:
            raise WorkspaceError(
                f"'{self._rel(path)}' is a symlink whose target cannot be used "
                f"({exc.strerror}); fix or delete the symlink"
            ) from exc

    # -- reading -----------------------------------------------------------------------

    def _load(self, path: Path) -> bytes:
        """Read a whole regular file, refusing hard links and files over the size cap."""
        rel = self._rel(path)
        try:
            # O_NONBLOCK keeps a FIFO from blocking the open; it is refused below.
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except FileNotFoundError as exc:
            raise WorkspaceError(
                f"'{rel}' does not exist; use list_tree or glob to find the right path"
            ) from exc
        except OSError as exc:
            raise WorkspaceError(f"cannot open '{rel}' ({exc.strerror})") from exc
        try:
            info = os.fstat(fd)
            if stat.S_ISDIR(info.st_mode):
                raise WorkspaceError(
                    f"'{rel}' is a directory; use list_tree to see what it contains"
                )
            if not stat.S_ISREG(info.st_mode):
                raise WorkspaceError(
                    f"'{rel}' is not a regular file; only regular files can be read"
                )
            self._check_single_link(path, info)
            cap = self._limits.max_file_bytes
            if info.st_size > cap:
                raise self._too_large(rel, info.st_size)
            with os.fdopen(fd, "rb", closefd=False) as handle:
                data = handle.read(cap + 1)
        except OSError as exc:
            raise WorkspaceError(f"cannot read '{rel}' ({exc.strerror})") from exc
        finally:
            os.close(fd)
        if len(data) > cap:
            raise self._too_large(rel, len(data))
        return data

    def _too_large(self, rel: str, size: int) -> WorkspaceLimitError:
        return WorkspaceLimitError(
            f"'{rel}' is {size} bytes, over the {self._limits.max_file_bytes} byte limit "
            "for workspace file operations; inspect it with a command in the sandbox "
            "instead (for example head, tail or grep)"
        )

    def read(self, path: str, *, offset: int = 0, limit: int | None = None) -> FileRead:
        """Read up to ``limit`` bytes of a file starting at byte ``offset``.

        Text chunks are widened or narrowed to whole UTF-8 characters. Binary files
        (a NUL byte in the first 8 KiB, or invalid UTF-8) get a hex preview instead.
        """
        if offset < 0:
            raise WorkspaceError(f"offset must be 0 or more (a byte position); got {offset}")
        max_read = self._limits.max_read_bytes
        if limit is None:
            limit = max_read
        elif limit < 1:
            raise WorkspaceError(
                f"limit must be at least 1 byte (at most {max_read} are returned per "
                f"read); got {limit}"
            )
        limit = min(limit, max_read)
        target = self.resolve(path)
        data = self._load(target)
        rel, size = self._rel(target), len(data)
        if offset > size:
            raise WorkspaceError(
                f"offset {offset} is past the end of '{rel}' ({size} bytes); use an "
                f"offset from 0 to {size}"
            )
        binary = _is_binary(data)
        if binary:
            start, end = offset, min(size, offset + min(limit, _HEX_PREVIEW_BYTES))
        else:
            start, end = _text_window(data, offset, limit)
        chunk = data[start:end]
        more = end < size
        return FileRead(
            path=rel,
            size=size,
            offset=start,
            bytes_returned=len(chunk),
            content=None if binary else chunk.decode("utf-8"),
            binary=binary,
            hex_preview=chunk.hex(" ") if binary else None,
            truncated=more,
            next_offset=end if more else None,
        )

    # -- writing -----------------------------------------------------------------------

    def write(self, path: str, content: str | bytes, *, create_dirs: bool = True) -> FileWritten:
        """Create or replace a file atomically."""
        data = _encode(content, "content") if isinstance(content, str) else bytes(content)
        cap = self._limits.max_file_bytes
        if len(data) > cap:
            raise WorkspaceLimitError(
                f"content is {len(data)} bytes, over the {cap} byte limit for one file; "
                "split it into smaller files"
            )
        target = self.resolve(path)
        if target == self._root:
            raise WorkspaceError(
                f"cannot write to the workspace root itself; give a file path, {_EXAMPLE}"
            )
        rel = self._rel(target)
        info = self._lstat(target)
        mode = _NEW_FILE_MODE
        if info is not None:
            if stat.S_ISLNK(info.st_mode):
                raise self._symlink_refusal(target, "write")
            if stat.S_ISDIR(info.st_mode):
                raise WorkspaceError(
                    f"'{rel}' is a directory; give a file path inside it, like '{rel}/name.c'"
                )
            if not stat.S_ISREG(info.st_mode):
                raise WorkspaceError(
                    f"'{rel}' is not a regular file; delete it first or choose another path"
                )
            self._check_single_link(target, info)
            mode = stat.S_IMODE(info.st_mode)
        self._prepare_parent(target, path, create=create_dirs)
        self._replace_with(target, data, mode)
        return FileWritten(path=rel, bytes_written=len(data), created=info is None)

    def _prepare_parent(self, target: Path, shown: str, *, create: bool) -> None:
        parent = target.parent
        rel = self._rel(parent)
        if create:
            try:
                parent.mkdir(parents=True, exist_ok=True)
            except (FileExistsError, NotADirectoryError) as exc:
                raise WorkspaceError(
                    f"cannot create directory '{rel}': a file is in the way; delete or "
                    "rename that file, or choose another path"
                ) from exc
            except OSError as exc:
                raise WorkspaceError(f"cannot create directory '{rel}' ({exc.strerror})") from exc
        elif not parent.is_dir():
            raise WorkspaceError(
                f"directory '{rel}' does not exist; create it first or pass create_dirs=True"
            )
        # The parent may have been swapped for a symlink since resolve() looked at it.
        self._confirm_inside(parent, shown)

    def _replace_with(self, target: Path, data: bytes, mode: int) -> None:
        rel = self._rel(target)
        try:
            fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=".ramp-", suffix=".tmp")
        except OSError as exc:
            raise WorkspaceError(
                f"cannot write '{rel}' ({exc.strerror}); check that its directory exists "
                "and is writable"
            ) from exc
        temp = Path(temp_name)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                os.fchmod(handle.fileno(), mode)
            temp.replace(target)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            raise WorkspaceError(f"cannot write '{rel}' ({exc.strerror})") from exc

    def edit(self, path: str, old: str, new: str, *, replace_all: bool = False) -> FileEdited:
        """Replace the exact text ``old`` with ``new``; once unless ``replace_all``."""
        if not old:
            raise WorkspaceError(
                "old text is empty; give the exact text to replace, or use write to "
                "create or overwrite a whole file"
            )
        if old == new:
            raise WorkspaceError("old and new text are identical; there is nothing to change")
        target = self.resolve(path)
        rel = self._rel(target)
        info = self._existing(target)
        if stat.S_ISLNK(info.st_mode):
            raise self._symlink_refusal(target, "edit")
        data = self._load(target)
        if _is_binary(data):
            raise WorkspaceError(
                f"'{rel}' is a binary file (not UTF-8 text); edit only changes text files, "
                "use write to replace it whole"
            )
        text = data.decode("utf-8")
        count = text.count(old)
        if count == 0:
            raise WorkspaceError(
                f"old text not found in '{rel}'; read the file first and copy the exact "
                "text, including whitespace, indentation and line endings"
            )
        if count > 1 and not replace_all:
            raise WorkspaceError(
                f"old text occurs {count} times in '{rel}'; include more surrounding "
                "context so it matches exactly once, or pass replace_all=True to replace "
                "every occurrence"
            )
        replaced = text.replace(old, new) if replace_all else text.replace(old, new, 1)
        encoded = _encode(replaced, "the new text")
        if len(encoded) > self._limits.max_file_bytes:
            raise WorkspaceLimitError(
                f"after the edit '{rel}' would be {len(encoded)} bytes, over the "
                f"{self._limits.max_file_bytes} byte limit; split the file instead"
            )
        self._replace_with(target, encoded, stat.S_IMODE(info.st_mode))
        return FileEdited(path=rel, replacements=count if replace_all else 1, size=len(encoded))

    def delete(self, path: str, *, recursive: bool = False) -> PathDeleted:
        """Delete a file, symlink (the link only) or directory."""
        target = self.resolve(path)
        if target == self._root:
            raise WorkspaceError(
                "refusing to delete the workspace root; give the path of a file or "
                "directory inside it, like 'build'"
            )
        rel = self._rel(target)
        kind = _kind(self._existing(target).st_mode)
        try:
            if kind is not EntryKind.DIR:
                target.unlink()
            elif recursive:
                shutil.rmtree(target)
            else:
                target.rmdir()
        except OSError as exc:
            if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
                raise WorkspaceError(
                    f"directory '{rel}' is not empty; pass recursive=True to delete it "
                    "and everything in it"
                ) from exc
            raise WorkspaceError(f"cannot delete '{rel}' ({exc.strerror})") from exc
        return PathDeleted(path=rel, kind=kind)

    def move(self, src: str, dst: str, *, overwrite: bool = False) -> PathMoved:
        """Rename ``src`` to ``dst`` (a symlink moves as the link itself)."""
        source = self.resolve(src)
        destination = self.resolve(dst)
        if self._root in (source, destination):
            raise WorkspaceError(
                "cannot move the workspace root or move onto it; give paths inside it, "
                "like 'old.c' and 'src/new.c'"
            )
        src_rel, dst_rel = self._rel(source), self._rel(destination)
        kind = _kind(self._existing(source).st_mode)
        if source == destination:
            raise WorkspaceError(f"source and destination are both '{src_rel}'; nothing to move")
        if kind is EntryKind.DIR and destination.is_relative_to(source):
            raise WorkspaceError(
                f"cannot move directory '{src_rel}' into itself ('{dst_rel}'); choose a "
                "destination outside it"
            )
        existing = self._lstat(destination)
        if existing is not None:
            if not overwrite:
                raise WorkspaceError(
                    f"'{dst_rel}' already exists; pass overwrite=True to replace it, or "
                    "choose another destination"
                )
            if stat.S_ISDIR(existing.st_mode) and kind is not EntryKind.DIR:
                raise WorkspaceError(
                    f"'{dst_rel}' is a directory; to move into it give the full "
                    f"destination path, like '{dst_rel}/{source.name}'"
                )
        self._prepare_parent(destination, dst, create=True)
        try:
            source.replace(destination)
        except OSError as exc:
            if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
                raise WorkspaceError(
                    f"directory '{dst_rel}' is not empty; delete it first or choose "
                    "another destination"
                ) from exc
            raise WorkspaceError(
                f"cannot move '{src_rel}' to '{dst_rel}' ({exc.strerror})"
            ) from exc
        return PathMoved(src=src_rel, dst=dst_rel, kind=kind, overwrote=existing is not None)

    # -- searching ---------------------------------------------------------------------

    def _glob_segments(self, pattern: str, what: str) -> tuple[str, ...]:
        example = "like '**/*.c' or 'src/*.h'"
        if "\0" in pattern:
            raise PathOutsideWorkspaceError(
                f"{what} {pattern!r} contains a NUL byte; give a plain pattern, {example}"
            )
        if pattern.startswith("/"):
            raise PathOutsideWorkspaceError(
                f"{what} {pattern!r} is absolute; give a pattern relative to the "
                f"workspace root, {example}"
            )
        segments = tuple(part for part in pattern.split("/") if part not in ("", "."))
        if ".." in segments:
            raise PathOutsideWorkspaceError(
                f"{what} {pattern!r} contains a '..' component, which is not allowed; "
                f"give a pattern relative to the workspace root, {example}"
            )
        if not segments:
            raise WorkspaceError(f"{what} {pattern!r} is empty; give a pattern, {example}")
        return segments

    def glob(self, pattern: str) -> GlobResult:
        """Paths matching a glob (``*``, ``?``, ``[...]``, ``**`` for any depth).

        Symlinks are reported when they match but never entered.
        """
        segments = self._glob_segments(pattern, "glob pattern")
        literal: list[str] = []
        for segment in segments[:-1]:
            if segment == "**" or _GLOB_MAGIC & set(segment):
                break
            literal.append(segment)
        start = self._root.joinpath(*literal)
        # Only walk from a literal prefix made of real directories, never symlinks.
        for depth in range(1, len(literal) + 1):
            info = self._lstat(self._root.joinpath(*literal[:depth]))
            if info is None or not stat.S_ISDIR(info.st_mode):
                return GlobResult(pattern=pattern, matches=(), truncated=False)
        rest = segments[len(literal) :]
        max_depth = None if "**" in rest else len(rest)
        cap = self._limits.max_glob_results
        matches: list[str] = []
        truncated = False
        for child, _ in self._walk(start, max_depth):
            if _pattern_matches(rest, child.relative_to(start).parts):
                if len(matches) >= cap:
                    truncated = True
                    break
                matches.append(self._rel(child))
        return GlobResult(pattern=pattern, matches=tuple(sorted(matches)), truncated=truncated)

    def grep(
        self,
        pattern: str,
        *,
        path: str = "",
        glob: str | None = None,
        ignore_case: bool = False,
        max_matches: int | None = None,
    ) -> GrepResult:
        """Search text files line by line with a Python regular expression.

        ``glob`` filters files: a pattern without ``/`` matches file names anywhere,
        one with ``/`` matches the path from the workspace root. Symlinks are skipped.
        """
        try:
            # 're' checks the syntax (its messages are the ones Python users know); the
            # compatible 'regex' engine searches, because its searches can time out.
            re.compile(pattern)
            regex = _regex.compile(pattern, _regex.IGNORECASE if ignore_case else 0)
        except (re.error, _regex.error) as exc:
            raise WorkspaceError(
                f"invalid regular expression {pattern!r}: {exc}; grep uses Python 're' "
                "syntax, so escape literal special characters such as '(' or '[' with a "
                "backslash"
            ) from exc
        cap = self._limits.max_grep_matches
        if max_matches is not None:
            if max_matches < 1:
                raise WorkspaceError(f"max_matches must be at least 1; got {max_matches}")
            cap = min(cap, max_matches)
        file_filter = None if glob is None else self._glob_segments(glob, "glob filter")
        by_name = glob is not None and "/" not in glob.strip("/")
        start = self.resolve(path)
        info = self._existing(start)
        if stat.S_ISLNK(info.st_mode):
            info = self._stat_target(start)
        files: Iterator[tuple[Path, os.stat_result]] = (
            self._walk(start, None) if stat.S_ISDIR(info.st_mode) else iter([(start, info)])
        )

        matches: list[GrepMatch] = []
        searched = skipped = 0
        truncated = False
        deadline = time.monotonic() + _GREP_SECONDS
        for file, file_info in files:
            if not stat.S_ISREG(file_info.st_mode):
                continue
            rel = self._rel(file)
            if file_filter is not None:
                parts = (file.name,) if by_name else tuple(rel.split("/"))
                if not _pattern_matches(file_filter, parts):
                    continue
            text = self._grep_text(file)
            if text is None:
                skipped += 1
                continue
            searched += 1
            lines = text.split("\n")
            if lines and not lines[-1]:
                lines.pop()
            for number, raw in enumerate(lines, start=1):
                line = raw.removesuffix("\r")
                try:
                    found = regex.search(line, timeout=max(0.001, deadline - time.monotonic()))
                except TimeoutError as exc:
                    raise WorkspaceLimitError(
                        f"grep for {pattern!r} took more than {_GREP_SECONDS:g} s (stopped in "
                        f"'{rel}' line {number}); nested repetition like '(a|aa)+' can take "
                        "exponential time: simplify the expression or narrow path/glob"
                    ) from exc
                if found is None:
                    continue
                if len(matches) >= cap:
                    truncated = True
                    break
                matches.append(self._grep_match(rel, number, line, found.start()))
            if truncated:
                break
        return GrepResult(
            pattern=pattern,
            matches=tuple(matches),
            truncated=truncated,
            files_searched=searched,
            files_skipped=skipped,
        )

    def _grep_text(self, file: Path) -> str | None:
        """The file's text, or None when it is binary, too large, hard-linked or unreadable."""
        try:
            data = self._load(file)
        except WorkspaceError:
            return None
        if _is_binary(data):
            return None
        return data.decode("utf-8")

    @staticmethod
    def _grep_match(rel: str, number: int, line: str, column: int) -> GrepMatch:
        if len(line) <= _GREP_LINE_CHARS:
            return GrepMatch(path=rel, line_number=number, column=column + 1, line=line)
        # Show the part of a long line around the match.
        begin = max(0, min(column - _GREP_LINE_LEAD, len(line) - _GREP_LINE_CHARS))
        return GrepMatch(
            path=rel,
            line_number=number,
            column=column + 1,
            line=line[begin : begin + _GREP_LINE_CHARS],
            line_truncated=True,
        )
