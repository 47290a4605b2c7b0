"""RAMP's one exception hierarchy.

Every error RAMP raises on purpose derives from :class:`RampError`, so a caller can catch
one type, and every message says what was wrong and how to fix it. The grader and the MCP
server extend this tree; they never define a second root.
"""

from __future__ import annotations

__all__ = [
    "EngineUnavailableError",
    "ImageBuildError",
    "ImageMissingError",
    "ManifestError",
    "PathOutsideWorkspaceError",
    "RampError",
    "SandboxClosedError",
    "SandboxError",
    "SandboxUnavailableError",
    "ToolchainError",
    "WorkspaceError",
    "WorkspaceLimitError",
]


class RampError(Exception):
    """Base of every error RAMP raises deliberately."""


class ToolchainError(RampError):
    """The pinned toolchain is missing, drifted, or could not be installed."""


class ManifestError(ToolchainError):
    """The toolchain manifest is malformed."""


class ImageBuildError(ToolchainError):
    """Building a sandbox image or root file system failed."""


class ImageMissingError(ToolchainError):
    """A sandbox needs an image or root file system that has not been built yet."""


class SandboxError(RampError):
    """A sandbox could not start, run a command or clean up."""


class SandboxUnavailableError(SandboxError):
    """The requested sandbox backend cannot run on this machine."""


class EngineUnavailableError(SandboxUnavailableError):
    """No Docker engine answered."""


class SandboxClosedError(SandboxError):
    """The sandbox was used after it was closed."""


class WorkspaceError(RampError):
    """A workspace file operation was refused or failed."""


class PathOutsideWorkspaceError(WorkspaceError):
    """A path would resolve outside the workspace root."""


class WorkspaceLimitError(WorkspaceError):
    """A file or request exceeds a workspace size cap."""
