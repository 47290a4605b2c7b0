"""Declarations of the functional generator: constants, constant expressions, array
dimensions as written, brace initialisers, and the global declarations of a program."""

from __future__ import annotations

from collections.abc import Callable

from golden.generator._fn_context import Arr, GenContext, Var
from golden.generator._fn_emit import Emitter
from golden.generator._fn_expr import ATOM, E, binary, join_feats, lit, neg

__all__ = [
    "const_expr",
    "declare_globals",
    "dims_text",
    "initializer",
    "pick_range",
]

_RANGES = ((-100, 100), (0, 100), (-1000, 1000), (0, 10006), (-30000, 30000), (0, 255))


def pick_range(ctx: GenContext) -> tuple[int, int]:
    """The value interval of a new scalar: symmetric or zero-based (``fit`` needs either)."""
    return ctx.rng.choice(_RANGES)


def _consts(ctx: GenContext) -> list[Var]:
    return [s for s in ctx.globals.visible() if isinstance(s, Var) and s.const is not None]


def const_expr(ctx: GenContext, depth: int = 2) -> E:
    """A constant expression over literals, global constants and constant-array elements
    indexed by literals; its interval is its exact value (small, so it combines freely)."""
    rng = ctx.rng
    if depth <= 0 or ctx.chance(0.35):
        scalars = _consts(ctx)
        tables = [s for s in ctx.globals.visible() if isinstance(s, Arr) and s.values is not None]
        roll = rng.random()
        if roll < 0.45 and scalars:
            var = rng.choice(scalars)
            assert var.const is not None
            return E(var.name, var.const, var.const, ATOM, ("const_scalar",))
        if roll < 0.6 and tables:
            table = rng.choice(tables)
            assert table.values is not None
            at = [rng.randrange(d) for d in table.dims]
            flat = 0
            for size, i in zip(table.dims, at, strict=True):
                flat = flat * size + i
            value = table.values[flat]
            name = table.name + "".join(f"[{i}]" for i in at)
            return E(name, value, value, ATOM, ("const_scalar",))
        return lit(rng.randint(0, 12), rng.choice(("dec", "dec", "hex", "oct")))
    a, b = const_expr(ctx, depth - 1), const_expr(ctx, depth - 1)
    op = rng.choice(("+", "-", "*", "+", "/", "%"))
    if op in "/%" and b.lo < 1:
        op = "+"
    if op == "*" and abs(a.lo * b.lo) > 400:
        op = "-"
    e = neg(binary("+", a, b)) if op == "-" and ctx.chance(0.2) else binary(op, a, b)
    assert e.lo == e.hi, f"constant expression {e.text} without an exact value"
    return e


def dims_text(ctx: GenContext, dims: tuple[int, ...], names: bool) -> tuple[str, bool]:
    """``[3][N0]``: each dimension as a literal or (when ``names``) sometimes through a
    global constant of that value; also says whether a constant was named."""
    parts: list[str] = []
    named = False
    consts = [c for c in _consts(ctx) if c.const is not None and 1 <= c.const <= 64]
    for size in dims:
        same = [c for c in consts if c.const == size]
        near = [c for c in consts if c.const is not None and 0 < size - c.const <= 3]
        if names and same and ctx.chance(0.6):
            parts.append(f"[{ctx.rng.choice(same).name}]")
            named = True
        elif names and near and ctx.chance(0.3):
            var = ctx.rng.choice(near)
            assert var.const is not None
            parts.append(f"[{var.name} + {size - var.const}]")
            named = True
        else:
            parts.append(f"[{size}]")
    return "".join(parts), named


def _count(ctx: GenContext, n: int) -> int:
    return n if ctx.chance(0.6) else ctx.rng.randint(1, n)


def _nested(
    ctx: GenContext, dims: tuple[int, ...], make: Callable[[], E], flat: list[int], at: int
) -> tuple[str, bool, list[E]]:
    """Braces per dimension; returns the text, whether any list was short, the items."""
    if len(dims) == 1:
        n = _count(ctx, dims[0])
        items = [make() for _ in range(n)]
        for k, item in enumerate(items):
            flat[at + k] = item.lo
        return "{" + ", ".join(i.text for i in items) + "}", n < dims[0], items
    sub = 1
    for d in dims[1:]:
        sub *= d
    rows = _count(ctx, dims[0])
    texts, partial, items = [], rows < dims[0], []
    for r in range(rows):
        text, short, got = _nested(ctx, dims[1:], make, flat, at + r * sub)
        texts.append(text)
        partial = partial or short
        items.extend(got)
    return "{" + ", ".join(texts) + "}", partial, items


def initializer(
    ctx: GenContext, dims: tuple[int, ...], make: Callable[[], E]
) -> tuple[str, tuple[str, ...], list[int]]:
    """A brace initialiser (nested, flat, partial or empty): its text, the features it
    shows, and the flat element values when the items are constants (else their lows)."""
    total = 1
    for d in dims:
        total *= d
    flat = [0] * total
    roll = ctx.rng.random()
    if roll < 0.12:
        return "{}", ("array_init_empty",), flat
    if len(dims) >= 2 and roll < 0.4:
        n = _count(ctx, total)
        items = [make() for _ in range(n)]
        for k, item in enumerate(items):
            flat[k] = item.lo
        feats = ("array_init_flat", "array_init_partial") if n < total else ("array_init_flat",)
        text = "{" + ", ".join(i.text for i in items) + "}"
        return text, join_feats(*items, extra=feats), flat
    text, partial, items = _nested(ctx, dims, make, flat, 0)
    extra = ["array_init_nested"] if len(dims) >= 2 else []
    if partial:
        extra.append("array_init_partial")
    return text, join_feats(*items, extra=tuple(extra)), flat


def _array_dims(ctx: GenContext) -> tuple[int, ...]:
    rng = ctx.rng
    rank = rng.choice((1, 1, 2, 2, 3))
    if rank == 1:
        return (rng.randint(4, 16),)
    if rank == 2:
        return (rng.randint(2, 6), rng.randint(2, 6))
    return (rng.randint(2, 3), rng.randint(2, 4), rng.randint(2, 4))


def _declare_consts(ctx: GenContext, out: Emitter) -> None:
    """``const int N0 = 4, N1 = N0 * 2;`` (small positive values, usable as dimensions),
    then maybe a constant array."""
    for _ in range(ctx.rng.randint(1, 2)):
        parts: list[str] = []
        for _ in range(ctx.rng.randint(1, 3)):
            e = const_expr(ctx, 1)
            if not 2 <= e.lo <= 9:
                e = lit(ctx.rng.randint(2, 9))
            var = Var(ctx.fresh("N"), e.lo, e.lo, is_global=True, const=e.lo, assignable=False)
            ctx.globals.declare(var)
            ctx.use(*e.feats)
            parts.append(f"{var.name} = {e.text}")
        ctx.use("const_scalar", *(["multi_declarator"] if len(parts) > 1 else []))
        out.line(f"const int {', '.join(parts)};")
    if ctx.chance(0.7):
        dims = (ctx.rng.randint(3, 8),) if ctx.chance(0.7) else (2, ctx.rng.randint(2, 4))
        text, feats, flat = initializer(ctx, dims, lambda: const_expr(ctx, 1))
        dtext, named = dims_text(ctx, dims, True)
        name = ctx.fresh("T")
        lo, hi = min(flat), max(flat)
        ctx.globals.declare(Arr(name, dims, lo, hi, is_global=True, values=tuple(flat)))
        ctx.use("const_array", "global_array", *feats, *(["const_dims"] if named else []))
        if len(dims) >= 2:
            ctx.use("multi_dim_array")
        out.line(f"const int {name}{dtext} = {text};")


def _global_scalar(ctx: GenContext) -> str:
    lo, hi = pick_range(ctx)
    name = ctx.fresh("g")
    text = name
    if ctx.chance(0.5):
        e = const_expr(ctx, 2)
        if lo <= e.lo <= hi:
            text = f"{name} = {e.text}"
            ctx.use(*e.feats, *(["global_init"] if "const_scalar" in e.feats else []))
    ctx.globals.declare(Var(name, lo, hi, is_global=True))
    ctx.use("global_scalar")
    return text


def _global_array(ctx: GenContext, dims: tuple[int, ...]) -> str:
    name = ctx.fresh("ga")
    dtext, named = dims_text(ctx, dims, True)
    text = f"{name}{dtext}"
    if ctx.chance(0.4):
        lo, hi = ctx.elem
        init, feats, flat = initializer(ctx, dims, lambda: const_expr(ctx, 1))
        if all(lo <= v <= hi for v in flat):
            text += f" = {init}"
            ctx.use(*feats, *(["global_init"] if "const_scalar" in feats else []))
    ctx.globals.declare(Arr(name, dims, *ctx.elem, is_global=True))
    ctx.use("global_array", *(["const_dims"] if named else []))
    if len(dims) >= 2:
        ctx.use("multi_dim_array")
    return text


def declare_globals(ctx: GenContext, out: Emitter) -> None:
    """Constants, then global scalars and arrays (some in one multi-declarator), and
    always one 1-D array of at least 8 elements (the target of ``getarray``)."""
    _declare_consts(ctx, out)
    out.line(f"int {_global_array(ctx, (ctx.rng.randint(8, 16),))};")
    for _ in range(ctx.rng.randint(1, 3)):
        parts = [_global_scalar(ctx) if ctx.chance(0.6) else _global_array(ctx, _array_dims(ctx))]
        while ctx.chance(0.35):
            parts.append(
                _global_scalar(ctx) if ctx.chance(0.5) else _global_array(ctx, _array_dims(ctx))
            )
        if len(parts) > 1:
            ctx.use("multi_declarator")
        out.line(f"int {', '.join(parts)};")
