"""Names in scope during IR generation: variables (with C's block scoping) and functions."""

from __future__ import annotations

from dataclasses import dataclass, field

from .irgen_builder import Slot
from .irgen_types import ArrayType, IntType, ValueType

__all__ = ["FunctionSignature", "ModuleState", "Scope", "Symbol"]


@dataclass(slots=True)
class Symbol:
    """A variable: where it lives and, for a constant with a known value, its elements.

    `constants` maps flat element indices to values; missing indices are zero.
    """

    name: str
    type: ValueType
    address: Slot | str  # an alloca, or "@name" for a global
    constants: dict[int, int] | None = None


@dataclass(slots=True)
class FunctionSignature:
    name: str
    return_type: str  # "i32" or "void"
    param_types: list[str]  # "i32" or "ptr"
    unprototyped: bool  # declared `int f()` without a body: called as `(...)`
    defined: bool


class Scope:
    """Nested block scopes; an inner declaration hides an outer one until its block ends."""

    def __init__(self) -> None:
        self._bindings: dict[str, list[Symbol]] = {}
        self._frames: list[list[str]] = [[]]

    def push(self) -> None:
        self._frames.append([])

    def pop(self) -> None:
        for name in self._frames.pop():
            stack = self._bindings[name]
            stack.pop()
            if not stack:
                del self._bindings[name]

    def bind(self, symbol: Symbol) -> None:
        self._bindings.setdefault(symbol.name, []).append(symbol)
        self._frames[-1].append(symbol.name)

    def lookup(self, name: str) -> Symbol:
        stack = self._bindings.get(name)
        if not stack:
            raise KeyError(f"undeclared identifier {name}")
        return stack[-1]

    def constant(self, name: str, indices: tuple[int, ...]) -> int | None:
        """The value of constant `name[indices...]`, or None if it is not a known constant."""
        stack = self._bindings.get(name)
        if not stack:
            return None
        symbol = stack[-1]
        constants = symbol.constants
        if constants is None:
            return None
        if isinstance(symbol.type, IntType):
            return constants.get(0, 0) if not indices else None
        if not isinstance(symbol.type, ArrayType) or len(indices) != len(symbol.type.dims):
            return None
        flat = 0
        for index, dim in zip(indices, symbol.type.dims, strict=True):
            if not 0 <= index < dim:
                return None
            flat = flat * dim + index
        return constants.get(flat, 0)


@dataclass
class ModuleState:
    """What every function's generation shares."""

    scope: Scope = field(default_factory=Scope)
    functions: dict[str, FunctionSignature] = field(default_factory=dict)
    called: dict[str, None] = field(default_factory=dict)  # insertion-ordered set
    uses_memset: bool = False
