"""Statements of one function body: declarations, assignments, if/else, bounded loops,
shadowing blocks, output, calls, break/continue and early returns.

Termination: every loop runs a counter from 0 to a bound known here; the counter is
read-only except for its one increment, which comes before any ``continue``. Each loop
multiplies the cost of its body by its trip count, and nothing is generated once the
function's budget is spent, so a program executes a bounded number of statements.
"""

from __future__ import annotations

from golden.generator._fn_context import Arr, FnState, GenContext, Loop, Var
from golden.generator._fn_decl import dims_text, initializer, pick_range
from golden.generator._fn_emit import Emitter
from golden.generator._fn_expr import E, fit, lit
from golden.generator._fn_exprgen import ExprGen

__all__ = ["BodyGen"]

_MULT_CAP = 160
_WORDS = ("mix", "fold", "scan", "update", "check", "walk", "sum up", "reduce", "probe")


class BodyGen:
    """Generates statements into ``out`` for the function described by ``fn``."""

    def __init__(self, ctx: GenContext, fn: FnState, out: Emitter) -> None:
        self.ctx = ctx
        self.fn = fn
        self.out = out
        self.ex = ExprGen(ctx, fn)
        self.rng = ctx.rng

    # -- helpers ------------------------------------------------------------------------
    def emit(self, text: str, *parts: E) -> None:
        """One simple statement: its text, the features of its expressions, its cost."""
        for part in parts:
            self.ctx.use(*part.feats)
        self.out.line(text)
        self.fn.cost += self.fn.mult

    def comment(self) -> None:
        word = self.rng.choice(_WORDS)
        if self.ctx.chance(0.5):
            self.out.line(f"// {word} step")
        else:
            self.out.line(f"/* {word} */")
        self.ctx.use("comments")

    def declare_scalar(self, name: str, init: E) -> str:
        lo, hi = pick_range(self.ctx)
        value = fit(init, lo, hi)
        self.ctx.use(*value.feats)
        self.fn.scopes.declare(Var(name, lo, hi))
        return f"{name} = {value.text}"

    # -- blocks -------------------------------------------------------------------------
    def block(self, count: int, depth: int) -> None:
        """Up to ``count`` statements, fewer when the budget runs out."""
        for _ in range(count):
            if self.fn.left() < self.fn.mult * 2 or len(self.out.lines) > self.fn.line_stop:
                return
            self.statement(depth)

    def scoped(self, count: int, depth: int) -> None:
        self.fn.scopes.push()
        self.block(count, depth)
        self.fn.scopes.pop()

    def statement(self, depth: int) -> None:
        kinds = ["decl", "assign", "assign", "elem", "elem", "if", "print", "call"]
        if depth < 3:
            kinds += ["if", "loop", "loop", "shadow", "array"]
        if self.fn.loops:
            kinds += ["jump", "jump"]
        kinds += ["return", "empty", "comment", "const"]
        kind = self.rng.choice(kinds)
        getattr(self, f"s_{kind}")(depth)

    # -- simple statements --------------------------------------------------------------
    def s_decl(self, depth: int) -> None:
        parts = [self.declare_scalar(self.ctx.fresh("v"), self.ex.expr(2))]
        while self.ctx.chance(0.3):
            parts.append(self.declare_scalar(self.ctx.fresh("v"), self.ex.expr(1)))
        if len(parts) > 1:
            self.ctx.use("multi_declarator")
        self.emit(f"int {', '.join(parts)};")

    def s_const(self, depth: int) -> None:
        """``const int K0 = N1 * 3 + 2;``: a local constant from a visible one."""
        consts = [v for v in self.ex.scalars() if v.const is not None and abs(v.const) < 100]
        if not consts:
            self.s_decl(depth)
            return
        var = self.rng.choice(consts)
        assert var.const is not None
        times, plus = self.rng.randint(1, 4), self.rng.randint(0, 9)
        value = var.const * times + plus
        name = self.ctx.fresh("K")
        self.emit(f"const int {name} = {var.name} * {times} + {plus};")
        self.fn.scopes.declare(Var(name, value, value, const=value, assignable=False))
        self.ctx.use("const_scalar")

    def s_assign(self, depth: int) -> None:
        targets = [v for v in self.ex.scalars() if self.fn.can_write(v)]
        if not targets:
            self.s_decl(depth)
            return
        var = self.rng.choice(targets)
        call = self.ex.impure_call(True) if self.ctx.chance(0.25) else None
        value = fit(call if call is not None else self.ex.expr(2), var.lo, var.hi)
        self.emit(f"{var.name} = {value.text};", value)

    def s_elem(self, depth: int) -> None:
        arrays = [a for a in self.ex.arrays() if self.fn.can_write(a)]
        if not arrays:
            self.s_assign(depth)
            return
        arr = self.rng.choice(arrays)
        target = self.ex.element(arr)
        value = self.ex.value(arr.lo, arr.hi)
        self.emit(f"{target.text} = {value.text};", target, value)

    def s_print(self, depth: int) -> None:
        if self.fn.pure:
            self.s_assign(depth)
            return
        roll = self.rng.random()
        rows = [a for a in self.ex.arrays() if a.values is None]
        if roll < 0.25 and rows:
            arr = self.rng.choice(rows)
            parts = [self.ex.index(d) for d in arr.dims[:-1]]
            text = arr.name + "".join(f"[{p.text}]" for p in parts)
            n = self.ex.value(0, arr.dims[-1], 1)
            self.emit(f"putarray({n.text}, {text});", n, *parts)
            self.ctx.use("putarray", *(["array_row_param"] if parts else []))
            return
        value = self.ex.expr(2)
        self.emit(f"putint({value.text});", value)
        sep = self.rng.choice(("10", "32", "32", "44"))
        if self.ctx.chance(0.3):
            letter = fit(self.ex.expr(1), 0, 25)
            self.emit(f"putch(65 + {letter.text});", letter)
        self.emit(f"putch({sep});")
        self.ctx.use("putint", "putch")

    def s_call(self, depth: int) -> None:
        call = self.ex.impure_call(False)
        if call is None:
            self.s_elem(depth)
            return
        if self.ctx.chance(0.3) and call.hi > call.lo:
            self.emit(f"putint({call.text});", call)
            self.emit("putch(32);")
            self.ctx.use("putint", "putch")
            return
        self.emit(f"{call.text};", call)

    def s_empty(self, depth: int) -> None:
        self.emit(";")
        self.ctx.use("empty_statement")

    def s_comment(self, depth: int) -> None:
        self.comment()

    def s_return(self, depth: int) -> None:
        """An early return under a condition."""
        if self.fn.is_main and self.ctx.chance(0.5):
            self.s_print(depth)
            return
        cond = self.ex.cond(1)
        self.ctx.use(*cond.feats, "early_return")
        self.out.open(f"if ({cond.text})")
        if self.fn.is_main:  # what main computed so far still shows
            value = self.ex.expr(2)
            self.emit(f"putint({value.text});", value)
            self.emit("putch(10);")
            self.ctx.use("putint", "putch")
        self.emit(self.return_text())
        self.out.close()

    def return_text(self) -> str:
        func = self.fn.func
        if self.fn.is_main:
            value = self.ex.value(0, 254, 2)
            self.ctx.use(*value.feats, "exit_code")
            return f"return {value.text} + 1;"
        if not func.returns_int:
            return "return;"
        value = self.ex.value(func.lo, func.hi, 2)
        self.ctx.use(*value.feats)
        return f"return {value.text};"

    def s_jump(self, depth: int) -> None:
        loop = self.fn.loops[-1]
        word = "continue" if loop.incremented and self.ctx.chance(0.5) else "break"
        cond = self.ex.cond(1)
        self.ctx.use(*cond.feats, word)
        if self.ctx.chance(0.5):
            self.emit(f"if ({cond.text}) {word};")
        else:
            self.out.open(f"if ({cond.text})")
            self.emit(f"{word};")
            self.out.close()

    # -- compound statements ------------------------------------------------------------
    def s_if(self, depth: int) -> None:
        cond = self.ex.cond(2)
        self.ctx.use(*cond.feats)
        self.fn.cost += self.fn.mult
        self.out.open(f"if ({cond.text})")
        self.scoped(self.rng.randint(1, 3), depth + 1)
        if self.ctx.chance(0.6):
            self.ctx.use("if_else")
            self.out.close("else")
            self.scoped(self.rng.randint(1, 3), depth + 1)
        self.out.close()

    def s_shadow(self, depth: int) -> None:
        """``{ int x = ...; ... }`` where ``x`` names a variable of an outer scope."""
        outer = [v for v in self.ex.scalars() if v.const is None and not v.counter]
        if not outer:
            self.s_if(depth)
            return
        name = self.rng.choice(outer).name
        self.out.open("")
        self.fn.scopes.push()
        self.fn.hidden = name
        init = self.ex.expr(2)
        self.fn.hidden = None
        self.emit(f"int {self.declare_scalar(name, init)};", init)
        self.ctx.use("shadowing")
        self.block(self.rng.randint(1, 3), depth + 1)
        self.fn.scopes.pop()
        self.out.close()

    def s_array(self, depth: int) -> None:
        """A local array: initialised by braces, or filled by loops right away."""
        rng = self.rng
        dims = (
            (rng.randint(3, 10),)
            if self.ctx.chance(0.5)
            else (rng.randint(2, 4), rng.randint(2, 4))
        )
        name = self.ctx.fresh("la")
        dtext, named = dims_text(self.ctx, dims, True)
        lo, hi = self.ctx.elem
        self.ctx.use("local_array", *(["const_dims"] if named else []))
        if len(dims) > 1:
            self.ctx.use("multi_dim_array")
        arr = Arr(name, dims, lo, hi)
        if self.ctx.chance(0.5):
            text, feats, _ = initializer(self.ctx, dims, lambda: self.ex.value(lo, hi, 1))
            self.ctx.use(*feats)
            self.emit(f"int {name}{dtext} = {text};")
            self.fn.scopes.declare(arr)
            return
        self.emit(f"int {name}{dtext};")
        self.fill(arr)
        self.fn.scopes.declare(arr)

    def fill(self, arr: Arr) -> None:
        """Nested loops that write every element of ``arr``."""
        counters: list[Var] = []
        for size in arr.dims:
            var = Var(self.ctx.fresh("i"), 0, size - 1, assignable=False, counter=True)
            self.emit(f"int {var.name} = 0;")
            self.out.open(f"while ({var.name} < {size})")
            self.fn.scopes.push()
            self.fn.scopes.declare(var)
            counters.append(var)
            self.fn.mult *= size
        target = arr.name + "".join(f"[{v.name}]" for v in counters)
        value = self.ex.value(arr.lo, arr.hi, 1)
        self.emit(f"{target} = {value.text};", value)
        for var, size in zip(reversed(counters), reversed(arr.dims), strict=True):
            self.emit(f"{var.name} = {var.name} + 1;")
            self.fn.scopes.pop()
            self.fn.mult //= size
            self.out.close()
        if len(counters) > 1:
            self.ctx.use("nested_loops")

    def loop_bound(self, most: int) -> tuple[str, int]:
        """The bound of a counter loop: a literal, a constant or a small variable."""
        consts = [v for v in self.ex.scalars() if v.const is not None and 2 <= v.const <= most]
        small = [v for v in self.ex.scalars() if v.const is None and 2 <= v.hi <= most]
        roll = self.rng.random()
        if roll < 0.3 and consts:
            var = self.rng.choice(consts)
            assert var.const is not None
            self.ctx.use("const_scalar")
            return var.name, var.const
        if roll < 0.5 and small:
            var = self.rng.choice(small)
            return var.name, var.hi
        trips = self.rng.randint(2, most)
        e = lit(trips, self.rng.choice(("dec", "dec", "hex")))
        self.ctx.use(*e.feats)
        return e.text, trips

    def s_loop(self, depth: int) -> None:
        most = min(12, _MULT_CAP // self.fn.mult, self.fn.left() // (self.fn.mult * 6))
        if most < 2:
            self.s_assign(depth)
            return
        bound, trips = self.loop_bound(most)
        counter = Var(self.ctx.fresh("i"), 0, trips, assignable=False, counter=True)
        self.emit(f"int {counter.name} = 0;")
        self.fn.scopes.declare(counter)
        if self.fn.loops:
            self.ctx.use("nested_loops")
        if self.ctx.chance(0.7):
            head = f"{counter.name} < {bound}"
            if self.ctx.chance(0.25):
                extra = self.ex.cond(1)
                self.ctx.use(*extra.feats, "short_circuit_and")
                head += f" && {extra.text if extra.prec > 20 else '(' + extra.text + ')'}"
            self.out.open(f"while ({head})")
        else:
            self.out.open("while (1)")
            self.emit(f"if ({counter.name} >= {bound}) break;")
            self.ctx.use("break", "comparison")
        self.ctx.use("comparison")
        self.loop_body(counter, trips, depth)
        self.out.close()
        counter.lo, counter.hi = 0, trips

    def loop_body(self, counter: Var, trips: int, depth: int) -> None:
        loop = Loop(counter)
        self.fn.loops.append(loop)
        self.fn.mult *= trips
        self.fn.scopes.push()
        counter.lo, counter.hi = 0, trips - 1
        if self.ctx.chance(0.3):
            self.comment()
        self.block(self.rng.randint(0, 3), depth + 1)
        self.emit(f"{counter.name} = {counter.name} + 1;")
        counter.lo, counter.hi = 1, trips
        loop.incremented = True
        self.block(self.rng.randint(1, 3), depth + 1)
        self.fn.scopes.pop()
        self.fn.mult //= trips
        self.fn.loops.pop()
