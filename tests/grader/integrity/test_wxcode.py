"""Programs the kernel would map writable and executable are findings (grader._wxcode).

Built with the real gcc on the host: a section declared ``"awx"`` gives a PT_LOAD
segment flagged RWX (the red team's way to run decoded code at grading, where seccomp
refuses every writable executable mapping a system call asks for)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader._codeprints import CodePrints
from grader._integrity import FindingKind, scan_workspace
from grader._wxcode import writable_code
from tests.support import reachable_temp_dir
from toolchain._image import require_rootfs
from toolchain._manifest import Profile

_RWX = r"""
unsigned char code[64] __attribute__((section(".rwx,\"awx\",@progbits #")));
int main(void) { code[0] = 0xc3; return ((int (*)(void))code)() ; }
"""
_PLAIN = "int main(void) { return 0; }\n"


@pytest.fixture
def box() -> Iterator[Path]:
    path = reachable_temp_dir("ramp-test-wx-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _build(box: Path, name: str, source: str, *flags: str) -> Path:
    (box / f"{name}.c").write_text(source, encoding="utf-8")
    out = box / name
    subprocess.run(
        ["gcc", *flags, str(box / f"{name}.c"), "-o", str(out)],
        check=True,
        capture_output=True,
    )
    return out


def _flagged(path: Path) -> str | None:
    fd = os.open(path, os.O_RDONLY)
    try:
        return writable_code(fd)
    finally:
        os.close(fd)


def test_an_awx_section_is_writable_code(box: Path) -> None:
    assert _flagged(_build(box, "rwx", _RWX, "-static")) is not None
    assert _flagged(_build(box, "rwx-dyn", _RWX)) is not None


def test_ordinary_programs_are_not(box: Path) -> None:
    assert _flagged(_build(box, "plain", _PLAIN, "-static")) is None
    assert _flagged(_build(box, "plain-dyn", _PLAIN, "-O2")) is None
    (box / "script").write_text("#!/bin/sh\n", encoding="utf-8")
    assert _flagged(box / "script") is None
    (box / "short").write_bytes(b"\x7fELF\x02")
    assert _flagged(box / "short") is None


def test_the_scan_reports_it_as_a_finding(box: Path, prints: CodePrints) -> None:
    _build(box, "rwx", _RWX, "-static")
    _build(box, "plain", _PLAIN)
    found = [f for f in scan_workspace(box, prints) if f.kind is FindingKind.WRITABLE_CODE]
    assert len(found) == 1 and found[0].detail.startswith("rwx:"), found
    assert "writable and executable" in found[0].shown()


@pytest.mark.parametrize("profile", [Profile.DEV, Profile.MINIMAL])
def test_no_program_of_the_root_file_systems_is_flagged(profile: Profile) -> None:
    root = require_rootfs(profile).path
    flagged, seen = [], 0
    for directory in ("usr/bin", "usr/lib", "usr/libexec", "usr/sbin"):
        for path in (root / directory).rglob("*"):
            if path.is_file() and not path.is_symlink():
                seen += 1
                if _flagged(path) is not None:
                    flagged.append(str(path))
    assert seen > 100 and flagged == [], flagged
