"""Where RAMP keeps its state on the host (documented in docs/architecture.md)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["ramp_home", "unreachable_parent"]

_SYSTEM_HOME = Path("/var/lib/ramp")


def ramp_home() -> Path:
    """The directory for root file systems, caches, runs and the ledger.

    ``$RAMP_HOME`` wins. Otherwise root uses ``/var/lib/ramp`` (sandboxes run as uid 1000
    and must be able to reach the root file systems, which ``/root`` forbids), and other
    users ``$XDG_DATA_HOME/ramp`` (default ``~/.local/share/ramp``).
    """
    explicit = os.environ.get("RAMP_HOME")
    if explicit:
        return Path(explicit).expanduser().resolve()
    if os.geteuid() == 0:
        return _SYSTEM_HOME
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return (base / "ramp").resolve()


def unreachable_parent(path: Path, uid: int, gid: int) -> Path | None:
    """The first directory on the way to ``path`` that ``uid``/``gid`` cannot enter."""
    resolved = path.resolve()
    for directory in (*reversed(resolved.parents), resolved):
        info = directory.stat()
        if info.st_uid == uid:
            allowed = info.st_mode & stat.S_IXUSR
        elif info.st_gid == gid:
            allowed = info.st_mode & stat.S_IXGRP
        else:
            allowed = info.st_mode & stat.S_IXOTH
        if not allowed:
            return directory
    return None
