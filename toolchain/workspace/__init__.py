"""The confined workspace: file operations an agent may make inside one directory, done by
worker processes the kernel confines (an empty root in private namespaces, the run's uid,
openat2 beneath the workspace's descriptor), and snapshots of a workspace made the same way."""

from __future__ import annotations

from toolchain.workspace._errors import (
    ReadOnlyWorkspaceError,
    SnapshotError,
    UnreadableEntryError,
    WorkerError,
    WorkspaceTimeoutError,
)
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
    SnapshotInfo,
    TreeEntry,
    TreeListing,
    WorkspaceLimits,
)
from toolchain.workspace._names import parse_name, show
from toolchain.workspace._snapshot import snapshot_tree, tree_hash
from toolchain.workspace._workspace import Workspace

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
    "ReadOnlyWorkspaceError",
    "SnapshotError",
    "SnapshotInfo",
    "TreeEntry",
    "TreeListing",
    "UnreadableEntryError",
    "WorkerError",
    "Workspace",
    "WorkspaceLimits",
    "WorkspaceTimeoutError",
    "parse_name",
    "show",
    "snapshot_tree",
    "tree_hash",
]
