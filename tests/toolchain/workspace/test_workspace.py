"""The confined workspace file API: what each operation does and refuses."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.toolchain.workspace.support import UID, open_workspace
from toolchain._errors import PathOutsideWorkspaceError, WorkspaceError, WorkspaceLimitError
from toolchain.workspace import EntryKind, Workspace, WorkspaceLimits


def _message(excinfo: pytest.ExceptionInfo[WorkspaceError]) -> str:
    return str(excinfo.value)


# -- paths and symlinks ---------------------------------------------------------------------


@pytest.mark.parametrize("path", ["../x", "a/../../x", "a/..", "..", "./../x"])
def test_dotdot_is_refused(ws: Workspace, path: str) -> None:
    with pytest.raises(PathOutsideWorkspaceError) as excinfo:
        ws.stat(path)
    message = _message(excinfo)
    assert "'..'" in message
    assert "relative to the workspace root" in message


def test_absolute_is_refused(ws: Workspace) -> None:
    with pytest.raises(PathOutsideWorkspaceError) as excinfo:
        ws.read("/etc/passwd")
    assert "'/etc/passwd' is absolute" in _message(excinfo)
    assert "like 'src/main.c'" in _message(excinfo)


def test_nul_byte_is_refused(ws: Workspace) -> None:
    with pytest.raises(PathOutsideWorkspaceError, match=r"NUL byte.*relative to the workspace"):
        ws.stat("a\0b")


def test_empty_and_dot_mean_root(ws: Workspace) -> None:
    ws.write("src/main.c", "x")
    assert ws.stat("").path == "" and ws.stat("").kind is EntryKind.DIR
    assert ws.stat(".").path == ""
    assert ws.stat("./src//main.c").path == "src/main.c"


def test_symlink_to_outside_file_is_refused(ws: Workspace, root: Path) -> None:
    (root / "passwd").symlink_to("/etc/passwd")
    with pytest.raises(PathOutsideWorkspaceError) as excinfo:
        ws.read("passwd")
    message = _message(excinfo)
    assert "symlink 'passwd'" in message
    assert "outside the workspace" in message
    assert "only relative symlinks that stay inside the workspace" in message


def test_symlink_to_outside_directory_is_refused(ws: Workspace, root: Path, outside: Path) -> None:
    (root / "out").symlink_to(outside, target_is_directory=True)
    for path in ("out", "out/secret.txt", "out/new.txt"):
        with pytest.raises(PathOutsideWorkspaceError, match="symlink 'out'"):
            ws.stat(path)
    with pytest.raises(PathOutsideWorkspaceError):
        ws.write("out/new.txt", "x")
    assert not (outside / "new.txt").exists()


def test_escaping_symlink_chain_is_refused(ws: Workspace, root: Path, outside: Path) -> None:
    # a -> b -> c -> outside: every hop but the last looks harmless.
    (root / "c").symlink_to(outside)
    (root / "b").symlink_to("c")
    (root / "a").symlink_to("b")
    with pytest.raises(PathOutsideWorkspaceError, match="symlink 'a'"):
        ws.read("a/secret.txt")


def test_relative_symlink_escaping_via_dotdot_is_refused(
    ws: Workspace, root: Path, outside: Path
) -> None:
    (root / "sub").mkdir()
    (root / "sub" / "up").symlink_to("../../outside")
    with pytest.raises(PathOutsideWorkspaceError, match="symlink 'sub/up'"):
        ws.read("sub/up/secret.txt")


def test_absolute_symlink_inside_is_refused_too(ws: Workspace, root: Path) -> None:
    ws.write("real.txt", "hello")
    (root / "abs").symlink_to(root / "real.txt")
    with pytest.raises(PathOutsideWorkspaceError, match="absolute symlink"):
        ws.read("abs")


def test_symlinks_inside_root_are_followed_for_reading(ws: Workspace, root: Path) -> None:
    ws.write("real/f.txt", "hello")
    (root / "alias").symlink_to("real")
    (root / "link.txt").symlink_to("real/f.txt")
    (root / "real" / "up.txt").symlink_to("../link.txt")
    assert ws.stat("alias/f.txt").path == "alias/f.txt"
    assert ws.read("alias/f.txt").content == "hello"
    assert ws.read("link.txt").content == "hello"
    assert ws.read("real/up.txt").content == "hello"
    assert ws.write("alias/g.txt", "through a directory link").created
    assert (root / "real" / "g.txt").read_text() == "through a directory link"


def test_symlink_loop_is_refused(ws: Workspace, root: Path) -> None:
    (root / "loop1").symlink_to("loop2")
    (root / "loop2").symlink_to("loop1")
    with pytest.raises(WorkspaceError, match="symlink loop"):
        ws.stat("loop1/x")


def test_workspace_root_may_itself_be_a_symlink(tmp_path: Path, root: Path) -> None:
    (root / "f.txt").write_text("x")
    alias = tmp_path / "alias"
    alias.symlink_to(root)
    with open_workspace(alias) as workspace:
        assert workspace.root == root.resolve()
        assert workspace.read("f.txt").content == "x"


def test_missing_root_is_refused(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="create the directory"):
        Workspace(tmp_path / "missing", uid=UID, gid=UID)


def test_root_must_name_an_unprivileged_uid(root: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("only root is asked for a uid")
    for uid in (None, 0):
        with pytest.raises(WorkspaceError, match="unprivileged user"):
            Workspace(root, uid=uid, gid=UID)


_SEGMENTS = st.sampled_from(
    ["", ".", "..", "a", "b", "file.txt", "in", "out", "chain", "dangling", "loop", "\0", "~",
     "abs", "\\x2e\\x2e", "secret.txt"]
)  # fmt: skip


@pytest.fixture(scope="module")
def populated() -> Iterator[Workspace]:
    with tempfile.TemporaryDirectory() as temp:
        base = Path(temp)
        outside = base / "outside"
        (outside / "a").mkdir(parents=True)
        (outside / "secret.txt").write_text("OUTSIDE-SECRET")
        (outside / "a" / "secret.txt").write_text("OUTSIDE-SECRET")
        root = base / "ws"
        (root / "a" / "b").mkdir(parents=True)
        (root / "a" / "file.txt").write_text("x")
        (root / "in").symlink_to("a")
        (root / "a" / "out").symlink_to(outside)
        (root / "a" / "b" / "chain").symlink_to("../out")
        (root / "dangling").symlink_to("nowhere")
        (root / "loop").symlink_to("loop")
        (root / "abs").symlink_to(outside / "secret.txt")
        with open_workspace(root) as workspace:
            yield workspace


@settings(max_examples=300, deadline=None)
@given(
    path=st.one_of(
        st.lists(_SEGMENTS, max_size=6).map("/".join),
        st.text(max_size=40),
    )
)
def test_nothing_outside_is_ever_served(populated: Workspace, path: str) -> None:
    calls: tuple[Callable[[], str], ...] = (
        lambda: populated.read(path).content or "",
        lambda: " ".join(e.path for e in populated.list_tree(path, depth=3).entries),
        lambda: " ".join(m.line for m in populated.grep("SECRET", path=path).matches),
        lambda: " ".join(populated.glob(path or "*").matches),
    )
    for call in calls:
        try:
            seen = call()
        except WorkspaceError as exc:
            assert str(exc)
            continue
        assert "OUTSIDE-SECRET" not in seen
        assert "secret.txt" not in seen


# -- hard links ----------------------------------------------------------------------------


def test_hard_link_to_outside_file_is_refused(ws: Workspace, root: Path, outside: Path) -> None:
    os.link(outside / "secret.txt", root / "linked.txt")
    with pytest.raises(PathOutsideWorkspaceError) as excinfo:
        ws.read("linked.txt")
    assert "2 hard links" in _message(excinfo)
    assert "delete it" in _message(excinfo)
    with pytest.raises(PathOutsideWorkspaceError):
        ws.write("linked.txt", "overwritten")
    with pytest.raises(PathOutsideWorkspaceError):
        ws.edit("linked.txt", "top", "bottom")
    assert (outside / "secret.txt").read_text() == "top secret\n"
    grep = ws.grep("secret")
    assert grep.matches == ()
    assert grep.files_skipped == 1
    # Deleting removes only the link; afterwards the path can be written afresh.
    ws.delete("linked.txt")
    ws.write("linked.txt", "mine")
    assert (outside / "secret.txt").read_text() == "top secret\n"
    assert ws.read("linked.txt").content == "mine"


# -- read and write ------------------------------------------------------------------------


def test_write_then_read_round_trip(ws: Workspace, root: Path) -> None:
    written = ws.write("src/main.c", "int main(void) { return 0; }\n")
    assert written.path == "src/main.c"
    assert written.created is True
    assert written.bytes_written == 29
    read = ws.read("src/main.c")
    assert read.content == "int main(void) { return 0; }\n"
    assert read.binary is False
    assert read.size == 29
    assert read.truncated is False
    assert read.next_offset is None
    again = ws.write("src/main.c", b"int x;\n")
    assert again.created is False
    assert (root / "src" / "main.c").read_bytes() == b"int x;\n"
    assert [p.name for p in (root / "src").iterdir()] == ["main.c"]


def test_write_keeps_existing_file_mode(ws: Workspace, root: Path) -> None:
    script = root / "run.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    ws.write("run.sh", "#!/bin/sh\necho hi\n")
    assert script.stat().st_mode & 0o777 == 0o755


def test_write_without_create_dirs_needs_parent(ws: Workspace) -> None:
    with pytest.raises(WorkspaceError, match="does not exist; create it first or pass create_dirs"):
        ws.write("missing/file.txt", "x", create_dirs=False)


def test_write_refuses_symlink_and_directory(ws: Workspace, root: Path) -> None:
    (root / "real.txt").write_text("original")
    (root / "link.txt").symlink_to("real.txt")
    (root / "dir").mkdir()
    with pytest.raises(WorkspaceError) as excinfo:
        ws.write("link.txt", "changed")
    assert "is a symlink" in _message(excinfo)
    assert "('real.txt') instead" in _message(excinfo)
    assert (root / "real.txt").read_text() == "original"
    with pytest.raises(WorkspaceError, match="is a directory; give a file path inside it"):
        ws.write("dir", "x")
    with pytest.raises(WorkspaceError, match="workspace root itself"):
        ws.write("", "x")


def test_write_refuses_file_in_the_way_of_directories(ws: Workspace, root: Path) -> None:
    (root / "file").write_text("x")
    with pytest.raises(WorkspaceError, match="a file is in the way"):
        ws.write("file/child.txt", "x")


def test_read_paging_with_offset_and_limit(ws: Workspace) -> None:
    ws.write("data.txt", "0123456789")
    first = ws.read("data.txt", limit=4)
    assert (first.content, first.offset, first.bytes_returned) == ("0123", 0, 4)
    assert first.truncated is True
    assert first.next_offset == 4
    second = ws.read("data.txt", offset=4, limit=4)
    assert second.content == "4567"
    assert second.next_offset == 8
    last = ws.read("data.txt", offset=8, limit=4)
    assert last.content == "89"
    assert last.truncated is False
    assert last.next_offset is None
    end = ws.read("data.txt", offset=10)
    assert end.content == ""
    with pytest.raises(WorkspaceError, match=r"past the end.*offset from 0 to 10"):
        ws.read("data.txt", offset=11)
    with pytest.raises(WorkspaceError, match="offset must be 0 or more"):
        ws.read("data.txt", offset=-1)
    with pytest.raises(WorkspaceError, match="limit must be at least 1"):
        ws.read("data.txt", limit=0)


def test_read_paging_never_splits_characters(ws: Workspace) -> None:
    text = "aé€😀z" * 5
    ws.write("u.txt", text)
    pieces: list[str] = []
    offset: int | None = 0
    while offset is not None:
        chunk = ws.read("u.txt", offset=offset, limit=3)
        assert chunk.content is not None
        pieces.append(chunk.content)
        offset = chunk.next_offset
    assert "".join(pieces) == text
    # An offset inside a character moves forward to the next whole character.
    inside = ws.read("u.txt", offset=2, limit=1)
    assert inside.offset == 3
    assert inside.content == "€"


def test_read_is_capped_by_max_read_bytes(root: Path) -> None:
    ws = open_workspace(root, WorkspaceLimits(max_read_bytes=5))
    ws.write("big.txt", "abcdefghij")
    read = ws.read("big.txt", limit=100)
    assert read.content == "abcde"
    assert read.truncated is True
    assert read.next_offset == 5


def test_binary_file_with_nul_byte(ws: Workspace) -> None:
    ws.write("a.out", b"\x7fELF\x00\x01\x02" + b"text" * 10)
    read = ws.read("a.out")
    assert read.binary is True
    assert read.content is None
    assert read.hex_preview is not None
    assert read.hex_preview.startswith("7f 45 4c 46 00")
    assert read.size == 47


def test_binary_file_with_invalid_utf8(ws: Workspace) -> None:
    ws.write("latin1.txt", "caf\xe9".encode("latin-1"))
    read = ws.read("latin1.txt")
    assert read.binary is True
    assert read.content is None
    assert read.hex_preview == "63 61 66 e9"


def test_nul_byte_after_first_8_kib_is_still_text(ws: Workspace) -> None:
    ws.write("late.txt", b"a" * 9000 + b"\x00")
    assert ws.read("late.txt").binary is False


def test_size_caps(root: Path) -> None:
    ws = open_workspace(root, WorkspaceLimits(max_file_bytes=10))
    with pytest.raises(WorkspaceLimitError, match=r"over the 10 byte limit.*split it"):
        ws.write("big.txt", "x" * 11)
    assert not (root / "big.txt").exists()
    ws.write("ok.txt", "x" * 10)
    (root / "huge.txt").write_text("y" * 11)
    with pytest.raises(WorkspaceLimitError, match="command in the sandbox"):
        ws.read("huge.txt")
    with pytest.raises(WorkspaceLimitError, match="would be 12 bytes"):
        ws.edit("ok.txt", "x" * 10, "y" * 12)
    result = ws.grep("y")
    assert result.matches == ()
    assert result.files_skipped == 1


def test_read_errors_are_actionable(ws: Workspace, root: Path) -> None:
    (root / "dir").mkdir()
    with pytest.raises(WorkspaceError, match="does not exist; use list_files or glob"):
        ws.read("nope.txt")
    with pytest.raises(WorkspaceError, match="is a directory; use list_files"):
        ws.read("dir")
    os.mkfifo(root / "fifo")
    with pytest.raises(WorkspaceError, match="not a regular file"):
        ws.read("fifo")


# -- edit ---------------------------------------------------------------------------------


def test_edit_replaces_once(ws: Workspace) -> None:
    ws.write("f.c", "int a = 1;\nint b = 2;\n")
    edited = ws.edit("f.c", "int b = 2;", "int b = 3;")
    assert edited.replacements == 1
    assert ws.read("f.c").content == "int a = 1;\nint b = 3;\n"
    assert edited.size == len("int a = 1;\nint b = 3;\n")


def test_edit_not_found(ws: Workspace) -> None:
    ws.write("f.c", "int a;\n")
    with pytest.raises(WorkspaceError) as excinfo:
        ws.edit("f.c", "int b;", "int c;")
    assert "not found" in _message(excinfo)
    assert "read the file first and copy the exact text" in _message(excinfo)


def test_edit_ambiguous_and_replace_all(ws: Workspace) -> None:
    ws.write("f.c", "x = 1;\nx = 1;\nx = 1;\n")
    with pytest.raises(WorkspaceError) as excinfo:
        ws.edit("f.c", "x = 1;", "x = 2;")
    assert "3 times" in _message(excinfo)
    assert "more surrounding context" in _message(excinfo)
    assert "replace_all=True" in _message(excinfo)
    assert ws.read("f.c").content == "x = 1;\nx = 1;\nx = 1;\n"
    edited = ws.edit("f.c", "x = 1;", "x = 2;", replace_all=True)
    assert edited.replacements == 3
    assert ws.read("f.c").content == "x = 2;\nx = 2;\nx = 2;\n"


def test_edit_refuses_empty_identical_binary_and_symlink(ws: Workspace, root: Path) -> None:
    ws.write("f.c", "abc")
    ws.write("b.bin", b"\x00abc")
    (root / "l.c").symlink_to("f.c")
    with pytest.raises(WorkspaceError, match="old text is empty; give the exact text"):
        ws.edit("f.c", "", "x")
    with pytest.raises(WorkspaceError, match="identical"):
        ws.edit("f.c", "abc", "abc")
    with pytest.raises(WorkspaceError, match=r"binary file.*use write"):
        ws.edit("b.bin", "abc", "x")
    with pytest.raises(WorkspaceError, match=r"is a symlink.*\('f.c'\) instead"):
        ws.edit("l.c", "abc", "x")


# -- delete and move ------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["", ".", "./"])
def test_delete_root_is_refused(ws: Workspace, root: Path, path: str) -> None:
    (root / "keep.txt").write_text("x")
    with pytest.raises(WorkspaceError, match="refusing to delete the workspace root"):
        ws.delete(path, recursive=True)
    assert (root / "keep.txt").exists()


def test_delete_non_empty_directory_needs_recursive(ws: Workspace, root: Path) -> None:
    ws.write("build/out/a.o", b"\x00")
    with pytest.raises(WorkspaceError, match="not empty; pass recursive=True"):
        ws.delete("build")
    assert (root / "build" / "out" / "a.o").exists()
    deleted = ws.delete("build", recursive=True)
    assert deleted.kind is EntryKind.DIR
    assert not (root / "build").exists()
    (root / "empty").mkdir()
    ws.delete("empty")
    assert not (root / "empty").exists()


def test_delete_file_and_missing(ws: Workspace, root: Path) -> None:
    ws.write("f.txt", "x")
    assert ws.delete("f.txt").kind is EntryKind.FILE
    assert not (root / "f.txt").exists()
    with pytest.raises(WorkspaceError, match="does not exist"):
        ws.delete("f.txt")


def test_delete_symlink_deletes_link_only(ws: Workspace, root: Path) -> None:
    ws.write("dir/f.txt", "x")
    (root / "alias").symlink_to("dir")
    deleted = ws.delete("alias", recursive=True)
    assert deleted.kind is EntryKind.SYMLINK
    assert not (root / "alias").is_symlink()
    assert (root / "dir" / "f.txt").read_text() == "x"


def test_move_inside_workspace(ws: Workspace, root: Path) -> None:
    ws.write("old.c", "int x;")
    moved = ws.move("old.c", "src/new.c")
    assert (moved.src, moved.dst, moved.kind, moved.overwrote) == (
        "old.c",
        "src/new.c",
        EntryKind.FILE,
        False,
    )
    assert not (root / "old.c").exists()
    assert (root / "src" / "new.c").read_text() == "int x;"


def test_move_overwrite_rules(ws: Workspace, root: Path) -> None:
    ws.write("a.c", "a")
    ws.write("b.c", "b")
    ws.write("d/x.c", "x")
    with pytest.raises(WorkspaceError, match="already exists; pass overwrite=True"):
        ws.move("a.c", "b.c")
    with pytest.raises(WorkspaceError, match=r"is a directory; to move into it.*'d/a.c'"):
        ws.move("a.c", "d", overwrite=True)
    assert ws.move("a.c", "b.c", overwrite=True).overwrote is True
    assert (root / "b.c").read_text() == "a"
    with pytest.raises(WorkspaceError, match="into itself"):
        ws.move("d", "d/sub")
    with pytest.raises(WorkspaceError, match="does not exist"):
        ws.move("missing.c", "other.c")


def test_move_to_or_from_outside_is_refused(ws: Workspace, root: Path, outside: Path) -> None:
    ws.write("a.c", "a")
    (root / "out").symlink_to(outside)
    with pytest.raises(PathOutsideWorkspaceError):
        ws.move("a.c", "../a.c")
    with pytest.raises(PathOutsideWorkspaceError):
        ws.move("a.c", "/tmp/a.c")
    with pytest.raises(PathOutsideWorkspaceError):
        ws.move("a.c", "out/a.c")
    with pytest.raises(PathOutsideWorkspaceError):
        ws.move("out/secret.txt", "stolen.txt")
    with pytest.raises(WorkspaceError, match="workspace root"):
        ws.move("", "x")
    assert (root / "a.c").exists()
    assert not (outside / "a.c").exists()
    assert (outside / "secret.txt").exists()


# -- list, glob, grep ------------------------------------------------------------------------


def test_list_tree(ws: Workspace, root: Path, outside: Path) -> None:
    ws.write("src/main.c", "int main;")
    ws.write("src/deep/er/x.c", "")
    ws.write("README", "hi")
    (root / "out").symlink_to(outside)
    listing = ws.list_tree(depth=2)
    by_path = {entry.path: entry for entry in listing.entries}
    assert list(by_path) == ["README", "out", "src", "src/deep", "src/main.c"]
    assert by_path["src/main.c"].size == 9
    assert by_path["src"].kind is EntryKind.DIR
    assert by_path["out"].kind is EntryKind.SYMLINK
    assert by_path["out"].target == str(outside)
    assert listing.truncated is False
    deeper = ws.list_tree("src", depth=3)
    assert [e.path for e in deeper.entries] == [
        "src/deep",
        "src/deep/er",
        "src/deep/er/x.c",
        "src/main.c",
    ]
    with pytest.raises(WorkspaceError, match="is not a directory; use read"):
        ws.list_tree("README")
    with pytest.raises(WorkspaceError, match="depth must be at least 1"):
        ws.list_tree(depth=0)
    with pytest.raises(PathOutsideWorkspaceError):
        ws.list_tree("out")


def test_list_tree_truncates(root: Path) -> None:
    ws = open_workspace(root, WorkspaceLimits(max_list_entries=3))
    for index in range(5):
        ws.write(f"f{index}.txt", "")
    listing = ws.list_tree()
    assert listing.truncated is True
    assert [e.path for e in listing.entries] == ["f0.txt", "f1.txt", "f2.txt"]


def test_glob(ws: Workspace, root: Path, outside: Path) -> None:
    ws.write("src/main.c", "")
    ws.write("src/util/str.c", "")
    ws.write("src/util/str.h", "")
    ws.write("top.c", "")
    (outside / "evil.c").write_text("")
    (root / "out").symlink_to(outside)
    assert ws.glob("*.c").matches == ("top.c",)
    assert ws.glob("src/*.c").matches == ("src/main.c",)
    assert ws.glob("**/*.c").matches == ("src/main.c", "src/util/str.c", "top.c")
    assert ws.glob("src/**/str.?").matches == ("src/util/str.c", "src/util/str.h")
    assert ws.glob("out/*.c").matches == ()
    assert ws.glob("missing/*.c").matches == ()
    assert "out" in ws.glob("*").matches


@pytest.mark.parametrize("pattern", ["/etc/*", "../*", "src/../../*", "a\0b"])
def test_glob_refuses_escaping_patterns(ws: Workspace, pattern: str) -> None:
    with pytest.raises(PathOutsideWorkspaceError, match="pattern"):
        ws.glob(pattern)


def test_glob_is_capped(root: Path) -> None:
    ws = open_workspace(root, WorkspaceLimits(max_glob_results=2))
    for index in range(4):
        ws.write(f"f{index}.c", "")
    result = ws.glob("*.c")
    assert result.truncated is True
    assert result.matches == ("f0.c", "f1.c")


def test_grep(ws: Workspace, root: Path, outside: Path) -> None:
    ws.write("src/a.c", "int main(void)\n{\n  return MAIN;\n}\n")
    ws.write("src/b.h", "int main_helper;\r\n")
    ws.write("bin.o", b"main\x00")
    (root / "out").symlink_to(outside)
    (outside / "x.c").write_text("int main;")
    result = ws.grep(r"main")
    assert [(m.path, m.line_number, m.column) for m in result.matches] == [
        ("src/a.c", 1, 5),
        ("src/b.h", 1, 5),
    ]
    assert result.matches[1].line == "int main_helper;"
    assert result.files_searched == 2
    assert result.files_skipped == 1
    folded = ws.grep("main", ignore_case=True, glob="*.c")
    assert [(m.path, m.line_number) for m in folded.matches] == [("src/a.c", 1), ("src/a.c", 3)]
    assert ws.grep("main", glob="src/*.h").matches[0].path == "src/b.h"
    single = ws.grep("return", path="src/a.c")
    assert [m.line for m in single.matches] == ["  return MAIN;"]
    with pytest.raises(PathOutsideWorkspaceError):
        ws.grep("main", path="out")


def test_grep_invalid_regex(ws: Workspace) -> None:
    with pytest.raises(WorkspaceError) as excinfo:
        ws.grep("foo(")
    message = _message(excinfo)
    assert "invalid regular expression 'foo('" in message
    assert "missing ), unterminated subpattern" in message
    assert "escape literal special characters" in message


def test_grep_cap_and_long_lines(ws: Workspace) -> None:
    ws.write("many.txt", "hit\n" * 10)
    capped = ws.grep("hit", max_matches=3)
    assert len(capped.matches) == 3
    assert capped.truncated is True
    assert ws.grep("hit").truncated is False
    ws.write("long.txt", "a" * 1000 + "NEEDLE" + "b" * 1000)
    match = ws.grep("NEEDLE").matches[0]
    assert match.line_truncated is True
    assert len(match.line) == 500
    assert "NEEDLE" in match.line
    assert match.column == 1001
    with pytest.raises(WorkspaceError, match="max_matches must be at least 1"):
        ws.grep("x", max_matches=0)
