"""Any name the kernel allows works through every operation, shown in one escaped form."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.toolchain.workspace.support import give
from toolchain._errors import PathOutsideWorkspaceError, WorkspaceError
from toolchain.workspace import Workspace, parse_name, show

# Bytes no UTF-8 decoder accepts, a surrogate's UTF-8 form, a backslash, text that looks
# like an escape, a newline and plain Unicode.
ODD_NAMES = [
    b"caf\xe9.c",
    b"\xff\xfe",
    b"\xed\xa0\x80.h",
    b"back\\slash",
    b"looks\\x41like",
    b"line\nbreak",
    "\u00e9t\u00e9-\u20ac.c".encode(),
]


@given(st.binary(max_size=40))
def test_show_and_parse_are_inverse(raw: bytes) -> None:
    shown = show(raw)
    assert parse_name(shown) == raw
    shown.encode("utf-8")  # never a lone surrogate
    json.dumps(shown)


def test_the_escape_form() -> None:
    assert show(b"caf\xe9") == "caf\\xe9"
    assert show(b"a\\b") == "a\\\\b"
    assert parse_name("caf\\xE9") == b"caf\xe9"
    assert parse_name("a\\b") == b"a\\b"  # a lone backslash stands for itself
    assert parse_name("..\\mcp-token") == b"..\\mcp-token"


def _on_disk(root: Path) -> list[bytes]:
    return sorted(os.fsencode(path.name) for path in root.iterdir())


@pytest.mark.parametrize("raw", ODD_NAMES, ids=repr)
def test_every_operation_takes_an_odd_name(ws: Workspace, root: Path, raw: bytes) -> None:
    (root / "d").mkdir()
    (root / "d" / os.fsdecode(raw)).write_bytes(b"needle here\n")
    give(root)
    name = show(raw)
    listing = ws.list_tree("d")
    assert [e.path for e in listing.entries] == [f"d/{name}"]
    path = listing.entries[0].path
    assert ws.read(path).content == "needle here\n"
    assert ws.stat(path).size == 12
    assert ws.glob("d/*").matches == (path,)
    assert ws.glob(f"**/{name}").matches == (path,)
    assert [m.path for m in ws.grep("needle").matches] == [path]
    assert [m.path for m in ws.grep("needle", glob=name).matches] == [path]
    assert ws.edit(path, "needle", "pin").replacements == 1
    assert ws.write(path, "rewritten\n").created is False
    moved = ws.move(path, f"{name}.moved")
    assert moved.dst == f"{name}.moved"
    assert raw + b".moved" in _on_disk(root)
    assert ws.write(f"new/{name}", "made by name").created
    assert _on_disk(root / "new") == [raw]
    assert ws.delete(f"{name}.moved").path == f"{name}.moved"
    assert ws.delete("new", recursive=True).kind.value == "dir"
    assert _on_disk(root) == [b"d"]


def test_odd_symlink_targets_are_shown_escaped(ws: Workspace, root: Path) -> None:
    (root / os.fsdecode(b"\xfe-link")).symlink_to(os.fsdecode(b"\xff-target"))
    (entry,) = ws.list_tree().entries
    assert (entry.path, entry.target) == ("\\xfe-link", "\\xff-target")
    with pytest.raises(WorkspaceError, match="does not exist"):
        ws.read(entry.path)  # dangling, and said so by the escaped name


def test_escapes_cannot_smuggle_separators_or_dots(ws: Workspace) -> None:
    with pytest.raises(PathOutsideWorkspaceError, match=r"'\.' or '\.\.'"):
        ws.read("\\x2e\\x2e/etc/passwd")
    with pytest.raises(WorkspaceError, match="x2f"):
        ws.write("a\\x2fb", "x")
    with pytest.raises(WorkspaceError, match="x2f"):
        ws.write("a\\x00b", "x")


def test_lone_surrogates_in_arguments_are_refused_clearly(ws: Workspace) -> None:
    ws.write("u.txt", "hello")
    for call in (
        lambda: ws.read("a\ud800"),
        lambda: ws.write("s.txt", "a\udfffb"),
        lambda: ws.edit("u.txt", "hello", "\ud800"),
        lambda: ws.grep("\ud800"),
        lambda: ws.glob("\udc80*"),
    ):
        with pytest.raises(WorkspaceError, match="lone surrogate"):
            call()
    assert ws.read("u.txt").content == "hello"
