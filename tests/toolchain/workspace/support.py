"""Helpers of the workspace tests: workspaces as the server makes them, owned by an
unprivileged uid and served by confined workers (chrooted, as that uid) under root."""

from __future__ import annotations

import os
from pathlib import Path

from toolchain import hand_over_tree
from toolchain.workspace import Workspace, WorkspaceLimits

UID = GID = 1000
"""The uid the workers run as (the image's sandbox user)."""


def give(root: Path) -> None:
    """Hand what a test made as root inside ``root`` to the workers' uid."""
    if os.geteuid() == 0:
        hand_over_tree(root, UID, GID)


def open_workspace(
    root: Path, limits: WorkspaceLimits | None = None, *, timeout_s: float = 10.0
) -> Workspace:
    give(root)
    return Workspace(root, uid=UID, gid=GID, limits=limits, timeout_s=timeout_s)
