"""Programs whose memory is writable and executable at once, as the kernel maps them.

Why: at grading nothing a stage program writes can be executed (writable places are
``noexec``, seccomp refuses ``mmap``/``mprotect`` with ``PROT_EXEC`` on writable memory,
memfd and executable anonymous memory). But the kernel maps a program's own segments
itself at ``execve``, with no system call for seccomp to see: a program whose ``PT_LOAD``
segment is flagged both writable and executable (a section declared ``"awx"``, a linker
script) gets memory it can write code into and run, so it could carry the toolchain
encrypted, past the content scan, and decode it at grading. The snapshot is read-only at
grading and the only place programs run from, so checking its ELF files is complete: one
such segment is a finding. No toolchain an honest agent uses emits one by default (the
linker warns about it).
"""

from __future__ import annotations

import os
import struct

__all__ = ["writable_code"]

_PT_LOAD = 1
_PF_X = 1
_PF_W = 2
_MAX_HEADERS = 4096


def writable_code(fd: int) -> str | None:
    """Why the ELF file open at ``fd`` maps writable code (None: it does not, or is no ELF)."""
    ident = os.pread(fd, 16, 0)
    if len(ident) < 16 or ident[:4] != b"\x7fELF" or ident[4] not in (1, 2):
        return None
    wide = ident[4] == 2
    order = "<" if ident[5] == 1 else ">"
    header = os.pread(fd, 64 if wide else 52, 0)
    if len(header) < (64 if wide else 52):
        return None
    if wide:
        phoff, phentsize, phnum = (
            struct.unpack_from(order + "Q", header, 32)[0],
            *struct.unpack_from(order + "HH", header, 54),
        )
    else:
        phoff, phentsize, phnum = (
            struct.unpack_from(order + "I", header, 28)[0],
            *struct.unpack_from(order + "HH", header, 42),
        )
    if phnum == 0 or phnum > _MAX_HEADERS or phentsize < (56 if wide else 32):
        return None
    table = os.pread(fd, phentsize * phnum, phoff)
    for index in range(len(table) // phentsize):
        entry = index * phentsize
        kind = struct.unpack_from(order + "I", table, entry)[0]
        flags = struct.unpack_from(order + "I", table, entry + (4 if wide else 24))[0]
        if kind == _PT_LOAD and flags & _PF_W and flags & _PF_X:
            return f"program header {index} loads a segment both writable and executable"
    return None
