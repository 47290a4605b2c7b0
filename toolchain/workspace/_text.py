"""Telling text from binary content, and cutting text on character boundaries."""

from __future__ import annotations

__all__ = ["is_binary", "text_window"]

_BINARY_SNIFF_BYTES = 8 * 1024


def is_binary(data: bytes) -> bool:
    """A NUL byte in the first 8 KiB, or anything that is not valid UTF-8."""
    if b"\0" in data[:_BINARY_SNIFF_BYTES]:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _is_continuation(data: bytes, index: int) -> bool:
    return index < len(data) and data[index] & 0xC0 == 0x80


def text_window(data: bytes, offset: int, limit: int) -> tuple[int, int]:
    """Byte range of at most ``limit`` bytes from ``offset`` that starts and ends on UTF-8
    character boundaries (``data`` is valid UTF-8)."""
    start = offset
    while _is_continuation(data, start):
        start += 1
    end = min(len(data), start + limit)
    back = end
    while back > start and _is_continuation(data, back):
        back -= 1
    if back > start:
        return start, back
    # The limit is smaller than the character at ``start``: return that one character.
    while _is_continuation(data, end):
        end += 1
    return start, end
