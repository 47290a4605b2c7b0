"""C types as clang's AST shows them, with clang's spelling (`int (*)[5]`, `void (int)`)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "INT",
    "VOID",
    "Array",
    "Builtin",
    "CType",
    "Function",
    "Pointer",
    "adjust_parameter",
    "element_of",
    "has_vla",
    "integer_rank",
    "is_integer",
    "same_type",
    "similar_ignoring_qualifiers",
    "spell",
    "unqualified",
    "vla_star_decayed",
]


@dataclass(frozen=True, slots=True)
class Builtin:
    """A builtin type such as `int`, `unsigned long` or `void`, possibly const."""

    name: str
    const: bool = False


@dataclass(frozen=True, slots=True)
class Pointer:
    pointee: CType


@dataclass(frozen=True, slots=True)
class Array:
    """`element[size]`; a variable length array keeps the size as clang prints it."""

    element: CType
    size: int | None
    vla_size: str | None = None


@dataclass(frozen=True, slots=True)
class Function:
    """A function type; params None is a declaration without prototype (`int ()`)."""

    result: CType
    params: tuple[CType, ...] | None


CType = Builtin | Pointer | Array | Function

INT = Builtin("int")
VOID = Builtin("void")

# integer conversion rank and signedness of the builtin integer types
_INTEGERS = {
    "int": (1, True),
    "unsigned int": (1, False),
    "long": (2, True),
    "unsigned long": (2, False),
    "long long": (3, True),
    "unsigned long long": (3, False),
}


def _spell(ctype: CType, inner: str) -> str:
    while True:
        if isinstance(ctype, Builtin):
            base = f"const {ctype.name}" if ctype.const else ctype.name
            if not inner:
                return base
            return base + inner if inner[0] == "[" else f"{base} {inner}"
        if isinstance(ctype, Pointer):
            inner = "*" + inner
            if isinstance(ctype.pointee, Array | Function):
                inner = f"({inner})"
            ctype = ctype.pointee
        elif isinstance(ctype, Array):
            if ctype.vla_size is not None:
                size = ctype.vla_size
            else:
                size = "" if ctype.size is None else str(ctype.size)
            inner = f"{inner}[{size}]"
            ctype = ctype.element
        else:
            if ctype.params is None:
                params = ""
            else:
                params = ", ".join(spell(p) for p in ctype.params) or "void"
            inner = f"{inner}({params})"
            ctype = ctype.result


@lru_cache(maxsize=4096)
def spell(ctype: CType) -> str:
    """The type as clang's `qualType` writes it."""
    return _spell(ctype, "")


def unqualified(ctype: CType) -> CType:
    if isinstance(ctype, Builtin) and ctype.const:
        return Builtin(ctype.name)
    return ctype


def is_integer(ctype: CType) -> bool:
    return isinstance(ctype, Builtin) and ctype.name in _INTEGERS


def integer_rank(ctype: Builtin) -> tuple[int, bool]:
    """(conversion rank, is signed) of an integer type."""
    return _INTEGERS[ctype.name]


def element_of(ctype: Array | Pointer) -> CType:
    return ctype.element if isinstance(ctype, Array) else ctype.pointee


def has_vla(ctype: CType) -> bool:
    """Whether the type is variably modified (a VLA somewhere inside)."""
    while True:
        if isinstance(ctype, Array):
            if ctype.vla_size is not None:
                return True
            ctype = ctype.element
        elif isinstance(ctype, Pointer):
            ctype = ctype.pointee
        else:
            return False


def same_type(a: CType, b: CType) -> bool:
    """clang's canonical type identity: no two variably modified types are the same."""
    return a == b and not has_vla(a)


def similar_ignoring_qualifiers(a: CType, b: CType) -> bool:
    """Equal once every const is dropped, looking through pointers and arrays."""
    while True:
        if isinstance(a, Pointer) and isinstance(b, Pointer):
            a, b = a.pointee, b.pointee
        elif isinstance(a, Array) and isinstance(b, Array):
            if a.size != b.size or a.vla_size is not None or b.vla_size is not None:
                return False
            a, b = a.element, b.element
        else:
            return unqualified(a) == unqualified(b)


def adjust_parameter(ctype: CType) -> CType:
    """A parameter's declared type as C adjusts it: arrays and functions become pointers."""
    if isinstance(ctype, Array):
        return Pointer(ctype.element)
    if isinstance(ctype, Function):
        return Pointer(ctype)
    return ctype


def vla_star_decayed(ctype: CType) -> CType:
    """The type with every variable array size replaced by `*` (a prototype's view)."""
    if isinstance(ctype, Pointer):
        return Pointer(vla_star_decayed(ctype.pointee))
    if isinstance(ctype, Array):
        element = vla_star_decayed(ctype.element)
        if ctype.vla_size is not None:
            return Array(element, None, "*")
        return Array(element, ctype.size)
    return ctype
