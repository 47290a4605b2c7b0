"""Limits and result models of the confined workspace file API."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "EntryKind",
    "FileEdited",
    "FileRead",
    "FileWritten",
    "GlobResult",
    "GrepMatch",
    "GrepResult",
    "PathDeleted",
    "PathMoved",
    "SnapshotInfo",
    "TreeEntry",
    "TreeListing",
    "WorkspaceLimits",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class WorkspaceLimits(_Frozen):
    """Size caps applied by :class:`~toolchain.workspace.Workspace`."""

    max_file_bytes: int = Field(default=8 * 1024 * 1024, gt=0)
    """Largest file that may be read, written, edited or searched."""
    max_read_bytes: int = Field(default=256 * 1024, gt=0)
    """Most bytes one ``read`` call returns."""
    max_list_entries: int = Field(default=2000, gt=0)
    max_grep_matches: int = Field(default=500, gt=0)
    max_glob_results: int = Field(default=2000, gt=0)
    max_visits: int = Field(default=100_000, gt=0)
    """Most directory entries one listing, glob or grep looks at before it stops."""


class EntryKind(StrEnum):
    """What a directory entry is, judged without following symlinks."""

    FILE = "file"
    DIR = "dir"
    SYMLINK = "symlink"
    OTHER = "other"


_NOTE = (
    "Why the walk stopped before it covered everything (an entry cap, the time budget, "
    "a depth cap), and how to narrow it; None when it covered everything."
)


class TreeEntry(_Frozen):
    path: str
    """Relative to the workspace root, ``/``-separated; bytes that are not UTF-8 are shown as
    ``\\xNN`` and a backslash as ``\\\\`` (the same form is accepted back)."""
    kind: EntryKind
    size: int | None = None
    """Bytes, for regular files only."""
    target: str | None = None
    """The link text, for symlinks only."""


class TreeListing(_Frozen):
    path: str
    depth: int
    entries: tuple[TreeEntry, ...]
    truncated: bool
    """True when ``max_list_entries`` cut the listing short."""
    note: str | None = Field(default=None, description=_NOTE)


class FileRead(_Frozen):
    path: str
    size: int
    """Total size of the file in bytes."""
    offset: int
    """Byte offset the returned content starts at."""
    bytes_returned: int
    content: str | None
    """Decoded UTF-8 text; ``None`` for binary files."""
    binary: bool
    hex_preview: str | None = None
    """For binary files: the first bytes at ``offset``, hex encoded."""
    truncated: bool
    """True when bytes remain after this chunk."""
    next_offset: int | None = None
    """Where the next ``read`` should start when ``truncated``."""


class FileWritten(_Frozen):
    path: str
    bytes_written: int
    created: bool


class FileEdited(_Frozen):
    path: str
    replacements: int
    size: int
    """Size of the file in bytes after the edit."""


class PathDeleted(_Frozen):
    path: str
    kind: EntryKind


class PathMoved(_Frozen):
    src: str
    dst: str
    kind: EntryKind
    overwrote: bool


class GlobResult(_Frozen):
    pattern: str
    matches: tuple[str, ...]
    truncated: bool
    note: str | None = Field(default=None, description=_NOTE)


class GrepMatch(_Frozen):
    path: str
    line_number: int
    """1-based."""
    column: int
    """1-based character column where the first match on the line starts."""
    line: str
    line_truncated: bool = False


class GrepResult(_Frozen):
    pattern: str
    matches: tuple[GrepMatch, ...]
    truncated: bool
    """True when the match cap was reached and more matches exist."""
    files_searched: int
    files_skipped: int
    """Binary, oversized, hard-linked or unreadable files that were not searched."""
    note: str | None = Field(default=None, description=_NOTE)


class SnapshotInfo(_Frozen):
    """What :func:`~toolchain.workspace.snapshot_tree` copied."""

    tree_hash: str
    """sha256 (hex) over every kept entry, as :func:`~toolchain.workspace.tree_hash` gives it."""
    files: int
    directories: int
    """Directories below the root (the root itself is not counted)."""
    symlinks: int
    bytes: int
    """Bytes of regular-file content copied."""
    skipped: int
    """FIFOs, sockets and device files, which are not copied."""
