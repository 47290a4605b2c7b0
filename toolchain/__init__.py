"""What runs: the pinned toolchain, its images, the sandboxes and the confined workspace.

The package's public face. Other packages import from here (or from the public subpackages
``toolchain.sandbox`` and ``toolchain.workspace``), never from a private module.

The names are loaded on first use (PEP 562), not when the package is imported: the
confined file worker and the grading helpers start Python processes that import one small
module of this package, and must not pay for (or depend on) the CLI, the manifest parser
or the Docker SDK that the rest of the package pulls in.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from toolchain._capped import CapRecord as CapRecord
    from toolchain._capped import CapUsage as CapUsage
    from toolchain._capped import capped_usage as capped_usage
    from toolchain._capped import create_capped_dir as create_capped_dir
    from toolchain._capped import ensure_mounted as ensure_mounted
    from toolchain._capped import read_record as read_record
    from toolchain._capped import release_capped_dir as release_capped_dir
    from toolchain._capped import remove_tree as remove_tree
    from toolchain._cli import sandbox_group as sandbox_group
    from toolchain._cli import toolchain_group as toolchain_group
    from toolchain._errors import EngineUnavailableError as EngineUnavailableError
    from toolchain._errors import ImageBuildError as ImageBuildError
    from toolchain._errors import ImageMissingError as ImageMissingError
    from toolchain._errors import ManifestError as ManifestError
    from toolchain._errors import PathOutsideWorkspaceError as PathOutsideWorkspaceError
    from toolchain._errors import RampError as RampError
    from toolchain._errors import SandboxClosedError as SandboxClosedError
    from toolchain._errors import SandboxError as SandboxError
    from toolchain._errors import SandboxUnavailableError as SandboxUnavailableError
    from toolchain._errors import ToolchainError as ToolchainError
    from toolchain._errors import WorkspaceError as WorkspaceError
    from toolchain._errors import WorkspaceLimitError as WorkspaceLimitError
    from toolchain._image import FINDINGS_MOUNT as FINDINGS_MOUNT
    from toolchain._image import SANDBOX_GID as SANDBOX_GID
    from toolchain._image import SANDBOX_UID as SANDBOX_UID
    from toolchain._image import WORKSPACE_MOUNT as WORKSPACE_MOUNT
    from toolchain._image import grading_toolchain as grading_toolchain
    from toolchain._image import require_rootfs as require_rootfs
    from toolchain._lifecycle import Closing as Closing
    from toolchain._lifecycle import pid_alive as pid_alive
    from toolchain._manifest import Profile as Profile
    from toolchain._manifest import load_manifest as load_manifest
    from toolchain._ownership import hand_over as hand_over
    from toolchain._ownership import hand_over_tree as hand_over_tree
    from toolchain._ownership import make_owned_dir as make_owned_dir
    from toolchain._ownership import write_owned as write_owned
    from toolchain._paths import ramp_home as ramp_home
    from toolchain._scratch import gc_scratch_dirs as gc_scratch_dirs
    from toolchain._scratch import scratch_dir as scratch_dir
    from toolchain._trees import Step as Step
    from toolchain._trees import TreeEntry as TreeEntry
    from toolchain._trees import copy_tree as copy_tree
    from toolchain._trees import open_regular as open_regular
    from toolchain._trees import walk_tree as walk_tree

# Which private module defines each public name.
_HOME: dict[str, str] = {
    **dict.fromkeys(
        (
            "CapRecord",
            "CapUsage",
            "capped_usage",
            "create_capped_dir",
            "ensure_mounted",
            "read_record",
            "release_capped_dir",
            "remove_tree",
        ),
        "_capped",
    ),
    **dict.fromkeys(("sandbox_group", "toolchain_group"), "_cli"),
    **dict.fromkeys(
        (
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
        ),
        "_errors",
    ),
    **dict.fromkeys(
        (
            "FINDINGS_MOUNT",
            "SANDBOX_GID",
            "SANDBOX_UID",
            "WORKSPACE_MOUNT",
            "grading_toolchain",
            "require_rootfs",
        ),
        "_image",
    ),
    **dict.fromkeys(("Closing", "pid_alive"), "_lifecycle"),
    **dict.fromkeys(("Profile", "load_manifest"), "_manifest"),
    **dict.fromkeys(("hand_over", "hand_over_tree", "make_owned_dir", "write_owned"), "_ownership"),
    "ramp_home": "_paths",
    **dict.fromkeys(("gc_scratch_dirs", "scratch_dir"), "_scratch"),
    **dict.fromkeys(("Step", "TreeEntry", "copy_tree", "open_regular", "walk_tree"), "_trees"),
}

# The public names are exactly the lazily loaded ones (the architecture test checks them
# against the TYPE_CHECKING imports above).
__all__ = sorted(_HOME)


def __getattr__(name: str) -> object:
    """Load a public name from the private module that defines it, on first use."""
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'toolchain' has no attribute {name!r}")
    value = getattr(import_module(f"toolchain.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
