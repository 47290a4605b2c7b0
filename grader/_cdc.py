"""Content-defined chunking: cut a byte stream where its local content says, and hash the pieces.

Why content-defined: a copy of a toolchain binary can be renamed, appended to, truncated,
stripped, re-packed into an archive or embedded at an offset inside another file. Every one
of those shifts or trims the bytes around the code but leaves the code itself intact. If
chunk boundaries depended on file offsets, one inserted byte would change every chunk
after it; here a boundary depends only on the bytes just before it, so the chunks of the
untouched code come out identical wherever those bytes sit.

The rule, for a position ``i`` of the stream:

- a rolling polynomial hash over the ``WINDOW`` bytes ending at ``i`` is computed (mod 2**64,
  each byte first mapped through a fixed table of random 64-bit words);
- ``i`` is a *candidate* when the hash's top ``CANDIDATE_BITS`` bits are zero;
- a candidate is a *cut* when no other candidate lies in the ``SPACING`` bytes before it,
  so chunks are rarely tiny (no chunk carries less than ``SPACING`` bytes of evidence
  unless it is a file's last);
- a run of ``MAX_CHUNK`` bytes without a cut (constant fill, where the hash never changes)
  is cut by length.

Every decision reads at most ``WINDOW + SPACING`` bytes back, so the chunks of two streams
agree everywhere except within that distance of where their content differs.

A chunk's print is a 64-bit hash of its bytes and its length. Everything is vectorised with
numpy over blocks of the stream (a Python loop per byte would take minutes per file); block
edges do not move a cut: the bytes a decision needs are carried into the next block.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Iterator
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

__all__ = [
    "CANDIDATE_BITS",
    "MAX_CHUNK",
    "SPACING",
    "WINDOW",
    "Chunks",
    "chunk_bytes",
    "chunk_stream",
]

WINDOW = 16
SPACING = 64
CANDIDATE_BITS = 8
MAX_CHUNK = 1 << 14
# Bytes a block keeps from before its first undecided position: enough for every window
# and spacing look-back of the positions after it.
_CONTEXT = WINDOW + SPACING
_BLOCK = 4 << 20
_CANDIDATE_LIMIT = np.uint64(1 << (64 - CANDIDATE_BITS))

U64 = npt.NDArray[np.uint64]
U32 = npt.NDArray[np.uint32]


class Chunks(NamedTuple):
    """Prints of consecutive chunks and their lengths in bytes (parallel arrays)."""

    hashes: U64
    lengths: U32


def _word(label: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(b"ramp-cdc/" + label, digest_size=8).digest(), "little")


@functools.cache
def _table() -> U64:
    """A fixed random word per byte value (derived from blake2b, so it never changes)."""
    return np.array([_word(b"byte/%d" % v) for v in range(256)], dtype=np.uint64)


@functools.cache
def _base() -> int:
    return _word(b"base") | 1  # odd, so invertible mod 2**64


def _powers(size: int) -> tuple[U64, U64]:
    """``B**i`` and ``B**-i`` (mod 2**64) for ``i < size`` at least."""
    return _powers_upto(max(1 << 16, 1 << (size - 1).bit_length()))


@functools.cache
def _powers_upto(size: int) -> tuple[U64, U64]:
    forward = np.full(size, _base(), dtype=np.uint64)
    forward[0] = 1
    backward = np.full(size, pow(_base(), -1, 1 << 64), dtype=np.uint64)
    backward[0] = 1
    return np.cumprod(forward, dtype=np.uint64), np.cumprod(backward, dtype=np.uint64)


def _mix(values: U64) -> U64:
    """A 64-bit finaliser (xor-shift-multiply), so nearby polynomial values spread out."""
    values ^= values >> np.uint64(33)
    values *= np.uint64(0xFF51AFD7ED558CCD)
    values ^= values >> np.uint64(33)
    values *= np.uint64(0xC4CEB9FE1A85EC53)
    values ^= values >> np.uint64(33)
    return values


class _Block(NamedTuple):
    prefix: U64  # prefix[k] = sum of table[b_j] * B**-j for j < k
    candidates: npt.NDArray[np.intp]


def _scan(buf: npt.NDArray[np.uint8]) -> _Block:
    """Prefix sums and candidate positions of one block."""
    size = len(buf)
    forward, backward = _powers(size + 1)
    prefix = np.empty(size + 1, dtype=np.uint64)
    prefix[0] = 0
    np.multiply(_table()[buf], backward[:size], out=prefix[1:])
    np.cumsum(prefix, out=prefix)
    if size < WINDOW:
        return _Block(prefix, np.empty(0, dtype=np.intp))
    # window hash at i: (prefix[i+1] - prefix[i+1-WINDOW]) * B**i
    window = prefix[WINDOW:] - prefix[:-WINDOW]
    window *= forward[WINDOW - 1 : size]
    return _Block(prefix, np.flatnonzero(window < _CANDIDATE_LIMIT) + (WINDOW - 1))


def _cuts(candidates: npt.NDArray[np.intp], lead: int) -> npt.NDArray[np.intp]:
    """Candidates with no other candidate in the SPACING bytes before them, at or after lead."""
    if len(candidates) == 0:
        return candidates
    gaps = np.empty(len(candidates), dtype=np.intp)
    gaps[0] = SPACING
    np.subtract(candidates[1:], candidates[:-1], out=gaps[1:])
    chosen = candidates[gaps >= SPACING]
    return chosen[chosen >= lead]


def _bounds(ends: npt.NDArray[np.intp], lead: int, size: int, final: bool) -> npt.NDArray[np.intp]:
    """Chunk edges from ``lead``: after each cut, plus length cuts in runs over MAX_CHUNK.

    Not final, the undecided tail after the last edge is left for the next block, but a
    tail already longer than MAX_CHUNK is cut by length as a longer buffer would cut it.
    """
    edges = np.concatenate((np.array([lead], dtype=np.intp), ends))
    if final and edges[-1] != size:
        edges = np.append(edges, size)
    extra = [
        np.arange(edges[k] + MAX_CHUNK, edges[k + 1], MAX_CHUNK, dtype=np.intp)
        for k in np.flatnonzero(np.diff(edges) > MAX_CHUNK)
    ]
    if not final and size - edges[-1] > MAX_CHUNK:
        extra.append(np.arange(edges[-1] + MAX_CHUNK, size + 1, MAX_CHUNK, dtype=np.intp))
    return np.sort(np.concatenate((edges, *extra))) if extra else edges


def _hash_chunks(block: _Block, edges: npt.NDArray[np.intp]) -> Chunks:
    forward, _ = _powers(len(block.prefix))
    starts, stops = edges[:-1], edges[1:]
    values = block.prefix[stops] - block.prefix[starts]
    values *= forward[stops - 1]
    lengths = (stops - starts).astype(np.uint32)
    values ^= lengths.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    return Chunks(_mix(values), lengths)


def chunk_stream(blocks: Iterable[bytes]) -> Iterator[Chunks]:
    """Chunk the concatenation of ``blocks`` (any sizes); yields prints as they are decided."""
    pending = np.empty(0, dtype=np.uint8)
    lead = 0  # pending[:lead] is context already chunked
    for data in _reblock(blocks):
        buf = np.concatenate((pending, np.frombuffer(data, dtype=np.uint8)))
        block = _scan(buf)
        ends = _cuts(block.candidates, lead) + 1
        edges = _bounds(ends, lead, len(buf), final=False)
        if len(edges) > 1:
            yield _hash_chunks(block, edges)
        done = int(edges[-1])
        keep_from = max(done - _CONTEXT, 0)
        pending, lead = buf[keep_from:], done - keep_from
    if len(pending) > lead:
        block = _scan(pending)
        edges = _bounds(_cuts(block.candidates, lead) + 1, lead, len(pending), final=True)
        yield _hash_chunks(block, edges)


def _reblock(blocks: Iterable[bytes]) -> Iterator[bytes]:
    """Regroup the input into blocks of at most ``_BLOCK`` bytes."""
    for data in blocks:
        for start in range(0, len(data), _BLOCK):
            yield data[start : start + _BLOCK]


def chunk_bytes(data: bytes) -> Chunks:
    """All chunks of ``data`` (a convenience over :func:`chunk_stream`)."""
    parts = list(chunk_stream([data]))
    if not parts:
        return Chunks(np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.uint32))
    return Chunks(
        np.concatenate([p.hashes for p in parts]), np.concatenate([p.lengths for p in parts])
    )
