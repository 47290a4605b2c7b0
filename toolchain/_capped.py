"""Capped directories: a byte and an entry limit the kernel enforces, not a poller.

A directory an untrusted command writes into (a run's workspace, its scratch) gets a file
system of its own, so a full disk or a flood of empty files stops at the cap with ENOSPC
and the host's disk and inode table never notice:

- ``ext4``: a sparse image (``mkfs.ext4`` with the byte size and an inode count), mounted
  ``loop,nosuid,nodev,noatime,discard`` at the directory. The image is sized so the space
  a writer can use is the cap (the file system's own overhead comes on top), and it stays
  on disk, so the directory survives a reboot: :func:`ensure_mounted` mounts it again.
  ``mount -o loop`` marks the loop device auto-clearing, so unmounting frees it.
- ``tmpfs``: ``size=`` and ``nr_inodes=``, where loop devices cannot be had. Its content
  lives in memory and is gone after a reboot.
- ``plain``: an ordinary directory, only when we are not root (nothing can be mounted).
  Nothing enforces its cap; callers fall back to polling (``SandboxSpec.disk_mb``).

Beside a capped directory ``D`` live ``.D.cap.json`` (the :class:`CapRecord`) and, for
ext4, ``.D.cap.img``. A mount whose record or image has been deleted is an orphan that
:func:`gc_capped_dirs` (``ramp sandbox gc``) unmounts.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import tempfile
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, Field

from toolchain._errors import WorkspaceError
from toolchain._hostcmd import run_host_command, which
from toolchain._ownership import hand_over
from toolchain._trees import Step, delete_tree, walk_tree

__all__ = [
    "CapKind",
    "CapRecord",
    "CapUsage",
    "CappedDirError",
    "capped_usage",
    "create_capped_dir",
    "ensure_mounted",
    "gc_capped_dirs",
    "mounted_by_this_process",
    "read_record",
    "release_capped_dir",
    "release_capped_dirs_under",
    "remove_tree",
]

_TMPFS_SOURCE = "ramp-capped"
_RECORD_SUFFIX = ".cap.json"
_IMAGE_SUFFIX = ".cap.img"
_BLOCK = 4096
_MOUNT_OPTIONS = "loop,nosuid,nodev,noatime,discard"
_TIMEOUT_S = 60.0
# Below these a capped directory counts as full (a command's ENOSPC is then the cap): ext4
# refuses a write while a few MB still show as free (it keeps them for the metadata that
# delayed allocation may need), so "full" allows for a margin of 1/64 of the cap, at least 4 MB.
_FULL_BYTES = 4 << 20
_FULL_FRACTION = 64
_FULL_ENTRIES = 16
# Mounts this process made, so test fixtures can undo exactly those.
_MOUNTED_HERE: set[Path] = set()


class CappedDirError(WorkspaceError):
    """A capped directory could not be made, mounted or released (the message says why)."""


class CapKind(StrEnum):
    EXT4 = "ext4"
    TMPFS = "tmpfs"
    PLAIN = "plain"


class CapRecord(BaseModel):
    """What a capped directory is: kept beside it, read whenever it must be mounted."""

    kind: CapKind
    max_bytes: int = Field(ge=_BLOCK)
    max_entries: int = Field(ge=16)
    uid: int
    gid: int
    mode: int
    image: str | None = None
    note: str = Field(default="", description="why a weaker kind was chosen, if one was")

    @property
    def enforced(self) -> bool:
        """Whether the kernel enforces the cap (False: only polling can)."""
        return self.kind is not CapKind.PLAIN


class CapUsage(BaseModel):
    """How full a capped directory is."""

    kind: CapKind
    used_bytes: int
    max_bytes: int
    used_entries: int
    max_entries: int

    @property
    def full(self) -> bool:
        margin = max(_FULL_BYTES, self.max_bytes // _FULL_FRACTION)
        return (
            self.max_bytes - self.used_bytes < margin
            or self.max_entries - self.used_entries < _FULL_ENTRIES
        )

    def describe(self) -> str:
        return (
            f"{self.used_bytes / (1 << 20):.1f} MB of {self.max_bytes / (1 << 20):.0f} MB and "
            f"{self.used_entries} of {self.max_entries} files and directories used"
        )


def _record_path(path: Path) -> Path:
    return path.parent / f".{path.name}{_RECORD_SUFFIX}"


def _image_path(path: Path) -> Path:
    return path.parent / f".{path.name}{_IMAGE_SUFFIX}"


def read_record(path: Path) -> CapRecord | None:
    """The record of capped directory ``path``, or None when it is not one."""
    try:
        text = _record_path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return CapRecord.model_validate_json(text)


def _write_record(path: Path, record: CapRecord) -> None:
    target = _record_path(path)
    staged = target.with_name(target.name + ".new")
    staged.write_text(record.model_dump_json(indent=1), encoding="utf-8")
    staged.chmod(0o600)
    staged.replace(target)


# -- the mount table ---------------------------------------------------------------------


class _MountEntry(BaseModel):
    point: Path
    fstype: str
    source: str


def _unescape(field: str) -> str:
    """mountinfo writes space, tab, newline and backslash as octal escapes."""
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, char)
    return field


def _mounts() -> list[_MountEntry]:
    entries = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        head, _, tail = line.partition(" - ")
        fields, rest = head.split(), tail.split()
        if len(fields) >= 5 and len(rest) >= 2:
            entries.append(
                _MountEntry(point=Path(_unescape(fields[4])), fstype=rest[0], source=rest[1])
            )
    return entries


def _backing_file(source: str) -> str | None:
    """The file behind loop device ``source`` (with " (deleted)" if it was removed)."""
    if not source.startswith("/dev/loop"):
        return None
    name = Path(source).name
    try:
        return (Path("/sys/block") / name / "loop" / "backing_file").read_text().strip()
    except OSError:
        return None


def _top_mount(path: Path) -> _MountEntry | None:
    found = None
    for entry in _mounts():
        if entry.point == path:
            found = entry  # later lines are mounted on top of earlier ones
    return found


def _is_ours(entry: _MountEntry, record: CapRecord) -> bool:
    if record.kind is CapKind.TMPFS:
        return entry.fstype == "tmpfs" and entry.source == _TMPFS_SOURCE
    if record.kind is CapKind.EXT4:
        return entry.fstype == "ext4" and _backing_file(entry.source) == record.image
    return False


# -- making and mounting ----------------------------------------------------------------


def _run(argv: list[str], what: str) -> None:
    done = run_host_command(argv, timeout_s=_TIMEOUT_S)
    if not done.ok:
        raise CappedDirError(f"{what} failed ({' '.join(argv)}): {done.output.strip()[-500:]}")


def _mkfs(image: Path, size: int, entries: int, uid: int, gid: int) -> None:
    mkfs = which("mkfs.ext4")
    if mkfs is None:
        raise CappedDirError("mkfs.ext4 is missing (apt: e2fsprogs)")
    with image.open("wb") as handle:
        handle.truncate(size)
    image.chmod(0o600)
    _run(
        [
            mkfs,
            *("-q", "-F", "-m", "0", "-b", str(_BLOCK), "-N", str(entries)),
            *("-E", f"root_owner={uid}:{gid},nodiscard", str(image)),
        ],
        "making the ext4 image",
    )


def _mount_image(image: Path, path: Path) -> None:
    _run(["mount", "-o", _MOUNT_OPTIONS, str(image), str(path)], f"mounting {image}")
    _MOUNTED_HERE.add(path)


@functools.lru_cache(maxsize=8)
def _ext4_overhead(directory: Path, max_bytes: int, entries: int) -> int:
    """What ext4 keeps for itself in an image of ``max_bytes`` (journal, inode tables,
    reserve), measured once on a throwaway image, so the real one can be made that much
    larger and leave exactly the cap to its writers."""
    with tempfile.TemporaryDirectory(prefix=".cap-probe-", dir=directory) as scratch:
        probe, point = Path(scratch) / "probe.img", Path(scratch) / "mnt"
        point.mkdir()
        _mkfs(probe, max_bytes, entries, 0, 0)
        _run(["mount", "-o", _MOUNT_OPTIONS, str(probe), str(point)], "mounting a probe image")
        try:
            facts = os.statvfs(point)
        finally:
            _run(["umount", str(point)], "unmounting a probe image")
    available = facts.f_bavail * facts.f_frsize
    return max(0, max_bytes - available)


def _make_ext4(path: Path, record: CapRecord) -> None:
    assert record.image is not None
    image = Path(record.image)
    overhead = _ext4_overhead(path.parent, record.max_bytes, record.max_entries)
    size = -(-(record.max_bytes + overhead) // (1 << 20)) * (1 << 20)
    try:
        _mkfs(image, size, record.max_entries, record.uid, record.gid)
        _mount_image(image, path)
    except CappedDirError:
        image.unlink(missing_ok=True)
        raise
    with contextlib.suppress(OSError):
        (path / "lost+found").rmdir()  # e2fsck makes it again should it ever need one


def _tmpfs_options(record: CapRecord) -> str:
    return (
        f"size={record.max_bytes},nr_inodes={record.max_entries},mode={record.mode:o},"
        f"uid={record.uid},gid={record.gid},nosuid,nodev"
    )


def _mount_tmpfs(path: Path, record: CapRecord) -> None:
    _run(
        ["mount", "-t", "tmpfs", "-o", _tmpfs_options(record), _TMPFS_SOURCE, str(path)],
        f"mounting a tmpfs at {path}",
    )
    _MOUNTED_HERE.add(path)


def create_capped_dir(
    path: Path,
    *,
    max_bytes: int,
    max_entries: int,
    uid: int,
    gid: int,
    mode: int = 0o700,
    kinds: tuple[CapKind, ...] = (CapKind.EXT4, CapKind.TMPFS, CapKind.PLAIN),
) -> CapRecord:
    """Make ``path`` (new or empty) a directory capped at ``max_bytes`` and ``max_entries``,
    owned by ``uid``/``gid`` with ``mode``: the first of ``kinds`` this machine allows."""
    path = _canonical(path)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if any(path.iterdir()) or os.path.ismount(path):
        raise CappedDirError(f"{path} is not an empty directory; a capped one starts empty")
    notes: list[str] = []
    for kind in kinds:
        record = CapRecord(
            kind=kind,
            max_bytes=max_bytes,
            max_entries=max_entries,
            uid=uid,
            gid=gid,
            mode=mode,
            image=str(_image_path(path)) if kind is CapKind.EXT4 else None,
            note="; ".join(notes),
        )
        # The record comes first: a mount without one would look orphaned to gc.
        _write_record(path, record)
        try:
            _make(path, record)
        except CappedDirError as exc:
            _record_path(path).unlink(missing_ok=True)
            notes.append(f"{kind.value}: {exc}")
            continue
        _settle(path, record)
        return record
    raise CappedDirError(f"no capped directory could be made at {path}: {'; '.join(notes)}")


def _canonical(path: Path) -> Path:
    """``path`` as the mount table names it (its parent's symlinks resolved)."""
    path = path.absolute()
    return path.parent.resolve() / path.name


def _make(path: Path, record: CapRecord) -> None:
    if record.kind is not CapKind.PLAIN and os.geteuid() != 0:
        raise CappedDirError("only root can mount a file system")
    if record.kind is CapKind.EXT4:
        _make_ext4(path, record)
    elif record.kind is CapKind.TMPFS:
        _mount_tmpfs(path, record)


def _settle(path: Path, record: CapRecord) -> None:
    """The directory's root gets its owner and mode (mounted or not)."""
    hand_over(path, record.uid, record.gid)
    path.chmod(record.mode)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One process at a time mounts or releases ``path`` (a server and a grader may both try)."""
    with _record_path(path).open("rb") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_mounted(path: Path) -> CapRecord | None:
    """Mount capped directory ``path`` again if it is not (after a reboot, say); its record,
    or None when ``path`` is no capped directory (then nothing is done)."""
    path = _canonical(path)
    record = read_record(path)
    if record is None or record.kind is CapKind.PLAIN:
        return record
    with _locked(path):
        top = _top_mount(path)
        if top is not None and _is_ours(top, record):
            return record
        if record.kind is CapKind.EXT4:
            assert record.image is not None
            if not Path(record.image).is_file():
                raise CappedDirError(
                    f"the image {record.image} of capped directory {path} is gone; the "
                    "directory's content is lost with it"
                )
            _mount_image(Path(record.image), path)
        else:
            _mount_tmpfs(path, record)  # a tmpfs does not survive a reboot: it starts empty
        _settle(path, record)
    return record


# -- usage -------------------------------------------------------------------------------


def _walk_usage(path: Path) -> tuple[int, int]:
    used, entries = 0, 0
    for step, entry in walk_tree(path):
        if step is not Step.LEAVE:
            used += entry.info.st_blocks * 512
            entries += 1
    return used, entries


def capped_usage(path: Path) -> CapUsage | None:
    """How much of its caps ``path`` uses, or None when it is no capped directory."""
    record = read_record(_canonical(path))
    if record is None:
        return None
    if record.kind is CapKind.PLAIN:
        used, entries = _walk_usage(path)
    else:
        facts = os.statvfs(path)
        # Usable space is the cap: what is no longer available has been used.
        used = max(0, record.max_bytes - facts.f_bavail * facts.f_frsize)
        entries = facts.f_files - facts.f_ffree
    return CapUsage(
        kind=record.kind,
        used_bytes=used,
        max_bytes=record.max_bytes,
        used_entries=entries,
        max_entries=record.max_entries,
    )


# -- releasing ---------------------------------------------------------------------------


def _unmount(point: Path) -> None:
    """Unmount ``point``; lazily when something still holds it (a container's bind mount):
    the kernel then finishes, and frees the loop device, when the last user lets go."""
    done = run_host_command(["umount", str(point)], timeout_s=_TIMEOUT_S)
    if not done.ok:
        _run(["umount", "-l", str(point)], f"unmounting {point}")
    _MOUNTED_HERE.discard(point)


def release_capped_dir(path: Path) -> None:
    """Unmount capped directory ``path`` (every layer of ours) and delete its image and
    record; the directory itself is left, empty. Idempotent."""
    path = _canonical(path)
    record = read_record(path)
    if record is None:
        return
    with _locked(path):
        while (top := _top_mount(path)) is not None and _is_ours(top, record):
            _unmount(path)
        if record.image is not None:
            Path(record.image).unlink(missing_ok=True)
        _record_path(path).unlink(missing_ok=True)


def release_capped_dirs_under(root: Path) -> list[Path]:
    """Release every capped directory mounted at or below ``root`` (deepest first)."""
    root = root.resolve()
    points = {e.point for e in _mounts() if e.point == root or root in e.point.parents}
    released = []
    for point in sorted(points, key=lambda p: len(p.parts), reverse=True):
        if read_record(point) is not None:
            release_capped_dir(point)
            released.append(point)
    return released


def mounted_by_this_process() -> list[Path]:
    """Capped directories this process mounted and has not released (for test fixtures)."""
    return sorted(_MOUNTED_HERE)


def _orphan(entry: _MountEntry) -> bool:
    """A capped mount whose directory was deleted underneath (record or image gone)."""
    if entry.fstype == "tmpfs" and entry.source == _TMPFS_SOURCE:
        return read_record(entry.point) is None
    backing = _backing_file(entry.source) if entry.fstype == "ext4" else None
    if backing is None:
        return False
    name = backing.removesuffix(" (deleted)")
    if not name.endswith(_IMAGE_SUFFIX):
        return False
    record = read_record(entry.point)
    return backing.endswith(" (deleted)") or record is None or record.image != name


def gc_capped_dirs() -> list[str]:
    """Unmount capped directories whose owner deleted them (their record or image is gone):
    the mount points, for ``ramp sandbox gc``."""
    if os.geteuid() != 0:
        return []
    removed = []
    for entry in reversed(_mounts()):
        if _orphan(entry):
            with contextlib.suppress(CappedDirError):
                _unmount(entry.point)
                removed.append(str(entry.point))
            if read_record(entry.point) is None:
                # Its owner was deleting it: finish that (the mount point is empty now).
                with contextlib.suppress(OSError):
                    entry.point.rmdir()
    return removed


def remove_tree(path: Path) -> list[str]:
    """``rm -rf`` that first releases the capped directories inside (so no loop device and
    no mount is left behind, and the mounted content is not deleted file by file), then
    removes the rest at any depth (``toolchain._trees.delete_tree``): what is left, if any."""
    release_capped_dirs_under(path)
    return delete_tree(path)
