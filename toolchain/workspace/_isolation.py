"""An empty world for a file worker: no path names a file, no socket reaches a peer.

Why: the interpreter and its libraries look files up by absolute path whenever they like -
a module imported late, a codec named in a coding cookie, the source line a warning quotes.
A worker chrooted into the workspace would find the agent's files at every one of those
paths (the agent can write ``usr/lib/python3.11/encodings/x.py`` in its workspace) and run
them on the host. Filtering paths cannot be complete; an empty root is, by construction.

So, as root and holding every descriptor it will use (the tree's root, its two pipes), the
worker:

- leaves the host's mount, network, IPC and UTS namespaces for new private ones (its
  network namespace has a loopback that is down and nothing else: no host listener, no
  internet; no System V or POSIX IPC object of the host is visible);
- mounts an empty, read-only tmpfs, makes it its root with ``pivot_root`` and detaches the
  old root altogether, so no absolute or relative path leads anywhere - only the held
  descriptor does, and every lookup under it goes through ``openat2(RESOLVE_BENEATH)``.

Nothing here touches the host's mount table: the mounts are made private before anything
is mounted, so neither the tmpfs nor the detach propagates.
"""

from __future__ import annotations

import os
from pathlib import Path

from toolchain.workspace._errors import WorkerError
from toolchain.workspace._syscalls import (
    CLONE_NEWIPC,
    CLONE_NEWNET,
    CLONE_NEWNS,
    CLONE_NEWUTS,
    MNT_DETACH,
    MS_NODEV,
    MS_NOEXEC,
    MS_NOSUID,
    MS_PRIVATE,
    MS_RDONLY,
    MS_REC,
    mount,
    pivot_root,
    umount2,
    unshare,
)

__all__ = ["enter_empty_root"]

# Where the empty tmpfs is mounted before it becomes the root. Any directory would do: the
# mount exists only in the worker's private namespace and is the root a moment later.
_STAGING = "/tmp"
_EMPTY_OPTIONS = "size=4k,nr_inodes=4,mode=0555"


def enter_empty_root() -> None:
    """Private namespaces and an empty read-only root; raises WorkerError if any step fails."""
    try:
        unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS)
        mount(None, "/", None, MS_REC | MS_PRIVATE, "")
        flags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC
        mount("ramp-empty", _STAGING, "tmpfs", flags, _EMPTY_OPTIONS)
        os.chdir(_STAGING)
        pivot_root(".", ".")  # the old root now sits on top of the new one, at "/"
        umount2(".", MNT_DETACH)  # and is gone: only the empty tmpfs is left
        os.chdir("/")
        left = [entry.name for entry in Path("/").iterdir()]
    except OSError as exc:
        raise WorkerError(
            f"a file worker could not enter its empty root ({exc}); the server must run as "
            "root on Linux with mount, network and IPC namespaces available"
        ) from exc
    if left:
        raise WorkerError(f"a file worker's new root is not empty ({left[:5]}); refusing to serve")
