"""The input a functional program reads: all of it at the start of ``main`` (characters,
then integers, then arrays), so the input written with the program is exactly what it
reads and nothing is read past its end."""

from __future__ import annotations

from golden.generator._fn_context import Arr, GenContext, Var
from golden.generator._fn_decl import pick_range
from golden.generator._fn_stmt import BodyGen

__all__ = ["read_input"]

_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-*/=()"


def _read_chars(ctx: GenContext, body: BodyGen) -> str:
    text = ""
    for _ in range(ctx.rng.randint(1, 3)):
        name = ctx.fresh("c")
        body.emit(f"int {name} = getch();")
        body.fn.scopes.declare(Var(name, -255, 255))
        text += ctx.rng.choice(_CHARS)
    ctx.use("getch")
    return text


def _read_ints(ctx: GenContext, body: BodyGen) -> list[int]:
    values: list[int] = []
    for _ in range(ctx.rng.randint(1, 4)):
        lo, hi = pick_range(ctx)
        name = ctx.fresh("n")
        body.emit(f"int {name} = getint();")
        body.fn.scopes.declare(Var(name, lo, hi))
        values.append(ctx.rng.randint(lo, hi))
    ctx.use("getint")
    return values


def _read_array(ctx: GenContext, body: BodyGen) -> list[int]:
    """``int m = getarray(ga);`` into a global 1-D array: the count, then the values."""
    arrays = [
        s
        for s in ctx.globals.visible()
        if isinstance(s, Arr) and s.values is None and len(s.dims) == 1
    ]
    arr = ctx.rng.choice(arrays)
    count = ctx.rng.randint(1, arr.dims[0])
    name = ctx.fresh("m")
    body.emit(f"int {name} = getarray({arr.name});")
    body.fn.scopes.declare(Var(name, 0, arr.dims[0]))
    ctx.use("getarray")
    lo, hi = max(arr.lo, -500), min(arr.hi, 500)
    return [count] + [ctx.rng.randint(lo, hi) for _ in range(count)]


def read_input(ctx: GenContext, body: BodyGen) -> str:
    """Emit the reads at the start of ``main``; return the input that feeds them."""
    lines: list[str] = []
    if ctx.chance(0.35):
        lines.append(_read_chars(ctx, body))
    if ctx.chance(0.6):
        lines.append(" ".join(str(v) for v in _read_ints(ctx, body)))
    if ctx.chance(0.4):
        lines.append(" ".join(str(v) for v in _read_array(ctx, body)))
    return "".join(line + "\n" for line in lines)
