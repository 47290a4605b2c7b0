"""Scratch directories of grading and run_stage: removed when the work ends, however it ends,
and collected (mounts included) when their owner was killed."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import reachable_temp_dir
from toolchain._capped import create_capped_dir
from toolchain._scratch import gc_scratch_dirs, scratch_dir

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting needs root")


@pytest.fixture
def home(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = reachable_temp_dir("ramp-test-scratch-")
    monkeypatch.setenv("RAMP_HOME", str(path))
    yield path
    subprocess.run(["rm", "-rf", "--", str(path)], check=False, timeout=120)


def _mounted_under(root: Path) -> list[str]:
    points = [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()]
    return [p for p in points if p.startswith(str(root) + "/")]


def _fill(path: Path) -> None:
    """What an agent's program leaves: a capped file system with a deep tree in it."""
    create_capped_dir(path, max_bytes=32 << 20, max_entries=4096, uid=0, gid=0, mode=0o755)
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    for _ in range(1200):
        os.mkdir("d", dir_fd=fd)
        child = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = child
    os.close(fd)


def test_a_scratch_dir_goes_with_its_mounts_even_on_an_error(home: Path) -> None:
    with pytest.raises(RuntimeError, match="grading failed"), scratch_dir("grading") as work:
        _fill(work / "build")
        assert _mounted_under(home)
        raise RuntimeError("grading failed")
    assert list((home / "grading").iterdir()) == []
    assert _mounted_under(home) == []


def _work_then_hang(ready: multiprocessing.synchronize.Event) -> None:
    with scratch_dir("mcp-try") as work:
        _fill(work / "chain")
        ready.set()
        time.sleep(600)


def test_gc_removes_what_a_killed_owner_left_and_nothing_of_a_live_one(home: Path) -> None:
    context = multiprocessing.get_context("fork")
    ready = context.Event()
    child = context.Process(target=_work_then_hang, args=(ready,))
    child.start()
    try:
        assert ready.wait(60)
        with scratch_dir("grading") as ours:
            (left,) = (home / "mcp-try").iterdir()
            assert left.name.startswith(f"{child.pid}-")
            assert gc_scratch_dirs() == []  # both owners are alive
            assert child.pid is not None
            os.kill(child.pid, signal.SIGKILL)
            child.join()
            assert _mounted_under(left), "the killed owner's mount is still there"
            assert gc_scratch_dirs() == [str(left)]
            assert not left.exists() and ours.exists()
            assert _mounted_under(home / "mcp-try") == []
    finally:
        if child.is_alive():
            child.kill()
            child.join()
