"""The functional-program generator: one seeded, deterministic, UB-free SysY program with
the input it reads.

A program is globals (constants, scalars, arrays), a few functions (pure or with side
effects, some recursive with a strictly decreasing depth, some taking arrays or rows),
then ``main``: it reads its input first (so the amount of input is known), runs a random
body and prints every global. ``random.Random(program_seed(...))`` is the only source of
randomness, and nothing depends on set or hash order, so a (seed, index) pair gives the
same text in any process.
"""

from __future__ import annotations

import random

from golden.generator._fn_context import Arr, FnState, Func, GenContext, Scopes, Sym, Var
from golden.generator._fn_decl import declare_globals, pick_range
from golden.generator._fn_emit import Emitter
from golden.generator._fn_reads import read_input
from golden.generator._fn_stmt import BodyGen
from golden.generator._program import GeneratedProgram, program_seed

__all__ = ["generate_functional"]

_MAIN_BUDGET = 6000


def _scopes_for(ctx: GenContext, params: list[Sym]) -> Scopes:
    """The scopes of a body: the globals, then one block holding the parameters and the
    body's own top-level declarations (C puts both in the same scope)."""
    scopes = Scopes()
    scopes.stack = [ctx.globals.stack[0], {}]
    for param in params:
        scopes.declare(param)
    return scopes


def _array_params(ctx: GenContext) -> list[Sym]:
    """Array parameters shaped after the global arrays, so every one has an argument:
    the whole array or, skipping leading dimensions, a row of it."""
    arrays = [s for s in ctx.globals.visible() if isinstance(s, Arr) and s.values is None]
    params: list[Sym] = []
    for _ in range(ctx.rng.choice((0, 0, 1, 1, 2))):
        arr = ctx.rng.choice(arrays)
        skip = ctx.rng.randrange(len(arr.dims))
        dims = arr.dims[skip:]
        params.append(Arr(ctx.fresh("a"), dims, *ctx.elem, is_param=True))
    return params


def _param_text(ctx: GenContext, param: Sym) -> str:
    if isinstance(param, Var):
        return f"int {param.name}"
    rest = ""
    consts = [s for s in ctx.globals.visible() if isinstance(s, Var) and s.const is not None]
    for size in param.dims[1:]:
        same = [c.name for c in consts if c.const == size]
        if same and ctx.chance(0.5):
            ctx.use("const_dims")
            rest += f"[{ctx.rng.choice(same)}]"
        else:
            rest += f"[{size}]"
    if len(param.dims) > 1:
        ctx.use("multi_dim_array")
    return f"int {param.name}[]{rest}"


def _signature(ctx: GenContext, func: Func) -> str:
    params = ", ".join(_param_text(ctx, p) for p in func.params)
    return f"{'int' if func.returns_int else 'void'} {func.name}({params})"


def _plain_function(ctx: GenContext, out: Emitter) -> Func:
    """A function with scalar and array parameters and a random body; a void one, or one
    with side effects, is impure."""
    scalars: list[Sym] = []
    for _ in range(ctx.rng.randint(0, 3)):
        scalars.append(Var(ctx.fresh("p"), *pick_range(ctx)))
    returns_int = ctx.chance(0.75)
    lo, hi = pick_range(ctx) if returns_int else (0, 0)
    pure = returns_int and ctx.chance(0.5)
    func = Func(ctx.fresh("f"), returns_int, scalars + _array_params(ctx), lo, hi, pure)
    fn = FnState(func, _scopes_for(ctx, func.params), ctx.rng.randint(60, 400))
    fn.line_stop = len(out.lines) + 30
    fn.callables = list(ctx.funcs)
    if not returns_int:
        ctx.use("void_function")
    out.open(_signature(ctx, func))
    body = BodyGen(ctx, fn, out)
    body.block(ctx.rng.randint(3, 7), 0)
    if returns_int or ctx.chance(0.3):
        body.emit(body.return_text())
    out.close()
    func.cost = fn.cost + 2
    return func


def _calls(depth: int, fan: int) -> int:
    """How many calls a recursion of this depth and fan-out makes (depth counts down by
    one and, with fan-out 2, also by two)."""
    table = [1, 1]
    for _ in range(depth):
        table.append(1 + table[-1] + (table[-2] if fan == 2 else 0))
    return table[-1]


def _recursive_function(ctx: GenContext, out: Emitter) -> Func:
    """``int rec(int d, ...)``: a base case for ``d <= 0``, then one or two calls on
    ``d - 1`` (and ``d - 2``); every caller passes ``d`` in ``[0, depth_max]``."""
    depth_max, fan = ctx.rng.randint(2, 7), ctx.rng.choice((1, 1, 2))
    depth = Var(ctx.fresh("d"), -1, depth_max, assignable=False, counter=True)
    params: list[Sym] = [depth, Var(ctx.fresh("p"), *pick_range(ctx))]
    params += _array_params(ctx)[:1]
    lo, hi = pick_range(ctx)
    func = Func(ctx.fresh("rec"), True, params, lo, hi, ctx.chance(0.5), depth_max=depth_max)
    calls = _calls(depth_max, fan)
    fn = FnState(func, _scopes_for(ctx, params), max(8, 800 // calls))
    fn.line_stop = len(out.lines) + 20
    fn.callables = list(ctx.funcs)
    ctx.use("recursion", "function_call", "early_return")
    out.open(_signature(ctx, func))
    body = BodyGen(ctx, fn, out)
    base = ctx.rng.choice((f"{depth.name} <= 0", f"{depth.name} < 1", f"!({depth.name} > 0)"))
    out.open(f"if ({base})")
    body.emit(body.return_text())
    out.close()
    body.block(ctx.rng.randint(0, 2), 2)
    results = [_self_call(ctx, body, func, step) for step in range(1, fan + 1)]
    body.block(ctx.rng.randint(0, 1), 2)
    for name in results:
        fn.scopes.declare(Var(name, lo, hi))
    body.emit(body.return_text())
    out.close()
    func.cost = (fn.cost + 3) * calls
    return func


def _self_call(ctx: GenContext, body: BodyGen, func: Func, step: int) -> str:
    """``int r = rec(d - step, ...);``: the result is declared but only made visible after
    every recursive call, so no argument depends on another call's evaluation order."""
    args: list[str] = []
    for param in func.params:
        if isinstance(param, Var) and param.counter:
            args.append(f"{param.name} - {step}")
        elif isinstance(param, Var):
            value = body.ex.value(param.lo, param.hi, 1)
            ctx.use(*value.feats)
            args.append(value.text)
        else:
            args.append(param.name)
    name = ctx.fresh("r")
    body.emit(f"int {name} = {func.name}({', '.join(args)});")
    return name


def _main(ctx: GenContext, out: Emitter) -> str:
    """``main``: read the input, a random body, print every global, return an exit code.
    Returns the input text."""
    func = Func("main", True, [], 0, 255, False)
    fn = FnState(func, _scopes_for(ctx, []), _MAIN_BUDGET, is_main=True)
    fn.line_stop = len(out.lines) + 75
    fn.callables = list(ctx.funcs)
    out.open("int main()")
    body = BodyGen(ctx, fn, out)
    stdin = read_input(ctx, body)
    body.block(ctx.rng.randint(6, 12), 0)
    _print_locals(ctx, body)
    _print_globals(ctx, body)
    if ctx.chance(0.6):
        body.emit(body.return_text())
    else:
        body.emit("return 0;")
    out.close()
    return stdin


def _print_locals(ctx: GenContext, body: BodyGen) -> None:
    """The last few scalars of main's outermost block (its input and results)."""
    names = [s.name for s in body.fn.scopes.stack[1].values() if isinstance(s, Var)]
    for name in names[-6:]:
        body.emit(f"putint({name});")
        body.emit("putch(44);")
    if names:
        ctx.use("putint", "putch")


def _print_globals(ctx: GenContext, body: BodyGen) -> None:
    """Every global scalar and every 1-D array (the last row of a 2-D one), so a wrong
    store anywhere shows in the output."""
    for sym in ctx.globals.visible():
        if isinstance(sym, Var) and sym.const is None:
            body.emit(f"putint({sym.name});")
            body.emit("putch(32);")
            ctx.use("putint")
        elif isinstance(sym, Arr) and sym.values is None and len(sym.dims) == 1:
            body.emit(f"putarray({sym.dims[0]}, {sym.name});")
            ctx.use("putarray")
        elif isinstance(sym, Arr) and sym.values is None and len(sym.dims) == 2:
            body.emit(f"putarray({sym.dims[1]}, {sym.name}[{sym.dims[0] - 1}]);")
            ctx.use("putarray", "array_row_param")
    body.emit("putch(10);")
    ctx.use("putch")


def generate_functional(seed: int, index: int) -> GeneratedProgram:
    """The functional program ``index`` of the epoch made from ``seed``."""
    rng = random.Random(program_seed(seed, "functional", index))
    elem = rng.choice(((-999, 999), (-10006, 10006)))
    ctx = GenContext(rng, elem)
    out = Emitter()
    out.line(f"// generated functional program {index}")  # never the seed: it is the epoch
    ctx.use("comments")
    declare_globals(ctx, out)
    for _ in range(rng.randint(2, 5)):
        out.blank()
        maker = _recursive_function if rng.random() < 0.3 else _plain_function
        ctx.funcs.append(maker(ctx, out))
    out.blank()
    stdin = _main(ctx, out)
    return GeneratedProgram(
        name=f"gen_f{index:04d}",
        kind="functional",
        source=out.text(),
        stdin=stdin,
        features=frozenset(ctx.features),
    )
