"""Content-defined chunking: cuts follow content, not offsets or block sizes."""

from __future__ import annotations

import random

import numpy as np
import pytest

from grader import _cdc


def _data(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


def _all(blocks: list[bytes]) -> _cdc.Chunks:
    parts = list(_cdc.chunk_stream(blocks))
    return _cdc.Chunks(
        np.concatenate([p.hashes for p in parts]), np.concatenate([p.lengths for p in parts])
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_chunks_do_not_depend_on_how_the_stream_is_cut_into_blocks(seed: int) -> None:
    # over two internal blocks, with constant runs (cut by length) inside and across them
    data = _data(seed, 4_000_000) + bytes(300_000) + _data(seed + 10, 4_500_000) + b"\xcc" * 99_999
    whole = _cdc.chunk_bytes(data)
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, len(data)), 40))
    pieces = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    split = _all(pieces)
    assert np.array_equal(whole.hashes, split.hashes)
    assert np.array_equal(whole.lengths, split.lengths)
    assert int(whole.lengths.sum()) == len(data)


def test_chunks_resynchronise_after_an_insertion_and_an_offset() -> None:
    data = _data(7, 2_000_000)
    original = set(_cdc.chunk_bytes(data).hashes.tolist())
    edited = b"#!/bin/sh\nexit 0\n" + data[:1_000_000] + b"X" + data[1_000_000:] + b"tail"
    shifted = _cdc.chunk_bytes(edited).hashes.tolist()
    kept = sum(h in original for h in shifted)
    # only the chunks at the three edits differ
    assert kept >= len(shifted) - 4
    assert len(shifted) > 5000


def test_chunk_sizes_have_a_floor_and_a_ceiling() -> None:
    chunks = _cdc.chunk_bytes(_data(11, 3_000_000) + bytes(200_000))
    inner = chunks.lengths[:-1]
    assert inner.min() >= _cdc.SPACING
    assert chunks.lengths.max() <= _cdc.MAX_CHUNK
    # the average is near SPACING + 2**CANDIDATE_BITS, far from the cap
    assert 200 < inner[: len(inner) // 2].mean() < 500


def test_different_content_gives_different_prints() -> None:
    first = set(_cdc.chunk_bytes(_data(21, 1_000_000)).hashes.tolist())
    second = set(_cdc.chunk_bytes(_data(22, 1_000_000)).hashes.tolist())
    assert first.isdisjoint(second)


def test_short_and_empty_streams() -> None:
    assert len(_cdc.chunk_bytes(b"").hashes) == 0
    tiny = _cdc.chunk_bytes(b"abc")
    assert tiny.lengths.tolist() == [3]
    assert _cdc.chunk_bytes(b"abc").hashes[0] != _cdc.chunk_bytes(b"abd").hashes[0]
