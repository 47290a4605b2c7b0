"""Executable sections found by our ELF/ar parser agree with binutils' readelf."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from grader._elfcode import CodeRange, code_ranges
from toolchain._image import find_rootfs
from toolchain._manifest import Profile

# x86-64 executable and library, RV64 library, i386 static executable, riscv64 ELF object.
FILES = [
    "usr/lib/llvm-19/bin/llc",
    "usr/lib/x86_64-linux-gnu/libLLVM.so.19.1",
    "usr/riscv64-linux-gnu/lib/libc.so.6",
    "usr/libexec/valgrind/memcheck-x86-linux",
    "usr/lib/gcc-cross/riscv64-linux-gnu/12/crtbegin.o",
]
_SECTION = re.compile(
    r"\]\s+\S+\s+(?P<type>\S+)\s+[0-9a-f]+\s+(?P<off>[0-9a-f]+)\s+(?P<size>[0-9a-f]+)\s+\S+\s+(?P<flags>\S*)"
)


@pytest.fixture(scope="module")
def root() -> Path:
    info = find_rootfs(Profile.DEV)
    if info is None or shutil.which("readelf") is None:
        pytest.skip("needs the development root file system and readelf")
    return info.path


def _readelf(path: Path) -> list[CodeRange]:
    """readelf's executable sections with bytes in the file, as (offset, size)."""
    listing = subprocess.run(
        ["readelf", "-SW", str(path)], capture_output=True, text=True, check=True
    ).stdout
    found = []
    for match in _SECTION.finditer(listing):
        size = int(match["size"], 16)
        if "X" in match["flags"] and match["type"] != "NOBITS" and size:
            found.append(CodeRange(int(match["off"], 16), size))
    return found


@pytest.mark.parametrize("relative", FILES)
def test_code_ranges_match_readelf(root: Path, relative: str) -> None:
    path = root / relative
    with path.open("rb") as handle:
        ours = code_ranges(handle, path.stat().st_size)
    assert ours == _readelf(path)
    assert ours, "every one of these files has code"


def test_archive_members_are_walked(root: Path) -> None:
    archive = root / "usr/lib/gcc/x86_64-linux-gnu/12/libstdc++.a"
    with archive.open("rb") as handle:
        ranges = code_ranges(handle, archive.stat().st_size)
    listing = subprocess.run(
        ["readelf", "-SW", str(archive)], capture_output=True, text=True, check=True
    ).stdout
    # readelf prints each member's sections; offsets there are relative to the member
    expected = [m for m in _SECTION.finditer(listing) if "X" in m["flags"] and int(m["size"], 16)]
    assert len(ranges) == len(expected) > 1000
    assert sum(r.size for r in ranges) == sum(int(m["size"], 16) for m in expected)


def test_what_is_neither_elf_nor_ar_has_no_code(tmp_path: Path) -> None:
    for content in (b"", b"#!/bin/sh\n", b"\x7fELF", b"!<arch>\nshort", b"\x7fELF" + bytes(200)):
        path = tmp_path / "f"
        path.write_bytes(content)
        with path.open("rb") as handle:
            assert code_ranges(handle, len(content)) == []
