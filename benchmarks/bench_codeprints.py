"""The toolchain-copy scan: detection, false positives and speed (docs/integrity.md).

    .venv/bin/python benchmarks/bench_codeprints.py [--tools llc,as,...] [--snapshot-mb 512]

Prints four tables:

1. detection: every copy variant of every chosen toolchain file (made with the real binutils
   from the real files of the dev root file system), found or not, matched bytes and the
   share of the toolchain file's printed code found;
2. honest programs: the reference solution's workspace, our C++ front end built with g++
   and clang++-19 five ways in the dev sandbox, a Rust and a Go program built on the host;
3. the dev root file system's non-toolchain ELF files and archives, scanned directly and
   leave-one-out (each judged against prints built without it in the negative set: the
   honest measure for code the prints have never seen);
4. scan speed on a typical honest workspace and on a snapshot of --snapshot-mb MB, next to
   sha256 of the same bytes measured in the same run.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import click
import numpy as np
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grader import _cdc, _codeprints
from grader._codeprints import MATCH_THRESHOLD_BYTES, CodePrints, match_file, toolchain_prints
from grader._integrity import scan_workspace
from tests.grader.integrity.variants import (
    CPP_BUILDS,
    TOOLS,
    VARIANTS,
    build_cpp,
    build_go,
    build_rust,
    make_variant,
    tool_path,
)
from tests.support import reachable_temp_dir
from toolchain._image import require_rootfs
from toolchain._manifest import Profile

ROOT = Path(__file__).resolve().parents[1]


def _kb(n: int) -> str:
    return f"{n / 1024:,.1f} KB"


def _detection(console: Console, prints: CodePrints, tools: list[str], work: Path) -> None:
    table = Table(title="1. copies: found? share of the tool's printed code found, KB matched")
    table.add_column("variant")
    for tool in tools:
        table.add_column(tool, justify="right")
    for variant in VARIANTS:
        cells = []
        for tool in tools:
            copy = make_variant(tool, variant, work)
            match = match_file(prints, copy)
            copy.unlink()
            matched = prints.matched_bytes(match)
            owner = next(
                (s for s in prints.shares(match) if s.tool.endswith(tool_path(tool).name)), None
            )
            share = owner.coverage if owner else 0.0
            word = "yes" if matched >= MATCH_THRESHOLD_BYTES else "NO"
            cells.append(f"{word} {share:.0%} {matched >> 10:,}K")
        table.add_row(variant, *cells)
    console.print(table)


def _honest(console: Console, prints: CodePrints, work: Path) -> None:
    table = Table(title="2. honest programs (threshold " + _kb(MATCH_THRESHOLD_BYTES) + ")")
    for column in ("program", "size", "matched", "findings"):
        table.add_column(column, justify="right" if column != "program" else "left")
    findings = scan_workspace(ROOT / "golden" / "solution", prints)
    size = sum(p.stat().st_size for p in (ROOT / "golden" / "solution").rglob("*") if p.is_file())
    table.add_row("reference solution workspace", _kb(size), "-", str(len(findings)))
    programs = build_cpp(work)
    for label, program in (("rustc -O", build_rust(work)), ("go build", build_go(work))):
        if program is None:
            table.add_row(label, "-", "not installed", "-")
        else:
            programs[label] = program
    for label, program in programs.items():
        matched = prints.matched_bytes(match_file(prints, program))
        flagged = "1" if matched >= MATCH_THRESHOLD_BYTES else "0"
        name = f"sysy_front.cpp, {label}" if label in CPP_BUILDS else label
        table.add_row(name, _kb(program.stat().st_size), f"{matched} B", flagged)
    console.print(table)


def _negatives(console: Console, prints: CodePrints) -> None:
    root = require_rootfs(Profile.DEV).path
    files = _codeprints.rootfs_files(root)
    direct = [(prints.matched_bytes(match_file(prints, p)), p) for p in files.negative]
    loo = _leave_one_out(files.toolchain, files.negative)
    table = Table(title="3. the dev root file system's other ELF files and archives")
    for column in ("measure", "files", "flagged", "max matched", "worst file"):
        table.add_column(column)
    for label, results in (("scanned whole", direct), ("leave-one-out", loo)):
        worst, path = max(results, key=lambda r: r[0])
        flagged = sum(m >= MATCH_THRESHOLD_BYTES for m, _ in results)
        table.add_row(
            label, str(len(results)), str(flagged), f"{worst} B", str(path.relative_to(root))
        )
    console.print(table)
    top = sorted(loo, key=lambda r: -r[0])[:5]
    console.print(
        "leave-one-out, highest: "
        + "; ".join(f"{path.relative_to(root)} {matched} B" for matched, path in top)
    )


def _leave_one_out(toolchain: list[Path], negative: list[Path]) -> list[tuple[int, Path]]:
    """Each negative file matched against prints built without its own chunks in the negative set.

    Only chunks no other negative file holds change when a file leaves the set, so only
    files holding such chunks that a toolchain file also holds need their own prints.
    """
    tools = [_codeprints._code_chunks(p) for p in toolchain]
    everything = np.unique(np.concatenate([t.hashes for t in tools]))
    own = [np.unique(_codeprints._code_chunks(p).hashes) for p in negative]
    values, counts = np.unique(np.concatenate(own), return_counts=True)
    results = []
    for path, hashes in zip(negative, own, strict=True):
        alone = hashes[counts[np.searchsorted(values, hashes)] == 1]
        if not _codeprints.contains(everything, alone).any():
            results.append((0, path))
            continue
        reduced = np.setdiff1d(values, alone, assume_unique=True)
        kept = np.unique(
            np.concatenate([_codeprints._toolchain_only(t, reduced).hashes for t in tools])
        )
        whole = _cdc.chunk_bytes(path.read_bytes())
        chunk_hashes, first = np.unique(whole.hashes, return_index=True)
        hit = _codeprints.contains(kept, chunk_hashes)
        results.append((int(whole.lengths[first][hit].sum()), path))
    return results


def _files(directory: Path) -> Iterator[Path]:
    return (p for p in sorted(directory.rglob("*")) if p.is_file() and not p.is_symlink())


def _speed(console: Console, prints: CodePrints, work: Path, snapshot_mb: int) -> None:
    table = Table(title="4. scan speed (sha256 of the same bytes, same run, for scale)")
    for column in ("workspace", "bytes", "scan_workspace", "MB/s", "sha256", "ratio"):
        table.add_column(column, justify="right" if column != "workspace" else "left")
    honest = work / "honest"
    shutil.copytree(ROOT / "golden" / "solution", honest)
    for program in work.glob("front-*"):
        shutil.copy(program, honest)
    big = work / "snapshot"
    _fill(big, snapshot_mb << 20)
    for label, directory in (("honest: solution + 5 C++ binaries", honest), ("snapshot", big)):
        size = sum(p.stat().st_size for p in _files(directory))
        scan = _timed(lambda d=directory: scan_workspace(d, prints))
        digest = _timed(lambda d=directory: [_sha256(p) for p in _files(d)])
        table.add_row(
            label,
            f"{size >> 20} MB" if size > 1 << 20 else _kb(size),
            f"{scan:.2f} s",
            f"{size / scan / 1e6:,.0f}",
            f"{digest:.2f} s",
            f"{scan / digest:.0f}x",
        )
    console.print(table)


def _fill(directory: Path, total: int) -> None:
    """A snapshot of ``total`` bytes: toolchain copies, honest binaries and random data."""
    directory.mkdir()
    root = require_rootfs(Profile.DEV).path
    sources = [tool_path("libLLVM"), tool_path("cc1"), root / "usr/bin/python3.11"]
    written = 0
    for index, source in enumerate(sources):
        if written + source.stat().st_size > total:
            break
        shutil.copy(source, directory / f"part-{index}")
        written += source.stat().st_size
    rng = np.random.default_rng(7)
    while written < total:
        size = min(64 << 20, total - written)
        rng.integers(0, 256, size, dtype=np.uint8).tofile(directory / f"data-{written}")
        written += size


def _timed(action: object) -> float:
    assert callable(action)
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while data := handle.read(4 << 20):
            digest.update(data)
    return digest.hexdigest()


@click.command()
@click.option(
    "--tools",
    default=",".join(TOOLS),
    show_default=True,
    help="comma-separated short names of toolchain files to copy",
)
@click.option("--snapshot-mb", type=click.IntRange(min=1), default=512, show_default=True)
def main(tools: str, snapshot_mb: int) -> None:
    console = Console(width=250)
    started = time.perf_counter()
    prints = toolchain_prints()
    console.print(
        f"prints: {len(prints.hashes):,} chunks of {prints.meta['printed_code_bytes']:,} bytes "
        f"of toolchain-only code from {prints.meta['toolchain_files']} files; "
        f"{prints.meta['negative_files']} other binaries as the negative set; built in "
        f"{prints.meta['build_seconds']} s, loaded in {time.perf_counter() - started:.2f} s"
    )
    work = reachable_temp_dir("ramp-bench-codeprints-")
    try:
        _detection(console, prints, tools.split(","), Path(tempfile.mkdtemp(dir=work)))
        _honest(console, prints, work)
        _negatives(console, prints)
        _speed(console, prints, work, snapshot_mb)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
