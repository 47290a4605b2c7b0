"""The Linux system calls Python's ``os`` module lacks: openat2, renameat2, no_new_privs, and
(Python 3.11 has no ``os.unshare``) unshare, mount, pivot_root and umount2.

Why openat2: ``RESOLVE_BENEATH`` makes the kernel itself refuse any lookup that would leave
the directory a descriptor names (through ``..``, an absolute symlink or a relative one that
climbs out), atomically, during the lookup. A check made in user space before an ``open`` can
always be raced by a process that swaps a directory for a symlink in between; this cannot.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform

__all__ = [
    "CLONE_NEWIPC",
    "CLONE_NEWNET",
    "CLONE_NEWNS",
    "CLONE_NEWUTS",
    "MNT_DETACH",
    "MS_NODEV",
    "MS_NOEXEC",
    "MS_NOSUID",
    "MS_PRIVATE",
    "MS_RDONLY",
    "MS_REC",
    "RENAME_EXCHANGE",
    "RENAME_NOREPLACE",
    "RESOLVE_BENEATH",
    "RESOLVE_NO_MAGICLINKS",
    "RESOLVE_NO_SYMLINKS",
    "RESOLVE_NO_XDEV",
    "SAFE_RESOLVE",
    "STRICT_RESOLVE",
    "mount",
    "openat2",
    "pivot_root",
    "renameat2",
    "set_no_new_privs",
    "umount2",
    "unshare",
]

RESOLVE_NO_XDEV = 0x01
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_NO_SYMLINKS = 0x04
RESOLVE_BENEATH = 0x08

RENAME_NOREPLACE = 1
RENAME_EXCHANGE = 2

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWNET = 0x40000000

MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REC = 0x4000
MS_PRIVATE = 0x40000
MNT_DETACH = 0x2

SAFE_RESOLVE = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV
"""Beneath the directory, on its file system, no /proc magic links; relative symlinks that
stay beneath are followed."""
STRICT_RESOLVE = SAFE_RESOLVE | RESOLVE_NO_SYMLINKS
"""As :data:`SAFE_RESOLVE`, and no symlink at all (walks never follow one)."""

# openat2 has the same number on every architecture (it came after the numbering was unified);
# renameat2 does not.
_OPENAT2 = 437
_RENAMEAT2 = {"x86_64": 316, "aarch64": 276}
_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}
_PR_SET_NO_NEW_PRIVS = 38

_libc = ctypes.CDLL(None, use_errno=True)
_syscall = _libc.syscall
_syscall.restype = ctypes.c_long
_prctl = _libc.prctl
_prctl.restype = ctypes.c_int
_unshare = _libc.unshare
_unshare.argtypes = (ctypes.c_int,)
_unshare.restype = ctypes.c_int
_mount = _libc.mount
_mount.argtypes = (
    ctypes.c_char_p,
    ctypes.c_char_p,
    ctypes.c_char_p,
    ctypes.c_ulong,
    ctypes.c_char_p,
)
_mount.restype = ctypes.c_int
_umount2 = _libc.umount2
_umount2.argtypes = (ctypes.c_char_p, ctypes.c_int)
_umount2.restype = ctypes.c_int


class _OpenHow(ctypes.Structure):
    _fields_ = (
        ("flags", ctypes.c_uint64),
        ("mode", ctypes.c_uint64),
        ("resolve", ctypes.c_uint64),
    )


def _raise(name: str, path: bytes) -> None:
    code = ctypes.get_errno()
    if code == errno.ENOSYS:
        raise OSError(
            code,
            f"{name} is not available: the workspace file tools need Linux 5.6 or newer",
        )
    raise OSError(code, os.strerror(code), os.fsdecode(path))


def openat2(dir_fd: int, path: bytes, flags: int, resolve: int, mode: int = 0) -> int:
    """``openat2(2)``: a new descriptor for ``path`` looked up from ``dir_fd`` under the
    ``RESOLVE_*`` rules; ``OSError`` with the kernel's errno otherwise. Always close-on-exec."""
    how = _OpenHow(flags | os.O_CLOEXEC, mode, resolve)
    while True:
        fd = _syscall(
            ctypes.c_long(_OPENAT2),
            ctypes.c_int(dir_fd),
            ctypes.c_char_p(path or b"."),
            ctypes.byref(how),
            ctypes.c_size_t(ctypes.sizeof(how)),
        )
        if fd >= 0:
            return int(fd)
        if ctypes.get_errno() != errno.EINTR:
            _raise("openat2", path)


def renameat2(src_dir: int, src: bytes, dst_dir: int, dst: bytes, flags: int) -> None:
    """``renameat2(2)`` (``RENAME_NOREPLACE`` makes "fail if the target exists" atomic)."""
    number = _RENAMEAT2.get(platform.machine())
    if number is None:
        raise OSError(errno.ENOSYS, f"renameat2 is not wired up for {platform.machine()}")
    result = _syscall(
        ctypes.c_long(number),
        ctypes.c_int(src_dir),
        ctypes.c_char_p(src),
        ctypes.c_int(dst_dir),
        ctypes.c_char_p(dst),
        ctypes.c_uint(flags),
    )
    if result != 0:
        _raise("renameat2", src)


def set_no_new_privs() -> None:
    """No exec from this process on may gain privileges (setuid bits, file capabilities)."""
    if _prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"prctl(PR_SET_NO_NEW_PRIVS) failed: {os.strerror(code)}")


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{what} failed: {os.strerror(code)}")


def unshare(flags: int) -> None:
    """``unshare(2)``: this process leaves the namespaces ``flags`` names for new ones."""
    _check(_unshare(flags), "unshare")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str) -> None:
    """``mount(2)``."""
    encoded = [None if v is None else os.fsencode(v) for v in (source, target, fstype)]
    _check(_mount(*encoded, flags, data.encode() or None), f"mount on {target}")


def umount2(target: str, flags: int) -> None:
    """``umount2(2)``."""
    _check(_umount2(os.fsencode(target), flags), f"umount of {target}")


def pivot_root(new_root: str, put_old: str) -> None:
    """``pivot_root(2)`` (glibc has no wrapper)."""
    number = _PIVOT_ROOT.get(platform.machine())
    if number is None:
        raise OSError(errno.ENOSYS, f"pivot_root is not wired up for {platform.machine()}")
    result = _syscall(
        ctypes.c_long(number),
        ctypes.c_char_p(os.fsencode(new_root)),
        ctypes.c_char_p(os.fsencode(put_old)),
    )
    _check(int(result), "pivot_root")
