"""Snapshots: copied through a confined worker into a fresh private directory, hashed in the
same pass, with the same hash as ``tree_hash`` gives the copy."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

from tests.toolchain.workspace.support import GID, UID, give
from toolchain._errors import RampError, WorkspaceLimitError
from toolchain.workspace import SnapshotError, SnapshotInfo, Workspace, snapshot_tree, tree_hash

MB = 1 << 20


def _snap(root: Path | Workspace, dest: Path, **caps: int) -> SnapshotInfo:
    return snapshot_tree(
        root,
        dest,
        uid=UID,
        gid=GID,
        max_bytes=caps.get("max_bytes", 64 * MB),
        max_entries=caps.get("max_entries", 10_000),
    )


def _populate(root: Path, outside: Path) -> None:
    (root / "src" / "deep").mkdir(parents=True)
    (root / "src" / "main.c").write_text("int main(void) { return 0; }\n")
    (root / "src" / "deep" / "blob.bin").write_bytes(bytes(range(256)) * 40)
    (root / "build.sh").write_text("#!/bin/sh\ntrue\n")
    (root / "build.sh").chmod(0o4755)  # the set-uid bit must not survive
    (root / "link-in").symlink_to("src/main.c")
    (root / "link-out").symlink_to(outside / "secret.txt")
    os.mkfifo(root / "pipe")
    (root / os.fsdecode(b"caf\xe9.h")).write_bytes(b"odd name\n")
    give(root)


def test_a_snapshot_copies_what_matters_and_hashes_it(
    root: Path, outside: Path, tmp_path: Path
) -> None:
    _populate(root, outside)
    dest = tmp_path / "snap"
    info = _snap(root, dest)
    assert info.files == 4 and info.directories == 2 and info.symlinks == 2
    assert info.skipped == 1 and info.bytes == 29 + 10240 + 15 + 9
    assert info.tree_hash == tree_hash(dest)
    assert stat.S_IMODE(dest.stat().st_mode) == 0o700
    assert (dest / "src" / "main.c").read_text() == "int main(void) { return 0; }\n"
    assert (dest / "src" / "deep" / "blob.bin").read_bytes() == bytes(range(256)) * 40
    assert stat.S_IMODE((dest / "build.sh").stat().st_mode) == 0o755
    assert (dest / "link-out").readlink() == outside / "secret.txt"
    assert str((dest / "link-in").readlink()) == "src/main.c"
    assert not (dest / "pipe").exists()
    assert (dest / os.fsdecode(b"caf\xe9.h")).read_bytes() == b"odd name\n"


def test_the_hash_follows_content_modes_and_links(
    root: Path, outside: Path, tmp_path: Path
) -> None:
    _populate(root, outside)
    first = _snap(root, tmp_path / "a").tree_hash
    assert _snap(root, tmp_path / "b").tree_hash == first
    (root / "src" / "main.c").write_text("int main(void) { return 1; }\n")
    changed = _snap(root, tmp_path / "c").tree_hash
    assert changed != first
    (root / "src" / "main.c").chmod(0o600)
    assert _snap(root, tmp_path / "d").tree_hash != changed
    (root / "link-in").unlink()
    (root / "link-in").symlink_to("build.sh")
    assert (
        len({tree_hash(tmp_path / n) for n in "abcd"} | {_snap(root, tmp_path / "e").tree_hash})
        == 4
    )


def test_sparse_and_crowded_trees_are_refused_before_copying(root: Path, tmp_path: Path) -> None:
    with (root / "sparse.bin").open("wb") as handle:
        handle.truncate(900 * MB)
    (root / "small.txt").write_text("x")
    give(root)
    started = time.monotonic()
    with pytest.raises(WorkspaceLimitError, match="more than the 512 MB"):
        _snap(root, tmp_path / "snap", max_bytes=512 * MB)
    assert time.monotonic() - started < 5
    assert not (tmp_path / "snap").exists()
    (root / "sparse.bin").unlink()
    for index in range(20):
        (root / f"f{index}").write_text("")
    with pytest.raises(WorkspaceLimitError, match="more than 10 files and directories"):
        _snap(root, tmp_path / "snap", max_entries=10)
    assert not (tmp_path / "snap").exists()


def test_unreadable_files_and_an_existing_dest_are_refused(root: Path, tmp_path: Path) -> None:
    (root / "locked.txt").write_text("x")
    give(root)
    (root / "locked.txt").chmod(0o000)
    with pytest.raises(SnapshotError, match="chmod u\\+r"):
        _snap(root, tmp_path / "snap")
    assert not (tmp_path / "snap").exists()
    (root / "locked.txt").chmod(0o644)
    (tmp_path / "taken").mkdir()
    with pytest.raises(SnapshotError, match="already exists"):
        _snap(root, tmp_path / "taken")


def test_an_open_workspace_snapshots_with_its_own_workers(
    ws: Workspace, root: Path, tmp_path: Path
) -> None:
    ws.write("a/b.c", "int b;\n")
    pids = set(ws.worker_pids()) | {ws.ping().pid}
    info = _snap(ws, tmp_path / "snap")
    assert info.files == 1 and info.tree_hash == tree_hash(tmp_path / "snap")
    assert set(ws.worker_pids()) <= pids
    assert isinstance(info.tree_hash, str) and len(info.tree_hash) == 64


def test_errors_are_ramp_errors(tmp_path: Path) -> None:
    with pytest.raises(RampError, match="create the directory"):
        _snap(tmp_path / "missing", tmp_path / "snap")
