"""noexec views of host directories, for docker sandboxes under an exec policy.

Docker can mount a tmpfs ``noexec`` but not a bind, and a bind mount copies the flags of
the mount it is made from. So for each writable directory the docker backend makes a
``noexec,nosuid,nodev`` bind mount of it at a path of its own (under RAMP's state
directory; root only) and binds that view into the container. The directory itself is
left alone: its callers keep reading and renaming files at their usual paths (a mount
point there would make rename(2) across it fail with EXDEV). A directory already on a
noexec mount is bound as it is. Views are unmounted when the sandbox closes; a view whose
owner died (its pid is in its name) is unmounted by the next sandbox that makes views.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import uuid
from collections.abc import Iterable
from pathlib import Path

from toolchain._errors import SandboxUnavailableError
from toolchain._lifecycle import pid_alive
from toolchain._paths import ramp_home

__all__ = ["NoexecViews", "gc_noexec_views", "is_noexec", "views_root"]

_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 0x1, 0x2, 0x4, 0x8
_MS_NOATIME, _MS_NODIRATIME, _MS_REMOUNT, _MS_BIND = 0x400, 0x800, 0x20, 0x1000
_MS_RELATIME = 0x200000
_MNT_DETACH = 2
_ST_TO_MS = {
    os.ST_RDONLY: _MS_RDONLY,
    os.ST_NOATIME: _MS_NOATIME,
    os.ST_NODIRATIME: _MS_NODIRATIME,
    os.ST_RELATIME: _MS_RELATIME,
}

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [
    ctypes.c_char_p,
    ctypes.c_char_p,
    ctypes.c_char_p,
    ctypes.c_ulong,
    ctypes.c_void_p,
]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]


def is_noexec(path: Path) -> bool:
    return bool(os.statvfs(path).f_flag & os.ST_NOEXEC)


def views_root() -> Path:
    """Where the views live: ``ramp sandbox gc``-style cleanup can find leftovers here."""
    return ramp_home() / "noexec-views"


def _remove(view: Path) -> None:
    _libc.umount2(str(view).encode(), _MNT_DETACH)
    with contextlib.suppress(OSError):
        view.rmdir()


def gc_noexec_views() -> list[Path]:
    """Unmount and remove the views whose owning process is gone (nothing can use those any
    more). A view of a deleted directory whose owner lives is left to that owner, which
    releases it when its sandbox closes: a live sandbox's view never disappears under it."""
    root = views_root()
    removed: list[Path] = []
    if os.geteuid() != 0 or not root.is_dir():
        return removed
    for view in root.iterdir():
        owner, _, _ = view.name.partition("-")
        if owner.isdigit() and not pid_alive(int(owner)):
            _remove(view)
            removed.append(view)
    return removed


def _failed(what: str, path: Path) -> SandboxUnavailableError:
    number = ctypes.get_errno()
    return SandboxUnavailableError(
        f"{what} {path} failed ({os.strerror(number)}): an exec-policy docker sandbox binds "
        "writable directories only from noexec mounts; run as root, or put the directory on "
        "a noexec file system"
    )


def _bind_noexec(source: Path, view: Path) -> None:
    flags = os.statvfs(source).f_flag
    keep = sum(ms for st, ms in _ST_TO_MS.items() if flags & st)
    if _libc.mount(str(source).encode(), str(view).encode(), None, _MS_BIND, None) != 0:
        raise _failed("binding", source)
    remount = _MS_REMOUNT | _MS_BIND | _MS_NOEXEC | _MS_NOSUID | _MS_NODEV | keep
    if _libc.mount(None, str(view).encode(), None, remount, None) != 0:
        error = _failed("remounting noexec a view of", source)
        _libc.umount2(str(view).encode(), _MNT_DETACH)
        raise error


class NoexecViews:
    """noexec views of some host directories for one sandbox's lifetime."""

    def __init__(self, directories: Iterable[Path]) -> None:
        self._directories = [d.resolve() for d in directories]
        self._made: list[Path] = []

    def acquire(self) -> dict[Path, Path]:
        """Each directory -> the path to bind in its place (a view, or itself if noexec)."""
        chosen: dict[Path, Path] = {}
        try:
            for directory in self._directories:
                if is_noexec(directory):
                    chosen[directory] = directory
                    continue
                if os.geteuid() != 0:
                    raise SandboxUnavailableError(
                        f"{directory} is not on a noexec mount and only root can make a noexec "
                        "view of it; an exec-policy docker sandbox binds writable directories "
                        "only from noexec mounts (run as root, or mount it noexec)"
                    )
                if not self._made:
                    gc_noexec_views()
                view = views_root() / f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
                view.mkdir(parents=True, mode=0o755)
                views_root().chmod(0o755)
                try:
                    _bind_noexec(directory, view)
                except BaseException:
                    view.rmdir()
                    raise
                self._made.append(view)
                chosen[directory] = view
        except BaseException:
            self.release()
            raise
        return chosen

    def release(self) -> None:
        """Unmount and remove the views this holder made."""
        while self._made:
            _remove(self._made.pop())
