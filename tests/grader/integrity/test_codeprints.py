"""The toolchain-copy scan: real toolchain files, disguised, are found; honest programs are not.

Copies are made from the real files of the development root file system with the real
binutils; honest programs are our own sources compiled by the real compilers (see
``variants.py``). The threshold and the measured rates are in docs/integrity.md.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from grader import _codeprints
from grader._codeprints import MATCH_THRESHOLD_BYTES, CodePrints, match_file, rootfs_files
from grader._elfcode import code_ranges
from grader._integrity import FindingKind, scan_workspace
from tests.grader.integrity.variants import (
    UNDETECTABLE,
    VARIANTS,
    make_variant,
    tool_path,
)
from tests.support import reachable_temp_dir
from toolchain._image import require_rootfs
from toolchain._manifest import Profile

GOLDEN_SOLUTION = Path(__file__).resolve().parents[3] / "golden" / "solution"
_NOT_FOUND = UNDETECTABLE | {"truncated to 10%"}


@pytest.fixture
def box() -> Iterator[Path]:
    path = reachable_temp_dir("ramp-test-copies-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _copies(workspace: Path, prints: CodePrints) -> list[str]:
    return [
        f.detail for f in scan_workspace(workspace, prints) if f.kind is FindingKind.TOOLCHAIN_COPY
    ]


@pytest.mark.parametrize("variant", [v for v in VARIANTS if v not in _NOT_FOUND])
@pytest.mark.parametrize("tool", ["llc", "as", "riscv64 as"])
def test_every_disguise_of_a_small_tool_is_found(
    prints: CodePrints, box: Path, tool: str, variant: str
) -> None:
    copy = make_variant(tool, variant, box)
    (box / "bin").mkdir()
    copy.rename(box / "bin" / "t5-helper")
    found = _copies(box, prints)
    assert len(found) == 1, found
    assert found[0].startswith("bin/t5-helper: ")
    assert tool_path(tool).name in found[0]  # the evidence names the toolchain file


@pytest.mark.parametrize("variant", sorted(_NOT_FOUND))
@pytest.mark.parametrize("tool", ["llc", "as"])
def test_stumps_without_code_and_encoded_bytes_are_not_found(
    prints: CodePrints, box: Path, tool: str, variant: str
) -> None:
    # llc's and as's first 10% hold headers and symbol tables only: no code, nothing that
    # runs. Encoded (xor-ed) bytes match nothing: running decoded code at grading is what
    # the exec policy stops.
    make_variant(tool, variant, box)
    assert _copies(box, prints) == []


@pytest.mark.parametrize(
    ("tool", "variant"),
    [
        ("libLLVM", "one byte appended"),
        ("libclang-cpp", "truncated to 50%"),
        ("cc1", "packed in an ar archive"),
        ("clang", "embedded at an offset"),
        ("opt", "sections renamed"),
        ("ld", "truncated to 10%"),
        ("lld", "build-id removed"),
        ("riscv64 cc1", "truncated to 50%"),
    ],
)
def test_big_tools_and_libraries_are_found(
    prints: CodePrints, box: Path, tool: str, variant: str
) -> None:
    copy = make_variant(tool, variant, box)
    match = match_file(prints, copy)
    assert prints.matched_bytes(match) >= MATCH_THRESHOLD_BYTES
    assert prints.shares(match)[0].tool.endswith(tool_path(tool).name)
    assert len(_copies(box, prints)) == 1


def test_a_copy_cut_into_small_pieces_is_found_as_a_whole(prints: CodePrints, box: Path) -> None:
    data = tool_path("as").read_bytes()
    piece = 12 << 10
    for index in range(0, len(data), piece):
        (box / f"part-{index // piece:03}").write_bytes(data[index : index + piece])
    for part in box.iterdir():
        assert prints.matched_bytes(match_file(prints, part)) < MATCH_THRESHOLD_BYTES
    (found,) = _copies(box, prints)
    assert "files together" in found and "x86_64-linux-gnu-as" in found


def test_only_files_mostly_made_of_toolchain_code_are_pooled(prints: CodePrints, box: Path) -> None:
    root = require_rootfs(Profile.DEV).path
    code = _code_of(root / "usr/bin/x86_64-linux-gnu-as")
    slices = [code[i : i + 1024] for i in range(0, 64 * 4096, 4096)]
    noise = random.Random(5)
    # Stray chunks in big files (as an honest binary holds at most one): not pooled.
    for index, piece in enumerate(slices):
        (box / f"blob-{index:02}").write_bytes(noise.randbytes(256 << 10) + piece)
    assert _copies(box, prints) == []
    # The same code as files of its own: pooled into one finding.
    for index, piece in enumerate(slices):
        (box / f"blob-{index:02}").write_bytes(piece)
    (found,) = _copies(box, prints)
    pooled = int(found.split(" files together")[0])
    # a 1 KB slice holds a whole chunk (the only unit matched) most of the time
    assert 40 <= pooled <= 64 and "x86_64-linux-gnu-as" in found


def _code_of(path: Path) -> bytes:
    with path.open("rb") as handle:
        ranges = code_ranges(handle, path.stat().st_size)
    text = max(ranges, key=lambda r: r.size)
    return path.read_bytes()[text.offset : text.offset + text.size]


def test_the_reference_solution_workspace_is_clean(prints: CodePrints) -> None:
    assert scan_workspace(GOLDEN_SOLUTION, prints) == []


def test_our_own_programs_are_clean(prints: CodePrints, honest_builds: dict[str, Path]) -> None:
    assert {"g++ -O2", "clang++-19 -O2", "g++ -O2 -static"} <= set(honest_builds)
    matched = {
        label: prints.matched_bytes(match_file(prints, path))
        for label, path in honest_builds.items()
    }
    # measured: at most one chunk (129 bytes) of clang-generated code; see docs/integrity.md
    assert max(matched.values()) < MATCH_THRESHOLD_BYTES // 16, matched
    workspace = next(iter(honest_builds.values())).parent
    assert _copies(workspace, prints) == []


def test_the_root_file_systems_other_binaries_are_clean(prints: CodePrints) -> None:
    root = require_rootfs(Profile.DEV).path
    negative = rootfs_files(root).negative
    named = [p for p in negative if p.name in {"python3.11", "cmake", "gdb", "libc.so.6"}]
    sample = named + negative[::25]
    assert len(sample) > 50
    worst = max(sample, key=lambda p: prints.matched_bytes(match_file(prints, p)))
    assert prints.matched_bytes(match_file(prints, worst)) < MATCH_THRESHOLD_BYTES // 16


def test_the_prints_cover_the_toolchain_and_only_it(prints: CodePrints) -> None:
    tools = set(prints.tools)
    for expected in (
        "/usr/lib/x86_64-linux-gnu/libLLVM.so.19.1",
        "/usr/lib/llvm-19/bin/llc",
        "/usr/lib/gcc/x86_64-linux-gnu/12/cc1plus",
        "/usr/lib/gcc-cross/riscv64-linux-gnu/12/cc1",
        "/usr/bin/riscv64-linux-gnu-as",
        "/usr/bin/x86_64-linux-gnu-ld.gold",
    ):
        assert expected in tools
    assert not any("python" in t or "libstdc++" in t or "libc.so" in t for t in tools)
    assert np.all(np.diff(prints.hashes.astype(np.uint64)) > 0), "sorted and distinct"


def test_cached_prints_read_back_equal(prints: CodePrints, tmp_path: Path) -> None:
    cache = tmp_path / "prints.npz"
    _codeprints._save(cache, prints)
    again = _codeprints._load(cache)
    assert np.array_equal(again.hashes, prints.hashes)
    assert np.array_equal(again.owners, prints.owners)
    assert (again.tools, again.tool_bytes, again.meta) == (
        prints.tools,
        prints.tool_bytes,
        prints.meta,
    )


def test_a_damaged_cache_is_built_again(
    prints: CodePrints, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = require_rootfs(Profile.DEV).path
    monkeypatch.setenv("RAMP_HOME", str(tmp_path))
    cache = _codeprints._cache_path(root)
    cache.parent.mkdir(parents=True)
    cache.write_bytes(b"PK\x03\x04 not really a zip file")
    builds: list[Path] = []

    def build(given: Path) -> CodePrints:  # the real build takes a minute; its result is known
        builds.append(given)
        return prints

    monkeypatch.setattr(_codeprints, "build_prints", build)
    _codeprints._load_or_build.cache_clear()
    try:
        rebuilt = _codeprints._load_or_build(root)
    finally:
        _codeprints._load_or_build.cache_clear()
    assert builds == [root] and rebuilt is prints
    assert np.array_equal(_codeprints._load(cache).hashes, prints.hashes)
