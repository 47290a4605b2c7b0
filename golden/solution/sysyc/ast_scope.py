"""Declarations the parser has seen and C's block scoping of their names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .ast_types import Array, Builtin, CType, Function

__all__ = ["FunctionRecord", "Record", "Scopes", "VarRecord"]


@dataclass(slots=True)
class VarRecord:
    """A variable or parameter; ``init`` is its initialiser node once parsed."""

    id: str
    kind: str  # "VarDecl" or "ParmVarDecl"
    name: str
    ctype: CType
    init: dict[str, Any] | None = None

    @property
    def is_const(self) -> bool:
        ctype = self.ctype
        while isinstance(ctype, Array):
            ctype = ctype.element
        return isinstance(ctype, Builtin) and ctype.const

    def array_sizes(self) -> list[int | None]:
        sizes: list[int | None] = []
        ctype = self.ctype
        while isinstance(ctype, Array):
            sizes.append(ctype.size)
            ctype = ctype.element
        return sizes


@dataclass(slots=True)
class FunctionRecord:
    id: str
    name: str
    ctype: Function


Record = VarRecord | FunctionRecord


class Scopes:
    """A stack of block scopes; the first is file scope."""

    def __init__(self) -> None:
        self._stack: list[dict[str, Record]] = [{}]

    @property
    def at_file_scope(self) -> bool:
        return len(self._stack) == 1

    def push(self) -> None:
        self._stack.append({})

    def pop(self) -> None:
        self._stack.pop()

    def declare(self, record: Record) -> None:
        self._stack[-1][record.name] = record

    def lookup(self, name: str) -> Record | None:
        for scope in reversed(self._stack):
            found = scope.get(name)
            if found is not None:
                return found
        return None

    def lookup_file_scope(self, name: str) -> Record | None:
        return self._stack[0].get(name)
