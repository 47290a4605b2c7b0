"""Walking, copying and removing trees at any depth (toolchain._trees), on real directories.

The deep trees here are made the way an agent's program makes them: one ``mkdir`` relative
to the last directory's descriptor at a time, so no path is ever long and no recursion is
needed; Python 3.11's ``os.walk`` and ``shutil.rmtree`` raise RecursionError on them.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import reachable_temp_dir
from toolchain._trees import (
    Step,
    TreeError,
    copy_tree,
    delete_tree,
    open_regular,
    walk_tree,
)

DEPTH = 1500
LONG_NAME = "d" * 200  # 1500 levels of it: a path of 300 KB, 73 times PATH_MAX


@pytest.fixture
def scratch() -> Iterator[Path]:
    path = reachable_temp_dir("ramp-test-trees-")
    yield path
    subprocess.run(["rm", "-rf", "--", str(path)], check=False, timeout=300)


def _deep(root: Path, depth: int, name: str = LONG_NAME, payload: bytes = b"bottom") -> None:
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    for _ in range(depth):
        os.mkdir(name, dir_fd=fd)
        child = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = child
    out = os.open("payload", os.O_WRONLY | os.O_CREAT, 0o640, dir_fd=fd)
    os.write(out, payload)
    os.close(out)
    os.symlink("/etc/passwd", "link", dir_fd=fd)
    os.close(fd)


def test_the_standard_library_fails_where_these_do_not(scratch: Path) -> None:
    _deep(scratch, DEPTH, name="d")
    with pytest.raises(RecursionError):
        list(os.walk(scratch))
    with pytest.raises(RecursionError):
        shutil.rmtree(scratch / "d")
    steps = [step for step, _ in walk_tree(scratch)]
    assert steps.count(Step.ENTER) == steps.count(Step.LEAVE) == DEPTH
    assert delete_tree(scratch) == [] and not scratch.exists()


def test_walk_reaches_the_bottom_of_a_path_longer_than_path_max(scratch: Path) -> None:
    _deep(scratch, DEPTH)
    items = {entry.name: entry for step, entry in walk_tree(scratch) if step is Step.ITEM}
    assert set(items) == {"payload", "link"}
    assert stat.S_ISLNK(items["link"].info.st_mode)  # listed, never followed
    path = items["payload"].path
    assert path.startswith("…/") and path.endswith(f"{LONG_NAME}/payload")
    assert len(path) < 32 * (len(LONG_NAME) + 1) + 10  # shown in part, not 300 KB


def test_open_regular_reads_only_the_file_listed(scratch: Path) -> None:
    (scratch / "file").write_bytes(b"content")
    os.mkfifo(scratch / "fifo")
    (scratch / "link").symlink_to(scratch / "file")
    opened: dict[str, bytes | None] = {}
    for step, entry in walk_tree(scratch):
        assert step is Step.ITEM
        fd = open_regular(entry)
        opened[entry.name] = None if fd is None else os.read(fd, 100)
        if fd is not None:
            os.close(fd)
    assert opened == {"fifo": None, "file": b"content", "link": None}


def test_a_tree_moved_under_the_walk_stops_it(scratch: Path) -> None:
    (scratch / "a" / "b").mkdir(parents=True)
    (scratch / "a" / "b" / "f").write_text("x")
    (scratch / "elsewhere").mkdir()
    with pytest.raises(TreeError, match="changed while it was being walked"):
        for step, entry in walk_tree(scratch):
            if step is Step.ITEM and entry.name == "f":
                # While the walk is in a/b, a/ is moved: going up from b must not land in
                # whatever directory now holds it.
                (scratch / "a").rename(scratch / "elsewhere" / "a")


def test_delete_tree_removes_links_not_their_targets(scratch: Path) -> None:
    outside = reachable_temp_dir("ramp-test-trees-outside-")
    try:
        (outside / "keep").write_text("keep")
        (scratch / "sub").mkdir()
        (scratch / "sub" / "dir-link").symlink_to(outside)
        (scratch / "file-link").symlink_to(outside / "keep")
        os.mkfifo(scratch / "fifo")
        (scratch / "locked").mkdir()
        (scratch / "locked" / "inner").write_text("x")
        (scratch / "locked").chmod(0)
        assert delete_tree(scratch) == []
        assert not scratch.exists()
        assert (outside / "keep").read_text() == "keep"
    finally:
        shutil.rmtree(outside)


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting needs root")
def test_delete_tree_does_not_enter_another_file_system(scratch: Path) -> None:
    inner = scratch / "mounted"
    inner.mkdir()
    mount = ["mount", "-t", "tmpfs", "-o", "size=1m", "ramp-test-trees", str(inner)]
    subprocess.run(mount, check=True, timeout=30)
    try:
        (inner / "kept").write_text("on the mounted file system")
        assert delete_tree(scratch) == ["mounted", "."]
        assert (inner / "kept").exists()
    finally:
        subprocess.run(["umount", str(inner)], check=True, timeout=30)
    assert delete_tree(scratch) == [] and not scratch.exists()


def test_copy_tree_keeps_content_modes_and_links_at_any_depth(scratch: Path) -> None:
    source, dest = scratch / "source", scratch / "dest"
    source.mkdir()
    _deep(source, 300, name="level", payload=b"deep payload")
    (source / "run.sh").write_text("#!/bin/sh\n")
    (source / "run.sh").chmod(0o750)
    (source / "ro").mkdir(mode=0o500)
    os.mkfifo(source / "pipe")
    copy_tree(source, dest)
    assert (dest / "run.sh").read_text() == "#!/bin/sh\n"
    assert stat.S_IMODE((dest / "run.sh").stat().st_mode) == 0o750
    assert stat.S_IMODE((dest / "ro").stat().st_mode) == 0o500
    assert not (dest / "pipe").exists()
    bottom = [e for s, e in walk_tree(dest) if s is Step.ITEM and e.name in ("payload", "link")]
    assert len(bottom) == 2
    for step, entry in walk_tree(dest):
        if step is Step.ITEM and entry.name == "payload":
            fd = open_regular(entry)
            assert fd is not None
            assert os.read(fd, 100) == b"deep payload"
            os.close(fd)
        if step is Step.ITEM and entry.name == "link":
            assert os.readlink(entry.name, dir_fd=entry.dir_fd) == "/etc/passwd"
    (dest / "ro").chmod(0o700)


def test_copy_tree_refuses_an_existing_destination(scratch: Path) -> None:
    (scratch / "source").mkdir()
    (scratch / "dest").mkdir()
    with pytest.raises(FileExistsError):
        copy_tree(scratch / "source", scratch / "dest")
