"""Errors of the confined workspace beyond the common ones in ``toolchain._errors``."""

from __future__ import annotations

from toolchain._errors import WorkspaceError, WorkspaceLimitError

__all__ = [
    "ReadOnlyWorkspaceError",
    "SnapshotError",
    "UnreadableEntryError",
    "WorkerError",
    "WorkspaceTimeoutError",
]


class WorkspaceTimeoutError(WorkspaceLimitError):
    """A file operation ran past its deadline; its worker was stopped and replaced."""


class WorkerError(WorkspaceError):
    """The confined worker process could not start, or stopped in the middle of a call."""


class ReadOnlyWorkspaceError(WorkspaceError):
    """A change was asked of a read-only tree (the revealed reference outputs)."""


class SnapshotError(WorkspaceError):
    """A workspace could not be copied into a snapshot."""


class UnreadableEntryError(SnapshotError):
    """The workspace holds a file or directory its own uid cannot read: the workspace's
    doing (its owner's to fix), not the copying's."""
