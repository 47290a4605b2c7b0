"""Where the machine code of an ELF file or an ``ar`` archive lies (parsed with struct).

The toolchain's reference prints cover only executable code: the sections flagged
SHF_EXECINSTR (.text, .init, .plt, ...). Data, symbol tables and strings are left out on
purpose: they are what stripping, build-id removal and re-linking change, and what an
honest program shares with a library it merely calls. Archives (static libraries) are
walked member by member, each member an ELF object of its own.

Only well-formed files of the reference root file system are parsed here; the workspace
scan never relies on headers (a damaged header must not hide a copy).
"""

from __future__ import annotations

import struct
from typing import BinaryIO, NamedTuple

__all__ = ["AR_MAGIC", "ELF_MAGIC", "CodeRange", "code_ranges", "file_kind"]

ELF_MAGIC = b"\x7fELF"
AR_MAGIC = b"!<arch>\n"
_SHF_EXECINSTR = 0x4
_SHT_NOBITS = 8
_AR_HEADER = 60


class CodeRange(NamedTuple):
    """``size`` bytes of executable code at ``offset`` of the file."""

    offset: int
    size: int


class _Layout(NamedTuple):
    header: str  # struct format of the ELF header after e_ident
    section: str  # struct format of one section header


_LAYOUTS = {
    1: _Layout("HHIIIIIHHHHHH", "IIIIIIIIII"),  # ELFCLASS32
    2: _Layout("HHIQQQIHHHHHH", "IIQQQQIIQQ"),  # ELFCLASS64
}


def file_kind(head: bytes) -> str | None:
    """``"elf"``, ``"ar"`` or None, from a file's first bytes."""
    if head.startswith(ELF_MAGIC):
        return "elf"
    if head.startswith(AR_MAGIC):
        return "ar"
    return None


def code_ranges(handle: BinaryIO, size: int) -> list[CodeRange]:
    """The executable sections of the ELF file or archive open in ``handle`` (``size`` bytes)."""
    handle.seek(0)
    kind = file_kind(handle.read(8))
    if kind == "elf":
        return _elf_ranges(handle, 0, size)
    if kind == "ar":
        return [
            r for base, length in _members(handle, size) for r in _elf_ranges(handle, base, length)
        ]
    return []


def _read(handle: BinaryIO, offset: int, length: int) -> bytes:
    handle.seek(offset)
    return handle.read(length)


def _elf_ranges(handle: BinaryIO, base: int, size: int) -> list[CodeRange]:
    """Executable sections of the ELF image at ``base`` (``size`` bytes); [] if not ELF."""
    ident = _read(handle, base, 16)
    layout = _LAYOUTS.get(ident[4]) if len(ident) == 16 and ident[:4] == ELF_MAGIC else None
    if layout is None or ident[5] not in (1, 2):
        return []
    order = "<" if ident[5] == 1 else ">"
    header_format = order + layout.header
    raw = _read(handle, base + 16, struct.calcsize(header_format))
    if len(raw) < struct.calcsize(header_format):
        return []
    fields = struct.unpack(header_format, raw)
    shoff, shentsize, shnum = fields[5], fields[10], fields[11]
    section_format = order + layout.section
    if shoff == 0 or shentsize < struct.calcsize(section_format):
        return []
    sections = _sections(handle, base + shoff, shentsize, shnum, section_format)
    ranges = []
    for _name, kind, flags, _addr, offset, length, *_ in sections:
        if flags & _SHF_EXECINSTR and kind != _SHT_NOBITS and length and offset < size:
            ranges.append(CodeRange(base + offset, min(length, size - offset)))
    return ranges


def _sections(
    handle: BinaryIO, start: int, entsize: int, count: int, fmt: str
) -> list[tuple[int, ...]]:
    """Section headers; ``count`` 0 means the real count is in section 0's size field."""
    width = struct.calcsize(fmt)
    first = _read(handle, start, width)
    if len(first) < width:
        return []
    if count == 0:
        count = struct.unpack(fmt, first)[5]
    count = min(count, 1 << 20)
    table = _read(handle, start, entsize * count)
    return [
        struct.unpack_from(fmt, table, index * entsize) for index in range(len(table) // entsize)
    ]


def _members(handle: BinaryIO, size: int) -> list[tuple[int, int]]:
    """(offset, size) of each member's data in an ``ar`` archive (GNU or BSD names)."""
    found = []
    offset = len(AR_MAGIC)
    while offset + _AR_HEADER <= size:
        header = _read(handle, offset, _AR_HEADER)
        if len(header) < _AR_HEADER or header[58:60] != b"`\n":
            break
        name = header[:16].decode("latin-1").strip()
        try:
            stored = int(header[48:58].decode("ascii").strip() or "0")
            # BSD names ("#1/LEN") sit at the start of the member's data
            skip = int(name[3:]) if name.startswith("#1/") else 0
        except ValueError:
            break
        found.append((offset + _AR_HEADER + skip, max(stored - skip, 0)))
        offset += _AR_HEADER + stored + (stored & 1)
    return found
