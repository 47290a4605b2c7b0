"""Code prints of the reference toolchain, and matching a file's bytes against them.

The reference set is the executable code of every compiler, assembler, linker and LLVM/clang
library in the development root file system (see ``_TOOLCHAIN``), cut into
content-defined chunks (``grader._cdc``) and kept as a sorted array of 64-bit chunk prints.
Chunks that also occur in the code of any other ELF file or archive of the same root file
system (libc, libstdc++, Python, cmake, gdb, ...: the *negative* set) are removed, so code
an honest program shares with common libraries, start files or template instantiations
does not count. What stays is code only the toolchain has.

A scanned file is chunked whole, headers and all, so renaming, appending, truncating,
stripping, dropping the build-id, renaming sections, packing into an archive or embedding at
an offset all leave most of its chunks equal to the reference's. Encoded bytes (xor,
compression) match nothing: running decoded code at grading is stopped elsewhere.

The prints are built once per root file system (about 20 s) and cached under
``ramp_home()/integrity/``. Method, threshold and measured rates: docs/integrity.md.
"""

from __future__ import annotations

import errno
import fcntl
import functools
import json
import os
import re
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, NamedTuple

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel

from grader import _cdc
from grader._elfcode import CodeRange, code_ranges, file_kind
from toolchain import Profile, RampError, ramp_home, require_rootfs

__all__ = [
    "MATCH_THRESHOLD_BYTES",
    "CodeMatch",
    "CodePrints",
    "CodePrintsError",
    "ToolShare",
    "build_prints",
    "contains",
    "match_fd",
    "match_file",
    "rootfs_files",
    "toolchain_prints",
]

# A file carrying this much toolchain-only code (in bytes) is a copy. The rationale and the
# measurements behind the number are in docs/integrity.md.
MATCH_THRESHOLD_BYTES = 16 << 10
_VERSION = 1
_READ = 4 << 20
_RUNTIME_GAP = 32 << 10
_RUNTIME_MIN = 8 << 10
# What a scan reads of a file beyond its allocated blocks (data kept in the inode itself).
_ALLOCATION_SLACK = 64 << 10

# Paths (relative to the root file system) of the toolchain: what compiles, assembles and
# links. Matched against the whole relative path.
_TOOLCHAIN = re.compile(
    r"usr/lib/llvm-\d+/.*"
    r"|usr/lib/[^/]+-linux-gnu/lib(LLVM|clang|LTO|lld)[^/]*"
    r"|usr/lib/gcc(-cross)?/[^/]+/\d+/(cc1|cc1plus|cc1obj|collect2|lto1|lto-wrapper|liblto_plugin\.so[.\d]*)"
    r"|usr/bin/[^/]+-(gcc|g\+\+|cpp|lto-dump)-\d+"
    r"|usr/bin/[^/]+-(as|ld|ld\.bfd|ld\.gold|gold)"
    r"|usr/lib/[^/]+-linux-gnu/lib(bfd|opcodes|ctf|ctf-nobfd|sframe)[-.][^/]*"
)
# Neither toolchain nor negative: the rest of binutils and gcc's side tools. They share
# code (libiberty, bfd) with the assembler and linker without being a compiler, so they
# neither add prints nor take prints away.
_NEUTRAL = re.compile(
    r"usr/bin/[^/]+-(addr2line|ar|c\+\+filt|dwp|elfedit|gprof|gprofng|gp-[a-z-]+|nm|objcopy"
    r"|objdump|ranlib|readelf|size|strings|strip|gcc-(ar|nm|ranlib)-\d+|gcov(-dump|-tool)?-\d+)"
    r"|usr/lib/gcc(-cross)?/[^/]+/\d+/(g\+\+-mapper-server|plugin/.*)"
    r"|usr/lib/[^/]+-linux-gnu/(libcc1|libgprofng|gprofng/)[^/]*"
)

U64 = npt.NDArray[np.uint64]


class CodePrintsError(RampError):
    """The toolchain's code prints could not be built or read."""


class ToolShare(BaseModel):
    """How much of one toolchain file's code was found."""

    tool: str
    matched_bytes: int
    coverage: float  # share of that file's printed code found (0..1)


@dataclass(frozen=True)
class CodeMatch:
    """What scanned bytes share with the prints: the distinct prints found, by index."""

    scanned_bytes: int
    found: npt.NDArray[np.intp]  # sorted, distinct indexes into CodePrints.hashes

    @staticmethod
    def union(matches: list[CodeMatch]) -> CodeMatch:
        """The prints found in any of ``matches`` (files scanned together)."""
        found = [m.found for m in matches]
        return CodeMatch(
            sum(m.scanned_bytes for m in matches),
            np.unique(np.concatenate(found)) if found else np.empty(0, dtype=np.intp),
        )


@dataclass(frozen=True)
class CodePrints:
    """Sorted chunk prints of toolchain-only code, with each chunk's length and owner."""

    hashes: U64
    lengths: npt.NDArray[np.uint32]
    owners: npt.NDArray[np.uint16]
    tools: list[str]  # owner index -> path in the root file system
    tool_bytes: list[int]  # printed bytes per owner
    meta: dict[str, object]

    def matched_bytes(self, match: CodeMatch) -> int:
        """Bytes of toolchain-only code found (each distinct chunk counted once)."""
        return int(self.lengths[match.found].sum())

    def shares(self, match: CodeMatch, top: int = 5) -> list[ToolShare]:
        """The toolchain files whose code was found, most first."""
        per_tool = np.bincount(
            self.owners[match.found], weights=self.lengths[match.found], minlength=len(self.tools)
        )
        return [
            ToolShare(
                tool=self.tools[owner],
                matched_bytes=int(per_tool[owner]),
                coverage=round(float(per_tool[owner]) / max(self.tool_bytes[owner], 1), 4),
            )
            for owner in np.argsort(-per_tool, kind="stable")[:top]
            if per_tool[owner] > 0
        ]


class _Classified(NamedTuple):
    toolchain: list[Path]
    negative: list[Path]


def rootfs_files(root: Path) -> _Classified:
    """The ELF files and archives of ``root``, split into toolchain and negative (one per inode)."""
    toolchain: list[Path] = []
    negative: list[Path] = []
    seen: set[tuple[int, int]] = set()
    for path in _binaries(root):
        info = path.stat()
        if (info.st_dev, info.st_ino) in seen:
            continue
        seen.add((info.st_dev, info.st_ino))
        relative = str(path.relative_to(root))
        if _TOOLCHAIN.fullmatch(relative):
            toolchain.append(path)
        elif not _NEUTRAL.fullmatch(relative):
            negative.append(path)
    return _Classified(sorted(toolchain), sorted(negative))


def _binaries(root: Path) -> Iterator[Path]:
    """Regular files under ``root`` that start like an ELF file or an archive."""
    for directory, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not (Path(directory) / d).is_symlink()]
        for name in files:
            path = Path(directory) / name
            if path.is_symlink() or not path.is_file():
                continue
            try:
                with path.open("rb") as handle:
                    head = handle.read(8)
            except OSError:
                continue
            if file_kind(head):
                yield path


def _code_chunks(path: Path) -> _cdc.Chunks:
    """The chunk prints of ``path``'s executable sections (each section chunked alone)."""
    size = path.stat().st_size
    parts: list[_cdc.Chunks] = []
    with path.open("rb") as handle:
        for section in code_ranges(handle, size):
            parts.extend(_cdc.chunk_stream(_section_blocks(handle, section)))
    return _concat(parts)


def _section_blocks(handle: BinaryIO, section: CodeRange) -> Iterator[bytes]:
    done = 0
    while done < section.size:
        handle.seek(section.offset + done)
        data: bytes = handle.read(min(_READ, section.size - done))
        if not data:
            return
        done += len(data)
        yield data


def _concat(parts: list[_cdc.Chunks]) -> _cdc.Chunks:
    if not parts:
        return _cdc.Chunks(np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.uint32))
    return _cdc.Chunks(
        np.concatenate([p.hashes for p in parts]), np.concatenate([p.lengths for p in parts])
    )


# -- building ------------------------------------------------------------------------------


def build_prints(root: Path) -> CodePrints:
    """Prints of ``root``'s toolchain code minus what its other binaries also hold."""
    started = time.monotonic()
    files = rootfs_files(root)
    if not files.toolchain:
        raise CodePrintsError(
            f"no compiler, assembler or linker binaries were found under {root}; the "
            "development root file system looks incomplete: rebuild it with "
            "`ramp toolchain image --profile dev --force`"
        )
    negative = np.unique(
        np.concatenate(
            [np.unique(_code_chunks(p).hashes) for p in files.negative]
            or [np.empty(0, dtype=np.uint64)]
        )
    )
    # Largest code first: a chunk several tools hold is credited to the biggest of them
    # (libLLVM rather than a tool that links part of it statically).
    tools = sorted(
        ((_code_chunks(p), p) for p in files.toolchain), key=lambda t: -int(t[0].lengths.sum())
    )
    kept = [_toolchain_only(chunks, negative) for chunks, _ in tools]
    hashes, lengths, owners = _merge_owned(kept)
    total = sum(int(chunks.lengths.sum()) for chunks, _ in tools)
    meta: dict[str, object] = {
        "version": _VERSION,
        "root": str(root),
        "toolchain_files": len(files.toolchain),
        "negative_files": len(files.negative),
        "negative_chunks": len(negative),
        "toolchain_code_bytes": total,
        "printed_code_bytes": sum(int(k.lengths.sum()) for k in kept),
        "chunks": len(hashes),
        "build_seconds": round(time.monotonic() - started, 1),
    }
    owned = np.bincount(owners, weights=lengths, minlength=len(tools))
    tool_names = ["/" + str(p.relative_to(root)) for _, p in tools]
    return CodePrints(hashes, lengths, owners, tool_names, [int(b) for b in owned], meta)


def _toolchain_only(chunks: _cdc.Chunks, negative: U64) -> _cdc.Chunks:
    """``chunks`` without those in ``negative`` and without the runtime-library spans."""
    shared = contains(negative, chunks.hashes)
    drop = shared | _runtime_spans(chunks.lengths, shared)
    return _cdc.Chunks(chunks.hashes[~drop], chunks.lengths[~drop])


def _runtime_spans(
    lengths: npt.NDArray[np.uint32], shared: npt.NDArray[np.bool_]
) -> npt.NDArray[np.bool_]:
    """Chunks inside runs where shared chunks recur within _RUNTIME_GAP bytes of each other.

    gcc's compilers and gold link libstdc++ and libgcc statically. That code is the same
    code an honest ``-static`` program links, but relocated for another layout, so only
    some of its chunks equal the negative set's; the rest would count as toolchain code.
    The linker lays an archive's members out as one block, so the shared chunks cluster:
    a run of them (at most _RUNTIME_GAP apart, _RUNTIME_MIN bytes or more in all) marks
    a block of runtime-library code, dropped whole.
    """
    ends = np.cumsum(lengths, dtype=np.int64)
    starts = ends - lengths
    hits = np.flatnonzero(shared)
    span = np.zeros(len(lengths), dtype=bool)
    if len(hits) == 0:
        return span
    breaks = np.flatnonzero(starts[hits][1:] - ends[hits][:-1] > _RUNTIME_GAP)
    firsts = np.concatenate(([0], breaks + 1))
    lasts = np.concatenate((breaks, [len(hits) - 1]))
    for first, last in zip(firsts, lasts, strict=True):
        if int(lengths[hits[first : last + 1]].sum()) >= _RUNTIME_MIN:
            span[hits[first] : hits[last] + 1] = True
    return span


def _merge_owned(
    parts: list[_cdc.Chunks],
) -> tuple[U64, npt.NDArray[np.uint32], npt.NDArray[np.uint16]]:
    """Distinct prints over ``parts``, sorted, each owned by the first part that holds it."""
    if not parts:
        return np.empty(0, np.uint64), np.empty(0, np.uint32), np.empty(0, np.uint16)
    hashes = np.concatenate([p.hashes for p in parts])
    lengths = np.concatenate([p.lengths for p in parts])
    owners = np.concatenate(
        [np.full(len(p.hashes), index, dtype=np.uint16) for index, p in enumerate(parts)]
    )
    # A stable sort keeps equal prints in owner order: the first of each run is the lowest.
    order = np.argsort(hashes, kind="stable")
    hashes, lengths, owners = hashes[order], lengths[order], owners[order]
    first = np.ones(len(hashes), dtype=bool)
    first[1:] = hashes[1:] != hashes[:-1]
    return hashes[first], lengths[first], owners[first]


# -- caching ------------------------------------------------------------------------------


def _cache_path(root: Path) -> Path:
    params = (
        f"w{_cdc.WINDOW}s{_cdc.SPACING}b{_cdc.CANDIDATE_BITS}"
        f"g{_RUNTIME_GAP >> 10}m{_RUNTIME_MIN >> 10}"
    )
    return ramp_home() / "integrity" / f"codeprints-v{_VERSION}-{params}-{root.name}.npz"


def toolchain_prints() -> CodePrints:
    """The development root file system's toolchain prints, built on first use and cached."""
    return _load_or_build(require_rootfs(Profile.DEV).path)


@functools.cache
def _load_or_build(root: Path) -> CodePrints:
    """The cached prints of ``root``; built (once, under a lock) when missing or unreadable."""
    cache = _cache_path(root)
    cache.parent.mkdir(parents=True, exist_ok=True)
    with cache.with_name(cache.name + ".lock").open("a") as lock:
        # Graders in several processes may start at once: one builds, the others wait.
        fcntl.flock(lock, fcntl.LOCK_EX)
        if cache.is_file():
            try:
                return _load(cache)
            except (OSError, ValueError, KeyError, zipfile.BadZipFile):
                cache.unlink(missing_ok=True)  # damaged: built again below
        prints = build_prints(root)
        _save(cache, prints)
        return prints


def _save(cache: Path, prints: CodePrints) -> None:
    cache.parent.mkdir(parents=True, exist_ok=True)
    header = {"tools": prints.tools, "tool_bytes": prints.tool_bytes, "meta": prints.meta}
    partial = cache.with_name(f".{cache.name}.{os.getpid()}")
    with partial.open("wb") as handle:
        np.savez(
            handle,
            hashes=prints.hashes,
            lengths=prints.lengths,
            owners=prints.owners,
            header=np.frombuffer(json.dumps(header).encode(), dtype=np.uint8),
        )
    partial.replace(cache)


def _load(cache: Path) -> CodePrints:
    with np.load(cache, allow_pickle=False) as stored:
        header = json.loads(stored["header"].tobytes().decode())
        return CodePrints(
            stored["hashes"],
            stored["lengths"],
            stored["owners"],
            list(header["tools"]),
            list(header["tool_bytes"]),
            dict(header["meta"]),
        )


# -- matching -----------------------------------------------------------------------------


def match_file(prints: CodePrints, path: Path) -> CodeMatch:
    """The prints found in ``path``'s bytes: all of them, whatever its headers say."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise CodePrintsError(
            f"{path} could not be opened for the toolchain-copy scan ({exc.strerror}); "
            "check that it exists and is readable"
        ) from exc
    try:
        return match_fd(prints, fd, str(path))
    finally:
        os.close(fd)


def match_fd(prints: CodePrints, fd: int, label: str) -> CodeMatch:
    """The prints found in the data of the open regular file ``fd`` (``label`` names it in
    errors).

    Only the parts that hold data are read (``SEEK_DATA``/``SEEK_HOLE``), each chunked on
    its own, and never more than the file's allocated blocks (plus a little for data kept
    in the inode): a sparse file claiming gigabytes costs what it takes on disk, nothing
    more (reading its zeros took 45 s per GB). A hole is a run of zeros no code has: a
    copy with holes punched into it still matches, losing at most a chunk at each edge.
    """
    scanned = 0
    hits: list[npt.NDArray[np.intp]] = []
    try:
        info = os.fstat(fd)
        budget = info.st_blocks * 512 + _ALLOCATION_SLACK
        for start, length in _data_extents(fd, info.st_size):
            take = min(length, budget - scanned)
            if take <= 0:
                break
            for chunks in _cdc.chunk_stream(_range_blocks(fd, start, take)):
                scanned += int(chunks.lengths.sum())
                hits.append(_lookup(prints.hashes, chunks.hashes))
    except OSError as exc:
        raise CodePrintsError(
            f"'{label}' could not be read for the toolchain-copy scan ({exc.strerror}); "
            "grading needs to read every file of the snapshot: check the grading host's disk"
        ) from exc
    return CodeMatch(scanned, np.unique(np.concatenate(hits)) if hits else np.empty(0, np.intp))


def _data_extents(fd: int, size: int) -> Iterator[tuple[int, int]]:
    """Offset and length of each stretch of ``fd`` that holds data, in order."""
    offset = 0
    while offset < size:
        try:
            start = os.lseek(fd, offset, os.SEEK_DATA)
        except OSError as exc:
            if exc.errno == errno.ENXIO:
                return  # nothing but a hole from here to the end
            if exc.errno in (errno.EINVAL, errno.EOPNOTSUPP):
                yield offset, size - offset  # holes unknown here: all of it, as data
                return
            raise
        end = min(os.lseek(fd, start, os.SEEK_HOLE), size)
        if end <= start:
            return
        yield start, end - start
        offset = end


def _range_blocks(fd: int, start: int, length: int) -> Iterator[bytes]:
    done = 0
    while done < length:
        data = os.pread(fd, min(_READ, length - done), start + done)
        if not data:
            return
        done += len(data)
        yield data


def contains(table: U64, hashes: U64) -> npt.NDArray[np.bool_]:
    """Which of ``hashes`` the sorted ``table`` holds (a binary search each: np.isin sorts
    both arrays on every call, ten times slower for the sizes here)."""
    if len(table) == 0:
        return np.zeros(len(hashes), dtype=bool)
    index = np.minimum(np.searchsorted(table, hashes), len(table) - 1)
    held: npt.NDArray[np.bool_] = table[index] == hashes
    return held


def _lookup(table: U64, hashes: U64) -> npt.NDArray[np.intp]:
    """Indexes in the sorted ``table`` of the ``hashes`` it holds."""
    if len(table) == 0:
        return np.empty(0, dtype=np.intp)
    index: npt.NDArray[np.intp] = np.minimum(np.searchsorted(table, hashes), len(table) - 1)
    found: npt.NDArray[np.intp] = index[table[index] == hashes]
    return found
