"""The grader owns what it writes: a revealed reference and a resurrection note appear in a
run's reference directory with their final owner and mode, and nothing changes them after.

The references are root's, readable and not writable by the run (grader/_run_home.py's
layout): they appear whole, by one rename of a directory (or file) finished out of sight.
A kernel watch (inotify, read after the writes: the kernel queued every event in order)
shows how each name came to be; no chown, chmod or write may touch it once it is there.
"""

from __future__ import annotations

import ctypes
import os
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

from golden import Split, Stage, build_golden
from grader._agent_workspace import reveal_stage_inputs, write_resurrection_note
from grader._grading import public_cases
from tests.support import backend_missing

RUN_UID = 299_976
BACKEND = "bwrap"
IN_MODIFY, IN_ATTRIB, IN_MOVED_TO, IN_CREATE = 0x2, 0x4, 0x80, 0x100
_EVENT = struct.Struct("iIII")
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the run's layout needs root")


class _Watch:
    """The events the kernel reports for the entries of one directory."""

    def __init__(self, directory: Path) -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        self.fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        mask = IN_MODIFY | IN_ATTRIB | IN_MOVED_TO | IN_CREATE
        if self.fd < 0 or libc.inotify_add_watch(self.fd, os.fsencode(directory), mask) < 0:
            raise OSError(ctypes.get_errno(), "inotify")

    def events(self) -> dict[str, set[int]]:
        """Name -> the kinds of event it had (each a single bit of the masks above)."""
        seen: dict[str, set[int]] = {}
        while True:
            try:
                data = os.read(self.fd, 1 << 16)
            except BlockingIOError:
                return seen
            offset = 0
            while offset < len(data):
                _wd, mask, _cookie, size = _EVENT.unpack_from(data, offset)
                start = offset + _EVENT.size
                name = data[start : start + size].rstrip(b"\0").decode()
                seen.setdefault(name, set()).update(
                    bit for bit in (IN_MODIFY, IN_ATTRIB, IN_MOVED_TO, IN_CREATE) if mask & bit
                )
                offset = start + size

    def close(self) -> None:
        os.close(self.fd)


@pytest.fixture
def reference(tmp_path: Path) -> Iterator[Path]:
    """A run's reference directory as RunHome lays it out: root's, 0750, the run's group."""
    directory = tmp_path / "reference"
    directory.mkdir()
    os.chown(directory, 0, RUN_UID)
    directory.chmod(0o750)
    yield directory


def test_revealed_references_appear_whole_and_final(reference: Path, tmp_path: Path) -> None:
    if backend_missing(BACKEND):
        pytest.skip(f"{BACKEND} not ready")
    cases = [c for c in public_cases() if c.split is Split.PUBLIC][:2]
    built = build_golden(cases, backend=BACKEND)
    assert not built.failures
    watch = _Watch(reference)
    try:
        shown = reveal_stage_inputs(reference, Stage.T1, built.cases, cache=tmp_path / "cache")
        assert shown == reference / "T0"
        assert reveal_stage_inputs(reference, Stage.T1, built.cases, cache=tmp_path / "c2")
        events = watch.events()
    finally:
        watch.close()
    assert events["T0"] == {IN_MOVED_TO}, "T0 was made or changed in place"
    top = shown.lstat()
    assert (top.st_uid, top.st_gid, top.st_mode & 0o7777) == (0, 0, 0o755)
    files = sorted(shown.iterdir())
    assert len(files) == len(cases)
    for item in files:
        info = item.lstat()
        assert (info.st_uid, info.st_gid, info.st_mode & 0o7777) == (0, 0, 0o644), item
        # A chown or chmod after the rename that published T0 would move its ctime past it.
        assert info.st_ctime_ns <= top.st_ctime_ns, item


def test_a_resurrection_note_appears_final(reference: Path) -> None:
    watch = _Watch(reference)
    try:
        note = write_resurrection_note(reference, Stage.T2, 41.0)
        events = watch.events()
    finally:
        watch.close()
    assert note == reference / "T2-RESURRECTED.md"
    assert events[note.name] == {IN_MOVED_TO}, "the note was made or changed in place"
    info = note.lstat()
    assert (info.st_uid, info.st_gid, info.st_mode & 0o7777) == (0, 0, 0o644)
    assert "T2 scored 41.00" in note.read_text(encoding="utf-8")
