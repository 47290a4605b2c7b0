"""The symbol table and generation state of the functional generator.

The generator is type- and scope-directed: it only names what is visible, only assigns what
may be assigned, and knows for every scalar and array element the interval its value stays
in (an invariant every assignment keeps, so it holds at every point of the program).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

__all__ = ["Arr", "FnState", "Func", "GenContext", "Loop", "Scopes", "Sym", "Var"]


@dataclass
class Var:
    """A scalar: a variable, a parameter or a constant (``const`` holds its value). A loop
    counter or a recursion depth is read-only: only its loop's increment changes it."""

    name: str
    lo: int
    hi: int
    is_global: bool = False
    const: int | None = None
    assignable: bool = True
    counter: bool = False


@dataclass
class Arr:
    """An array; ``dims[0]`` of a parameter is the least length every argument has.
    ``values`` (flat, row-major) are a const array's elements."""

    name: str
    dims: tuple[int, ...]
    lo: int
    hi: int
    is_global: bool = False
    is_param: bool = False
    values: tuple[int, ...] | None = None


Sym = Var | Arr


@dataclass
class Func:
    """A function of the program. A pure function writes no global and no array parameter,
    does no I/O and calls only pure functions, so calls to it may share an expression with
    anything; ``cost`` bounds the statements one call executes."""

    name: str
    returns_int: bool
    params: list[Sym]
    lo: int
    hi: int
    pure: bool
    cost: int = 1
    depth_max: int | None = None


class Scopes:
    """Nested blocks: a list of name -> symbol maps, innermost last."""

    def __init__(self) -> None:
        self.stack: list[dict[str, Sym]] = [{}]

    def push(self) -> None:
        self.stack.append({})

    def pop(self) -> None:
        self.stack.pop()

    def declare(self, sym: Sym) -> None:
        assert sym.name not in self.stack[-1], f"{sym.name} declared twice in one block"
        self.stack[-1][sym.name] = sym

    def declared_here(self, name: str) -> bool:
        return name in self.stack[-1]

    def visible(self, hidden: str | None = None) -> list[Sym]:
        """Every symbol a name refers to here (the innermost of each name), outer first."""
        seen: list[str] = [] if hidden is None else [hidden]
        found: list[Sym] = []
        for scope in reversed(self.stack):
            for name, sym in scope.items():
                if name not in seen:
                    seen.append(name)
                    found.append(sym)
        found.reverse()
        return found


@dataclass
class Loop:
    """An enclosing loop: ``continue`` is only allowed once its counter was incremented."""

    counter: Var
    incremented: bool = False


@dataclass
class FnState:
    """What the body of the function being generated may do, and what it has cost so far
    (in statements executed, each weighted by the trip counts of its enclosing loops)."""

    func: Func
    scopes: Scopes
    budget: int
    cost: int = 0
    mult: int = 1
    loops: list[Loop] = field(default_factory=list)
    callables: list[Func] = field(default_factory=list)
    hidden: str | None = None
    is_main: bool = False
    line_stop: int = 1 << 30  # no new statement once the program text has this many lines

    @property
    def pure(self) -> bool:
        return self.func.pure

    def can_write(self, sym: Sym) -> bool:
        if isinstance(sym, Var) and (sym.const is not None or not sym.assignable):
            return False
        if isinstance(sym, Arr) and sym.values is not None:
            return False
        if self.pure:
            return not sym.is_global and not (isinstance(sym, Arr) and sym.is_param)
        return True

    def left(self) -> int:
        return self.budget - self.cost


@dataclass
class GenContext:
    """Program-wide state: the one random source, the features used, the global scope,
    the functions defined so far and the element interval all mutable arrays share (so any
    such array may be passed to any matching parameter)."""

    rng: random.Random
    elem: tuple[int, int]
    features: list[str] = field(default_factory=list)
    globals: Scopes = field(default_factory=Scopes)
    funcs: list[Func] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)

    def use(self, *names: str) -> None:
        for name in names:
            if name not in self.features:
                self.features.append(name)

    def fresh(self, prefix: str) -> str:
        number = self.counters.get(prefix, 0)
        self.counters[prefix] = number + 1
        return f"{prefix}{number}"

    def chance(self, p: float) -> bool:
        return self.rng.random() < p
