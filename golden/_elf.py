"""Reading the sections and symbols of an x86-64 ELF file (objects and executables).

The T3/T4 interface check and the T4 measurement look at the files the toolchain made from
an agent's IR: which sections hold code, which symbols are undefined or global, where the
agent's code sits in the measured executable. They read the ELF structures themselves
(rather than parsing a tool's printout) so that no name an agent chose, spaces and quotes
included, can shift what is read.
"""

from __future__ import annotations

import struct
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from toolchain import RampError

__all__ = ["ElfError", "ElfFile", "Section", "Symbol", "read_elf"]

SHF_WRITE = 0x1
SHF_EXECINSTR = 0x4
SHT_SYMTAB = 2
SHN_UNDEF = 0
STB_LOCAL = 0
STT_FUNC = 2
MAX_ELF_BYTES = 256 << 20


class ElfError(RampError):
    """A file is not the 64-bit little-endian x86-64 ELF the toolchain should have made."""


class Section(BaseModel):
    model_config = ConfigDict(frozen=True)

    index: int
    name: str
    type: int
    flags: int
    address: int
    offset: int
    size: int

    @property
    def executable(self) -> bool:
        return bool(self.flags & SHF_EXECINSTR)

    @property
    def writable(self) -> bool:
        return bool(self.flags & SHF_WRITE)


class Symbol(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    value: int
    size: int
    type: int
    bind: int
    section: int

    @property
    def undefined(self) -> bool:
        return self.section == SHN_UNDEF

    @property
    def is_global(self) -> bool:
        return self.bind != STB_LOCAL


class ElfFile(BaseModel):
    model_config = ConfigDict(frozen=True)

    sections: tuple[Section, ...]
    symbols: tuple[Symbol, ...]
    data: bytes

    def section_bytes(self, section: Section) -> bytes:
        """The file contents of ``section`` (empty for sections without any, like .bss)."""
        if section.type == 8:  # SHT_NOBITS
            return b""
        return self.data[section.offset : section.offset + section.size]


def _cstring(table: bytes, offset: int) -> str:
    end = table.find(b"\0", offset)
    return table[offset : end if end >= 0 else len(table)].decode("utf-8", errors="replace")


def _headers(data: bytes) -> list[tuple[int, ...]]:
    if len(data) < 64 or data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise ElfError("not a 64-bit little-endian ELF file")
    (shoff,) = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    if shentsize != 64 or shoff + shnum * 64 > len(data) or shstrndx >= max(shnum, 1):
        raise ElfError("the ELF section header table is malformed")
    return [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * 64) for i in range(shnum)]


def _table(data: bytes, header: tuple[int, ...]) -> bytes:
    offset, size = header[4], header[5]
    if offset + size > len(data):
        raise ElfError("an ELF section lies outside the file")
    return data[offset : offset + size]


def read_elf(path: Path) -> ElfFile:
    """Sections and symbols (from .symtab) of the ELF file at ``path``."""
    with path.open("rb") as handle:
        data = handle.read(MAX_ELF_BYTES + 1)
    if len(data) > MAX_ELF_BYTES:
        raise ElfError(f"{path.name} is larger than {MAX_ELF_BYTES >> 20} MB")
    headers = _headers(data)
    shstrndx = struct.unpack_from("<H", data, 0x3E)[0]
    names = _table(data, headers[shstrndx])
    sections = tuple(
        Section(
            index=i,
            name=_cstring(names, h[0]),
            type=h[1],
            flags=h[2],
            address=h[3],
            offset=h[4],
            size=h[5],
        )
        for i, h in enumerate(headers)
    )
    symbols: list[Symbol] = []
    for header in headers:
        if header[1] != SHT_SYMTAB:
            continue
        if header[6] >= len(headers):
            raise ElfError("an ELF symbol table names a missing string table")
        table, strings = _table(data, header), _table(data, headers[header[6]])
        for offset in range(24, len(table) - 23, 24):  # entry 0 is the null symbol
            name, info, _, shndx, value, size = struct.unpack_from("<IBBHQQ", table, offset)
            symbols.append(
                Symbol(
                    name=_cstring(strings, name),
                    value=value,
                    size=size,
                    type=info & 0xF,
                    bind=info >> 4,
                    section=shndx,
                )
            )
    return ElfFile(sections=sections, symbols=tuple(symbols), data=data)
