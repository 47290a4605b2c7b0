"""The workers run as the run's uid, in an empty root and private namespaces, without
privileges, inside bounds."""

from __future__ import annotations

import encodings
import os
from pathlib import Path

import pytest

from tests.toolchain.workspace.support import GID, UID, give
from toolchain import hand_over_tree
from toolchain._errors import WorkspaceError
from toolchain.workspace import Workspace
from toolchain.workspace import _search as search_module

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="confinement needs root")


def _status(pid: int) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {key: value.strip() for key, _, value in (line.partition(":") for line in lines)}


def test_a_worker_is_the_runs_uid_in_an_empty_root_without_privileges(
    ws: Workspace, root: Path
) -> None:
    pong = ws.ping()
    assert pong.confined and pong.uid == UID
    status = _status(pong.pid)
    assert status["Uid"].split() == [str(UID)] * 4
    assert status["Gid"].split() == [str(GID)] * 4
    assert status["Groups"] == ""
    assert status["NoNewPrivs"] == "1"
    for capabilities in ("CapInh", "CapPrm", "CapEff", "CapAmb"):
        assert int(status[capabilities], 16) == 0, capabilities
    assert list(Path(f"/proc/{pong.pid}/root").iterdir()) == []  # empty, not the workspace
    for namespace in ("mnt", "net", "ipc", "uts"):
        ours = Path(f"/proc/self/ns/{namespace}").readlink()
        assert Path(f"/proc/{pong.pid}/ns/{namespace}").readlink() != ours, namespace
    descriptors = sorted(int(fd.name) for fd in Path(f"/proc/{pong.pid}/fd").iterdir())
    assert descriptors[:3] == [0, 1, 2] and len(descriptors) == 4, descriptors
    limits = Path(f"/proc/{pong.pid}/limits").read_text()
    assert "Max address space         1073741824" in limits
    assert "Max processes             0" in limits
    assert "Max open files            320" in limits


def test_a_worker_imports_nothing_from_the_workspace(ws: Workspace, root: Path) -> None:
    """Files at the host paths of the worker's own source and of the codecs (where a
    workspace chroot would have put them) are never read: a warning raised while grep
    compiles a pattern makes ``linecache`` look for its source, and a coding cookie there
    would import the codec it names."""
    codec = "rampplanted"
    proof = "planted-code-ran"
    payload = f"open('/proof', 'w').close()\nimport os\nos.mkdir('{proof}')\n"
    for place in (Path(encodings.__file__).parent, Path(search_module.__file__).parent):
        (root / place.relative_to("/")).mkdir(parents=True, exist_ok=True)
        (root / place.relative_to("/") / f"{codec}.py").write_text(payload)
    fake = root / Path(search_module.__file__).relative_to("/")
    fake.write_text(f"# -*- coding: {codec} -*-\n" + "\n" * 400)
    give(root)
    for width in range(2, 6):  # a fresh warning each time (its line differs)
        ws.grep("q" * width + "[[:digit:]]")
    ws.read(str(fake.relative_to(root)))
    assert not (root / proof).exists() and not (root / "proof").exists()


def test_what_a_worker_makes_belongs_to_the_uid(ws: Workspace, root: Path) -> None:
    ws.write("new/deeper/script.sh", "#!/bin/sh\necho hi\n")
    ws.write("plain.txt", "text")
    ws.move("plain.txt", "moved/into/place.txt")
    for path in ("new", "new/deeper", "new/deeper/script.sh", "moved/into/place.txt"):
        info = (root / path).lstat()
        assert (info.st_uid, info.st_gid) == (UID, GID), path
    assert (root / "new/deeper/script.sh").stat().st_mode & 0o777 == 0o755
    assert (root / "moved/into/place.txt").stat().st_mode & 0o777 == 0o644
    (root / "keep.sh").write_text("#!/bin/sh\n")
    (root / "keep.sh").chmod(0o600)
    ws.write("keep.sh", "#!/bin/sh\nexit 0\n")
    assert (root / "keep.sh").stat().st_mode & 0o777 == 0o600


def test_a_worker_cannot_do_what_the_uid_cannot(ws: Workspace, root: Path) -> None:
    private = root / "roots-only.txt"
    private.write_text("root's secret")
    private.chmod(0o600)
    with pytest.raises(WorkspaceError, match="permission denied"):
        ws.read("roots-only.txt")
    sealed = root / "sealed"
    sealed.mkdir(mode=0o755)
    with pytest.raises(WorkspaceError, match=r"(?i)permission denied"):
        ws.write("sealed/x.txt", "x")
    assert not (sealed / "x.txt").exists()


def test_without_the_chroot_openat2_alone_still_confines(root: Path, outside: Path) -> None:
    """As on a machine without root (no chroot, no uid change), and here with root's powers
    even: every lookup stays beneath the root."""
    (root / "out").symlink_to(outside)
    (root / "up").symlink_to("../outside")
    with Workspace(root, openat2_only_for_tests=True) as ws:
        pong = ws.ping()
        assert not pong.confined and pong.uid == 0
        assert str(Path(f"/proc/{pong.pid}/root").readlink()) == "/"
        assert _status(pong.pid)["NoNewPrivs"] == "1"
        for call in (
            lambda: ws.read("out/secret.txt"),
            lambda: ws.read("up/secret.txt"),
            lambda: ws.write("out/new.txt", "x"),
            lambda: ws.list_tree("out"),
            lambda: ws.move("out/secret.txt", "stolen.txt"),
            lambda: ws.delete("up/secret.txt"),
        ):
            with pytest.raises(WorkspaceError, match="outside the workspace"):
                call()
        assert ws.write("made.txt", "made").created
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


def test_no_server_skips_the_chroot() -> None:
    repository = Path(__file__).resolve().parents[3]
    for package in ("ramp_mcp", "grader", "golden"):
        for source in (repository / package).rglob("*.py"):
            assert "openat2_only_for_tests" not in source.read_text(), source


def test_handing_a_tree_over_never_follows_a_link(tmp_path: Path, outside: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "a" / "b").mkdir(parents=True)
    (tree / "a" / "b" / "f.c").write_text("x")
    (tree / "out").symlink_to(outside)
    os.link(outside / "secret.txt", tree / "hard.txt")
    assert hand_over_tree(tree, UID, GID) == 4
    for rel in ("", "a", "a/b", "a/b/f.c"):
        assert (tree / rel).lstat().st_uid == UID, rel
    assert (tree / "out").lstat().st_uid == 0
    assert (outside / "secret.txt").stat().st_uid == 0  # the hard link's other name
    assert outside.stat().st_uid == 0
    assert hand_over_tree(tree, UID, GID) == 0
