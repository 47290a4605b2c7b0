"""Every operation is bounded: path sizes, walk depth and entries, glob segments, time."""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.toolchain.workspace.support import GID, UID, open_workspace
from toolchain._errors import WorkspaceLimitError
from toolchain.workspace import Workspace, WorkspaceLimits, WorkspaceTimeoutError, snapshot_tree

DEEP = 2000


@pytest.fixture(autouse=True)
def _remove_deep_trees(root: Path) -> Iterator[None]:
    """pytest's own clean-up recurses and cannot delete a tree 2000 levels deep; rm can."""
    yield
    subprocess.run(["rm", "-rf", str(root)], check=True)


def _deep_tree(root: Path, levels: int) -> None:
    """``d/d/d/...`` ``levels`` deep with a file ``x`` at the bottom, made by descriptors (no
    path that long could be named at once)."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    for _ in range(levels):
        os.mkdir("d", dir_fd=fd)
        if os.geteuid() == 0:
            os.chown("d", UID, GID, dir_fd=fd)
        following = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = following
    os.close(os.open("x", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd))
    os.close(fd)


def test_long_and_deep_path_arguments_get_clear_errors(ws: Workspace) -> None:
    with pytest.raises(WorkspaceLimitError, match="2000 components, more than the 256"):
        ws.read("/".join(["d"] * DEEP))
    with pytest.raises(WorkspaceLimitError, match="more than the 4096"):
        ws.write("/".join(["x" * 200] * 30), "x")
    with pytest.raises(WorkspaceLimitError, match="at most 255"):
        ws.write("n" * 300, "x")


def test_a_tree_2000_levels_deep_is_handled(ws: Workspace, root: Path) -> None:
    _deep_tree(root, DEEP)
    listing = ws.list_tree(depth=20)
    assert len(listing.entries) == 20 and listing.note is None
    found = ws.glob("**/x")
    assert found.matches == () and found.truncated
    assert found.note is not None and "deeper than 256 levels" in found.note
    grepped = ws.grep("anything")
    assert grepped.note is not None and "deeper than 256 levels" in grepped.note
    with pytest.raises(WorkspaceLimitError, match="rm -rf"):
        ws.delete("d", recursive=True)
    ws.write("after.txt", "still serving")
    assert ws.read("after.txt").content == "still serving"


def test_a_deep_tree_is_not_snapshotted(ws: Workspace, root: Path, tmp_path: Path) -> None:
    _deep_tree(root, 300)
    with pytest.raises(WorkspaceLimitError, match="deeper than 256 levels"):
        snapshot_tree(ws, tmp_path / "snap", max_bytes=1 << 20, max_entries=10_000)
    assert not (tmp_path / "snap").exists()


def test_huge_globs_are_collapsed_capped_and_quick(ws: Workspace, root: Path) -> None:
    _deep_tree(root, 120)
    started = time.monotonic()
    found = ws.glob("**/" * 339 + "x")
    assert found.matches == ("/".join(["d"] * 120) + "/x",)
    adversarial = ws.glob("*/**/" * 31 + "x")
    assert adversarial.matches == found.matches
    starry = ws.glob("*" * 500 + "a*" * 200)
    assert starry.matches == ()
    assert time.monotonic() - started < 10
    with pytest.raises(WorkspaceLimitError, match="more than the 64"):
        ws.glob("/".join(f"s{i}" for i in range(65)))


def test_walks_stop_at_the_visit_cap_and_say_so(root: Path) -> None:
    for index in range(300):
        (root / f"f{index:03}.c").write_text("int x;\n")
    with open_workspace(root, WorkspaceLimits(max_visits=100)) as ws:
        listing = ws.list_tree()
        assert len(listing.entries) == 100 and listing.truncated
        assert listing.note is not None and "100 entries" in listing.note
        globbed = ws.glob("*.c")
        assert len(globbed.matches) == 100 and globbed.truncated
        grepped = ws.grep("int")
        assert grepped.files_searched == 100 and grepped.truncated


def test_a_call_past_its_deadline_is_stopped_and_the_worker_replaced(root: Path) -> None:
    (root / "redos.txt").write_text("a" * 40 + "!\n")
    with open_workspace(root, timeout_s=1.0) as ws:
        first = ws.ping().pid
        started = time.monotonic()
        with pytest.raises(WorkspaceTimeoutError, match="did not finish"):
            ws.grep("(a|aa)+$")
        assert time.monotonic() - started < 4
        assert ws.read("redos.txt").size == 42
        assert first not in ws.worker_pids()
        with pytest.raises(ProcessLookupError):
            os.kill(first, 0)


def test_one_slow_call_does_not_hold_up_another(root: Path) -> None:
    (root / "redos.txt").write_text("a" * 40 + "!\n")
    with open_workspace(root) as ws:
        ws.ping()
        slow: list[float] = []

        def grep() -> None:
            started = time.monotonic()
            with contextlib.suppress(WorkspaceLimitError):
                ws.grep("(a|aa)+$")
            slow.append(time.monotonic() - started)

        thread = threading.Thread(target=grep)
        thread.start()
        time.sleep(0.3)
        started = time.monotonic()
        assert ws.read("redos.txt").size == 42
        quick = time.monotonic() - started
        thread.join()
        # The grep runs into its 5 s budget; the read meanwhile gets a second worker.
        assert slow and slow[0] > 4.0 and quick < 3.0, (slow, quick)


def test_a_dead_worker_is_replaced_without_the_caller_noticing(ws: Workspace) -> None:
    ws.write("a.txt", "alive")
    for pid in ws.worker_pids():
        os.kill(pid, 9)
    time.sleep(0.2)
    assert ws.read("a.txt").content == "alive"
    assert ws.list_tree().entries[0].path == "a.txt"
