"""The one ownership helper (toolchain._ownership), and the Sandbox facade's use of it on
real docker and real bwrap: what root makes for a uid is that uid's, and nothing outside
the tree (a symlink's target, a hard link's other name) ever changes owner."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import backend_missing, reachable_temp_dir
from toolchain import Profile, hand_over, hand_over_tree, make_owned_dir, remove_tree, write_owned
from toolchain.sandbox import ExecLimits, Mount, Outcome, SandboxSpec, open_sandbox

UID = GID = 299_977
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="giving files away needs root")


@pytest.fixture
def root() -> Iterator[Path]:
    path = reachable_temp_dir("ramp-test-owner-")
    yield path
    remove_tree(path)


def _outside(root: Path) -> Path:
    outside = root / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("root's")
    return outside


def test_a_file_is_theirs_before_it_holds_a_byte(root: Path) -> None:
    make_owned_dir(root / "d", UID, GID, mode=0o750)
    assert (root / "d").lstat().st_uid == UID and (root / "d").lstat().st_mode & 0o777 == 0o750
    fd = os.open(root / "d", os.O_RDONLY | os.O_DIRECTORY)
    try:
        write_owned("f", b"data", UID, GID, dir_fd=fd)
    finally:
        os.close(fd)
    made = (root / "d" / "f").lstat()
    assert (made.st_uid, made.st_gid, made.st_mode & 0o777) == (UID, GID, 0o644)
    assert (root / "d" / "f").read_bytes() == b"data"


def test_a_planted_link_is_never_written_through_nor_given_away(root: Path) -> None:
    outside = _outside(root)
    (root / "planted").symlink_to(outside / "secret.txt")
    with pytest.raises(FileExistsError):
        write_owned(root / "planted", b"x", UID, GID)
    hand_over(root / "planted", UID, GID)  # the link itself, never its target
    assert (root / "planted").lstat().st_uid == UID
    assert (outside / "secret.txt").stat().st_uid == 0
    assert (outside / "secret.txt").read_text() == "root's"


def test_a_tree_is_handed_over_at_any_depth(root: Path) -> None:
    tree = root / "tree"
    tree.mkdir()
    fd = os.open(tree, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(1500):  # past Python's recursion limit: rglob and os.walk give up
            os.mkdir("d", dir_fd=fd)
            fd, parent = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd), fd
            os.close(parent)
        write_owned("bottom", b"", 0, 0, dir_fd=fd)
        assert hand_over_tree(tree, UID, GID) == 1 + 1500 + 1
        assert os.fstat(fd).st_uid == UID
        assert os.stat("bottom", dir_fd=fd, follow_symlinks=False).st_uid == UID
    finally:
        os.close(fd)


@pytest.fixture(params=["docker", "bwrap"])
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    reason = backend_missing(name)
    if reason:
        pytest.skip(f"{name}: {reason}")
    return name


def test_a_sandbox_gets_what_root_made_for_it_and_nothing_beyond(root: Path, backend: str) -> None:
    outside = _outside(root)
    tree = root / "snapshot"
    (tree / "sub").mkdir(parents=True)
    (tree / "sub" / "f.txt").write_text("made by root")
    (tree / "out").symlink_to(outside)
    os.link(outside / "secret.txt", tree / "hard.txt")
    output = root / "output"
    output.mkdir()
    spec = SandboxSpec(
        profile=Profile.DEV,
        limits=ExecLimits(timeout_s=60, memory_mb=512, pids=64),
        mounts=(Mount(source=output, target="/ramp/output", writable=True),),
        uid=UID,
        gid=GID,
    )
    with open_sandbox(tree, backend, spec) as box:
        ran = box.exec("id -u; echo more >> sub/f.txt; touch sub/new /ramp/output/o")
    assert ran.outcome is Outcome.OK, ran
    assert ran.stdout.split() == [str(UID)]
    for path in (tree, tree / "sub", tree / "sub" / "f.txt", tree / "sub" / "new", output):
        assert path.lstat().st_uid == UID, path
    assert (output / "o").lstat().st_uid == UID
    assert (tree / "out").lstat().st_uid == 0
    # The hard link's other name is outside the tree: it stays root's, and read-only to UID.
    assert (outside / "secret.txt").stat().st_uid == 0
    assert outside.stat().st_uid == 0
