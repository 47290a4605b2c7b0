"""Random, well-typed, bounded expressions and conditions over the visible symbols.

Evaluation order: C leaves the order of most operands unspecified, so a call with a side
effect (to an impure function) never shares an expression with anything it could change:
ordinary expressions call pure functions only; an impure call appears alone, as the right
operand of ``&&``/``||`` (sequenced after the left), as a statement or as an assigned value.
"""

from __future__ import annotations

from golden.generator._fn_context import Arr, FnState, Func, GenContext, Var
from golden.generator._fn_expr import (
    ATOM,
    LIMIT,
    E,
    binary,
    fit,
    join_feats,
    lit,
    lnot,
    neg,
)

__all__ = ["OR", "ExprGen"]

OR, AND, EQ, REL = 10, 20, 30, 40
_CMP = ("<", ">", "<=", ">=", "==", "!=")
_STYLES = ("dec", "dec", "dec", "dec", "hex", "oct")


class ExprGen:
    """Expressions for one function body (``fn``), drawing on ``ctx.rng`` only."""

    def __init__(self, ctx: GenContext, fn: FnState) -> None:
        self.ctx = ctx
        self.fn = fn
        self.rng = ctx.rng
        self.nest = 0  # subscripts and calls being generated inside one another

    # -- leaves -------------------------------------------------------------------------
    def literal(self, lo: int = 0, hi: int = 99) -> E:
        value = self.rng.randint(lo, hi)
        e = lit(abs(value), self.rng.choice(_STYLES))
        return neg(e) if value < 0 else e

    def scalars(self) -> list[Var]:
        return [s for s in self.fn.scopes.visible(self.fn.hidden) if isinstance(s, Var)]

    def arrays(self) -> list[Arr]:
        return [s for s in self.fn.scopes.visible(self.fn.hidden) if isinstance(s, Arr)]

    def read_var(self) -> E | None:
        names = self.scalars()
        if not names:
            return None
        var = self.rng.choice(names)
        if var.const is not None:
            return E(var.name, var.const, var.const, ATOM, ("const_scalar",))
        return E(var.name, var.lo, var.hi)

    def index(self, n: int) -> E:
        """An index provably in ``[0, n - 1]``: a loop counter in range, or a reduced
        expression."""
        counters = [v for v in self.scalars() if v.counter and v.lo >= 0 and v.hi <= n]
        if counters and self.ctx.chance(0.6):
            var = self.rng.choice(counters)
            e = E(var.name, var.lo, var.hi)
            if e.hi <= n - 1:
                return e
            return binary("-", e, lit(1)) if e.lo >= 1 else fit(e, 0, n - 1)
        if self.ctx.chance(0.3):
            return lit(self.rng.randint(0, n - 1))
        return fit(self.expr(1), 0, n - 1)

    def element(self, arr: Arr) -> E:
        """A full subscript ``a[i][j]`` of ``arr``."""
        self.nest += 1
        parts = [self.index(d) for d in arr.dims]
        self.nest -= 1
        text = arr.name + "".join(f"[{p.text}]" for p in parts)
        feats = ("const_array",) if arr.values is not None else ()
        return E(text, arr.lo, arr.hi, ATOM, join_feats(*parts, extra=feats))

    def read_elem(self) -> E | None:
        arrays = self.arrays()
        return self.element(self.rng.choice(arrays)) if arrays else None

    def leaf(self) -> E:
        roll = self.rng.random()
        if self.nest >= 2:  # deep inside subscripts and calls: names and literals only
            roll = roll * 0.45 if roll < 0.6 else 0.9
        got: E | None = None
        if roll < 0.45:
            got = self.read_var()
        elif roll < 0.7:
            got = self.read_elem()
        elif roll < 0.8:
            got = self.pure_call()
        return got if got is not None else self.literal()

    # -- operators ----------------------------------------------------------------------
    def divisor(self) -> E:
        roll = self.rng.random()
        if roll < 0.4:
            return self.literal(1, 17)
        positive = [v for v in self.scalars() if v.lo >= 1 and v.hi <= 1000]
        if roll < 0.6 and positive:
            var = self.rng.choice(positive)
            value = var.const
            return E(
                var.name, var.lo if value is None else value, var.hi if value is None else value
            )
        k = self.rng.randint(2, 13)
        return binary("+", binary("%", self.expr(1), lit(k)), lit(k))

    def expr(self, depth: int) -> E:
        """A bounded arithmetic expression of at most ``depth`` operator levels."""
        if depth <= 0 or self.ctx.chance(0.3):
            return self.leaf()
        roll = self.rng.random()
        if roll < 0.08:
            return neg(self.expr(depth - 1))
        if roll < 0.11:
            return lnot(self.expr(depth - 1))
        op = self.rng.choice(("+", "-", "*", "/", "%", "+", "-", "*"))
        a = self.expr(depth - 1)
        if op in "/%":
            return binary(op, a, self.divisor())
        b = self.expr(depth - 1)
        if op == "*" and max(abs(a.lo), abs(a.hi)) * max(abs(b.lo), abs(b.hi)) > LIMIT:
            a, b = fit(a, -999, 999), fit(b, -999, 999)
        if op in "+-" and max(abs(a.lo), abs(a.hi)) + max(abs(b.lo), abs(b.hi)) > LIMIT:
            a, b = fit(a, -99999, 99999), fit(b, -99999, 99999)
        return binary(op, a, b)

    def value(self, lo: int, hi: int, depth: int = 2) -> E:
        return fit(self.expr(depth), lo, hi)

    # -- calls --------------------------------------------------------------------------
    def _affordable(self, func: Func) -> bool:
        return func.cost * self.fn.mult <= self.fn.left()

    def array_arg(self, param: Arr) -> E | None:
        """An argument for ``param``: a visible non-const array, or a row of one, whose
        trailing dimensions match."""
        rank = len(param.dims)
        fits: list[Arr] = []
        for arr in self.arrays():
            skip = len(arr.dims) - rank
            shape_ok = skip >= 0 and arr.dims[skip + 1 :] == param.dims[1:]
            if arr.values is None and shape_ok and arr.dims[skip] >= param.dims[0]:
                fits.append(arr)
        if not fits:
            return None
        arr = self.rng.choice(fits)
        parts = [self.index(d) for d in arr.dims[: len(arr.dims) - rank]]
        text = arr.name + "".join(f"[{p.text}]" for p in parts)
        extra = ("array_param", "array_row_param") if parts else ("array_param",)
        return E(text, 0, 0, ATOM, join_feats(*parts, extra=extra))

    def arguments(self, func: Func) -> list[E] | None:
        args: list[E] = []
        for param in func.params:
            if isinstance(param, Arr):
                got = self.array_arg(param)
                if got is None:
                    return None
                args.append(got)
            elif param.counter:  # a recursion depth
                args.append(self.value(0, param.hi, 1))
            else:
                args.append(self.value(param.lo, param.hi, 1))
        return args

    def call(self, func: Func) -> E | None:
        """``func(args)``, charged to the budget, or None when no argument fits."""
        self.nest += 1
        args = self.arguments(func)
        self.nest -= 1
        if args is None:
            return None
        self.fn.cost += func.cost * self.fn.mult
        extra: tuple[str, ...] = ("function_call",)
        if func.depth_max is not None:
            extra += ("recursion",)
        if not func.returns_int:
            extra += ("void_function",)
        text = f"{func.name}({', '.join(a.text for a in args)})"
        return E(text, func.lo, func.hi, ATOM, join_feats(*args, extra=extra))

    def pure_call(self) -> E | None:
        funcs = [f for f in self.fn.callables if f.pure and f.returns_int and self._affordable(f)]
        return self.call(self.rng.choice(funcs)) if funcs else None

    def impure_call(self, returns_int: bool) -> E | None:
        """A call with side effects, for the few places whose order is fixed."""
        if self.fn.pure:
            return None
        funcs = [
            f
            for f in self.fn.callables
            if not f.pure and (f.returns_int or not returns_int) and self._affordable(f)
        ]
        return self.call(self.rng.choice(funcs)) if funcs else None

    # -- conditions ---------------------------------------------------------------------
    def compare(self, depth: int) -> E:
        a, b = self.expr(depth), self.expr(depth)
        op = self.rng.choice(_CMP)
        prec = EQ if op in ("==", "!=") else REL
        return E(f"{a.text} {op} {b.text}", 0, 1, prec, join_feats(a, b, extra=("comparison",)))

    def effect_compare(self) -> E | None:
        call = self.impure_call(True)
        if call is None:
            return None
        op = self.rng.choice(_CMP)
        bound = self.literal(-3, 3)
        feats = join_feats(call, bound, extra=("comparison", "side_effect_in_condition"))
        return E(f"{call.text} {op} {bound.text}", 0, 1, REL, feats)

    def logical(self, op: str, depth: int) -> E:
        prec = AND if op == "&&" else OR
        left = self.cond(depth - 1)
        right = self.effect_compare() if self.ctx.chance(0.4) else None
        if right is None:
            right = self.cond(depth - 1)
        feat = "short_circuit_and" if op == "&&" else "short_circuit_or"
        ltext = left.text if left.prec >= prec else f"({left.text})"
        rtext = right.text if right.prec > prec else f"({right.text})"
        return E(f"{ltext} {op} {rtext}", 0, 1, prec, join_feats(left, right, extra=(feat,)))

    def cond(self, depth: int = 2) -> E:
        """A condition: comparisons, ``!``, ``&&``, ``||`` and plain values."""
        roll = self.rng.random()
        if depth > 0 and roll < 0.25:
            return self.logical(self.rng.choice(("&&", "||")), depth)
        if depth > 0 and roll < 0.32:
            inner = self.cond(depth - 1)
            text = "!" + (inner.text if inner.prec >= ATOM else f"({inner.text})")
            return E(text, 0, 1, ATOM - 10, join_feats(inner, extra=("logical_not",)))
        if roll < 0.4:
            return self.expr(1)
        return self.compare(1)
