"""The confined workspace: file operations an agent may make inside one directory."""

from __future__ import annotations

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
    "TreeEntry",
    "TreeListing",
    "Workspace",
    "WorkspaceLimits",
]
