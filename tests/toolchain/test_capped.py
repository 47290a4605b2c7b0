"""Capped directories on this machine: real ext4 images on loop devices, real tmpfs mounts.

Every fixture releases what it mounted, and each test checks that no loop device is left
behind for its image.
"""

from __future__ import annotations

import errno
import hashlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import reachable_temp_dir
from toolchain._capped import (
    CapKind,
    CappedDirError,
    capped_usage,
    create_capped_dir,
    ensure_mounted,
    gc_capped_dirs,
    read_record,
    release_capped_dir,
    remove_tree,
)

KINDS = [CapKind.EXT4, CapKind.TMPFS]
MAX_BYTES = 64 << 20
MAX_ENTRIES = 2000
UID = 299_990

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting needs root")


def _loop_devices_of(image: str | None) -> str:
    if image is None:
        return ""
    done = subprocess.run(["losetup", "-j", image], capture_output=True, text=True, check=False)
    return done.stdout.strip()


def _is_mount(path: Path) -> bool:
    return any(
        line.split()[4] == str(path)
        for line in Path("/proc/self/mountinfo").read_text().splitlines()
    )


@pytest.fixture
def home() -> Iterator[Path]:
    path = reachable_temp_dir("ramp-test-cap-")
    yield path
    remove_tree(path)


@pytest.fixture(params=KINDS, ids=[k.value for k in KINDS])
def capped(request: pytest.FixtureRequest, home: Path) -> Iterator[Path]:
    path = home / "ws"
    record = create_capped_dir(
        path,
        max_bytes=MAX_BYTES,
        max_entries=MAX_ENTRIES,
        uid=UID,
        gid=UID,
        kinds=(request.param,),
    )
    assert record.kind is request.param and record.enforced
    yield path
    release_capped_dir(path)
    assert not _is_mount(path)
    assert _loop_devices_of(record.image) == "", "the loop device was not freed"


def _fill(path: Path, chunk: bytes) -> int:
    """Write ``chunk`` over and over into one file until the file system says ENOSPC."""
    written = 0
    with (path).open("wb") as handle:
        try:
            while True:
                handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
                written += len(chunk)
        except OSError as exc:
            assert exc.errno in (errno.ENOSPC, errno.EDQUOT), exc
    return written


def test_owner_mode_and_an_empty_root(capped: Path) -> None:
    info = capped.stat()
    assert (info.st_uid, info.st_gid, info.st_mode & 0o7777) == (UID, UID, 0o700)
    assert list(capped.iterdir()) == []  # no lost+found for the agent to trip over
    usage = capped_usage(capped)
    assert usage is not None and not usage.full
    assert usage.used_bytes < 1 << 20 and usage.max_bytes == MAX_BYTES


def test_bytes_stop_at_the_cap_and_nothing_written_is_lost(capped: Path) -> None:
    kept = {}
    for index in range(4):
        data = os.urandom(1 << 20)
        (capped / f"keep{index}.bin").write_bytes(data)
        kept[index] = hashlib.sha256(data).hexdigest()
    written = _fill(capped / "bomb.bin", b"x" * (1 << 20))
    total = written + 4 * (1 << 20)
    # The cap is the usable space: within a few MB of it, never past it.
    assert MAX_BYTES - (4 << 20) <= total <= MAX_BYTES, total
    for index, digest in kept.items():
        assert hashlib.sha256((capped / f"keep{index}.bin").read_bytes()).hexdigest() == digest
    usage = capped_usage(capped)
    assert usage is not None and usage.full and "MB of 64 MB" in usage.describe()
    (capped / "bomb.bin").unlink()
    os.sync()
    after = capped_usage(capped)
    assert after is not None and not after.full, "deleting frees the space again"


def test_entries_stop_at_the_cap(capped: Path) -> None:
    made = 0
    with pytest.raises(OSError) as stopped:
        for index in range(MAX_ENTRIES * 3):
            (capped / f"f{index}").touch()
            made += 1
    assert stopped.value.errno == errno.ENOSPC
    assert MAX_ENTRIES - 20 <= made <= MAX_ENTRIES, made
    usage = capped_usage(capped)
    assert usage is not None and usage.full


def test_a_reboot_mounts_it_again(capped: Path) -> None:
    record = read_record(capped)
    assert record is not None
    (capped / "kept.txt").write_text("still here\n")
    subprocess.run(["umount", str(capped)], check=True)  # what a reboot does to a mount
    assert not _is_mount(capped)
    assert ensure_mounted(capped) == record
    assert ensure_mounted(capped) == record, "mounting twice stacks nothing"
    lines = [x for x in Path("/proc/self/mountinfo").read_text().splitlines() if str(capped) in x]
    assert len(lines) == 1
    if record.kind is CapKind.EXT4:
        assert (capped / "kept.txt").read_text() == "still here\n"
    else:
        assert not (capped / "kept.txt").exists()  # a tmpfs starts empty, as documented
    assert capped.stat().st_uid == UID


def test_gc_unmounts_a_deleted_home(home: Path) -> None:
    path = home / "ws"
    record = create_capped_dir(path, max_bytes=MAX_BYTES, max_entries=MAX_ENTRIES, uid=UID, gid=UID)
    assert record.kind is CapKind.EXT4 and _loop_devices_of(record.image)
    (home / ".ws.cap.json").unlink()
    assert record.image is not None
    Path(record.image).unlink()  # what rm -rf of the run home does around the mount
    assert str(path) in gc_capped_dirs()
    assert not _is_mount(path) and not path.exists()
    assert _loop_devices_of(record.image) == ""


def test_a_non_empty_directory_is_refused(home: Path) -> None:
    (home / "ws").mkdir()
    (home / "ws" / "x").write_text("x")
    with pytest.raises(CappedDirError, match="not an empty directory"):
        create_capped_dir(home / "ws", max_bytes=MAX_BYTES, max_entries=100, uid=UID, gid=UID)


def test_plain_is_recorded_as_not_enforced(home: Path) -> None:
    record = create_capped_dir(
        home / "ws",
        max_bytes=MAX_BYTES,
        max_entries=MAX_ENTRIES,
        uid=UID,
        gid=UID,
        kinds=(CapKind.PLAIN,),
    )
    assert record.kind is CapKind.PLAIN and not record.enforced
    assert not _is_mount(home / "ws")
    (home / "ws" / "f").write_bytes(b"x" * 8192)
    usage = capped_usage(home / "ws")
    assert usage is not None and usage.used_entries == 1 and usage.used_bytes >= 8192
