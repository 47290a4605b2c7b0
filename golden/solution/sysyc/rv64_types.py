"""LLVM IR type strings as RV64 (LP64D) sees them: sizes, alignments, aggregate layout.

Integer values of width N are kept in 64-bit registers in a canonical form: i1 as 0/1,
every other width sign-extended from bit N-1 (which is what RV64 requires of i32).
"""

from __future__ import annotations

from functools import cache

from .ir import split_struct_type


def int_width(ty: str) -> int:
    """Bit width of an integer or pointer type (`ptr` is 64)."""
    if ty == "ptr":
        return 64
    if ty.startswith("i") and ty[1:].isdigit():
        return int(ty[1:])
    raise ValueError(f"not an integer type: {ty}")


def canonical(value: int, width: int) -> int:
    """`value` reduced to `width` bits in the canonical register form (see module doc)."""
    if width >= 64:
        value &= (1 << 64) - 1
        return value - (1 << 64) if value >> 63 else value
    value &= (1 << width) - 1
    if width == 1:
        return value
    return value - (1 << width) if value >> (width - 1) else value


@cache
def array_parts(ty: str) -> tuple[int, str] | None:
    """`[N x T]` to (N, T); None for a non-array type."""
    if not ty.startswith("["):
        return None
    inner = ty[1:-1].strip()
    count, _, elem = inner.partition(" x ")
    return int(count), elem.strip()


@cache
def struct_fields(ty: str) -> tuple[tuple[str, ...], bool] | None:
    """`{ T, U }` / `<{ T, U }>` to (field types, packed); None for a non-struct type."""
    if ty.startswith("<{") and ty.endswith("}>"):
        return tuple(split_struct_type(ty)), True
    if ty.startswith("{") and ty.endswith("}"):
        return tuple(split_struct_type(ty)), False
    return None


@cache
def alignment(ty: str) -> int:
    array = array_parts(ty)
    if array is not None:
        return alignment(array[1])
    struct = struct_fields(ty)
    if struct is not None:
        fields, packed = struct
        return 1 if packed else max((alignment(f) for f in fields), default=1)
    size = scalar_size(ty)
    return min(size, 8)


def scalar_size(ty: str) -> int:
    if ty == "ptr":
        return 8
    width = int_width(ty)
    size = 1
    while size * 8 < width:
        size *= 2
    return size


@cache
def field_offsets(ty: str) -> tuple[int, ...]:
    """Byte offset of each member of a struct type."""
    struct = struct_fields(ty)
    assert struct is not None
    fields, packed = struct
    offsets: list[int] = []
    offset = 0
    for member in fields:
        if not packed:
            align = alignment(member)
            offset = (offset + align - 1) // align * align
        offsets.append(offset)
        offset += size_of(member)
    return tuple(offsets)


@cache
def size_of(ty: str) -> int:
    """Allocation size in bytes (what getelementptr steps by)."""
    array = array_parts(ty)
    if array is not None:
        return array[0] * size_of(array[1])
    struct = struct_fields(ty)
    if struct is not None:
        fields, _ = struct
        if not fields:
            return 0
        end = field_offsets(ty)[-1] + size_of(fields[-1])
        align = alignment(ty)
        return (end + align - 1) // align * align
    return scalar_size(ty)


def gep_step(ty: str, index: int | None) -> tuple[str, int, int]:
    """Indexing into aggregate `ty`: (member type, bytes per index unit, fixed offset).

    For arrays the member is the element and the step its size; for structs `index` must be
    a constant and the result is (field type, 0, field offset).
    """
    array = array_parts(ty)
    if array is not None:
        return array[1], size_of(array[1]), 0
    struct = struct_fields(ty)
    if struct is not None:
        if index is None:
            raise ValueError(f"variable struct index into {ty}")
        return struct[0][index], 0, field_offsets(ty)[index]
    raise ValueError(f"cannot index into {ty}")
