"""The kernel catalogue of generated performance programs: array scans, matrix products,
sieves, digit arithmetic, memoised recursion, histograms and dynamic programming.

Each maker takes a :class:`KernelContext` and returns a :class:`Kernel` whose work (its
repetition count, read from stdin) fills the context's budget of baseline instructions.
``COST`` constants are baseline instructions per innermost step, measured on the unchanged
-O0 IR as T4 measures it (llc -O2, callgrind). Every maker varies its constants, loop
shapes and helper structure with the context's random stream, and keeps every value in
[0, MOD), every index in range and every divisor non-zero by construction.
"""

from __future__ import annotations

from collections.abc import Callable

from golden.generator._perf_kernel import Kernel, KernelContext, fits, reps_for
from golden.generator._perf_kernels_more import make_dp, make_sort, make_stencil

__all__ = ["COST", "MAKERS"]

# Baseline instructions per innermost step of each kernel (measured, see the docstring).
COST: dict[str, int] = {
    "scan": 32,
    "matrix": 17,
    "matrix_call": 30,
    "sieve": 58,
    "digit": 22,
    "number": 40,
    "memo": 190,
    "memo_step": 15,
    "histogram": 32,
}


def _fill(array: str, count: str, value: str) -> str:
    """A setup block filling ``array[0..count)`` with ``value`` (it may use ``i``)."""
    return (
        f"{{\n    int i = 0;\n    while (i < {count}) {{\n      {array}[i] = {value};\n"
        "      i = i + 1;\n    }\n  }"
    )


def _addm(p: str) -> str:
    """A helper adding two reduced values without a division (inlined by clang -O2)."""
    return f"""int {p}addm(int x, int y) {{
  int s = x + y;
  if (s >= MOD) s = s - MOD;
  return s;
}}"""


def _in_base(value: int, base: int) -> list[int]:
    """The digits of ``value`` (> 0) in ``base``, least significant first."""
    digits = []
    while value > 0:
        digits.append(value % base)
        value //= base
    return digits


def make_scan(ctx: KernelContext) -> Kernel:
    """Forward and backward recurrence passes over a 1-D array (prefix sums, mixed) through
    small helpers."""
    rng, p, mod = ctx.rng, ctx.prefix, ctx.mod
    size = rng.choice((1024, 2048, 3000, 4096))
    n = rng.randint(size // 2, size)
    k1, k3 = rng.randint(2, 30000), rng.randint(3, 997)
    reps = reps_for(ctx.budget, n * 2 * COST["scan"], most=5000)
    assert fits(mod * k1, mod, reps) and fits(reps * k3)
    param = rng.random() < 0.5
    arr = "a" if param else f"{p}a"
    head = f"int {p}run(int a[], int n, int reps)" if param else f"int {p}run(int n, int reps)"
    mix = rng.choice(("x * {k} + y + r", "y * {k} + x + r", "(x + r) * {k} + y")).format(k=k1)
    assert fits(mod * k1 + reps * k1, mod)
    body = f"""{head} {{
  int t = 0;
  int r = 0;
  while (r < reps) {{
    int i = 1;
    while (i < n) {{
      {arr}[i] = {p}mix({p}get({arr}, i - 1), {arr}[i], r);
      i = i + 1;
    }}
    i = n - 2;
    while (i >= 0) {{
      {arr}[i] = {p}addm({arr}[i], {arr}[i + 1]);
      i = i - 1;
    }}
    t = {p}addm(t, {arr}[r * {k3} % n]);
    r = r + 1;
  }}
  return t;
}}"""
    helper = (
        f"int {p}get(int a[], int i) {{\n  return a[i];\n}}\n\n"
        f"int {p}mix(int x, int y, int r) {{\n  return ({mix}) % MOD;\n}}"
    )
    call = f"{p}run({p}a, {p}n, {p}r)" if param else f"{p}run({p}n, {p}r)"
    features = {"global_array", "nested_loops", "division_modulo", "function_call", "if_else"}
    features.add("array_param")
    return Kernel(
        title="prefix scans",
        globals=(f"int {p}a[{size}];",),
        functions=(_addm(p), helper, body),
        setup=(_fill(f"{p}a", f"{p}n", "rnd(MOD)"),),
        call=call,
        inputs=(n, reps),
        features=frozenset(features),
    )


def make_matrix(ctx: KernelContext) -> Kernel:
    """Repeated matrix products on 2-D arrays of small values, the product fed back in."""
    rng, p = ctx.rng, ctx.prefix
    size = rng.choice((24, 32, 40, 48))
    n = rng.randint(size * 2 // 3, size)
    small = rng.choice((500, 1000, 1024, 3000))
    transposed = rng.random() < 0.5
    helper = rng.random() < 0.5
    second = f"{p}y[j][k]" if transposed else f"{p}y[k][j]"
    term = f"{p}mul({p}x[i][k], {second})" if helper else f"{p}x[i][k] * {second}"
    step = COST["matrix_call"] if helper else COST["matrix"]
    reps = reps_for(ctx.budget, n * n * n * step + n * n * 40, most=2000)
    shift = rng.randint(1, 97)
    assert fits(*([small * small] * size)) and fits(small, reps * shift)
    functions = []
    if helper:
        functions.append(f"int {p}mul(int a, int b) {{\n  return a * b;\n}}")
    functions.append(
        f"""int {p}run(int n, int reps) {{
  int t = 0;
  int r = 0;
  while (r < reps) {{
    int i = 0;
    while (i < n) {{
      int j = 0;
      while (j < n) {{
        int acc = 0;
        int k = 0;
        while (k < n) {{
          acc = acc + {term};
          k = k + 1;
        }}
        {p}z[i][j] = acc % MOD;
        j = j + 1;
      }}
      i = i + 1;
    }}
    i = 0;
    while (i < n) {{
      int j = 0;
      while (j < n) {{
        {p}x[i][j] = ({p}z[i][j] + r * {shift}) % {small};
        j = j + 1;
      }}
      i = i + 1;
    }}
    t = (t + {p}z[r % n][(r + {shift}) % n]) % MOD;
    r = r + 1;
  }}
  return t;
}}"""
    )
    fill = f"""{{
    int i = 0;
    while (i < {p}n) {{
      int j = 0;
      while (j < {p}n) {{
        {p}x[i][j] = rnd({small});
        {p}y[i][j] = rnd({small});
        j = j + 1;
      }}
      i = i + 1;
    }}
  }}"""
    return Kernel(
        title="matrix products",
        globals=tuple(f"int {p}{m}[{size}][{size}];" for m in "xyz"),
        functions=tuple(functions),
        setup=(fill,),
        call=f"{p}run({p}n, {p}r)",
        inputs=(n, reps),
        features=frozenset(
            {"global_array", "multi_dim_array", "nested_loops", "division_modulo", "function_call"}
        ),
    )


def make_sieve(ctx: KernelContext) -> Kernel:
    """Sieves of Eratosthenes over moving limits, counting and summing the primes, the
    flags read and written through helpers."""
    rng, p = ctx.rng, ctx.prefix
    size = rng.choice((20000, 30000, 50000))
    n = rng.randint(size // 2, size - 1)
    spread = rng.randint(2, n // 4)
    reps = reps_for(ctx.budget, n * COST["sieve"], most=5000)
    negate = rng.random() < 0.5
    prime = f"return !{p}f[i];" if negate else f"if ({p}f[i]) return 0;\n  return 1;"
    functions = (
        _addm(p),
        f"void {p}mark(int j) {{\n  {p}f[j] = 1;\n}}",
        f"int {p}prime(int i) {{\n  {prime}\n}}",
        f"""int {p}run(int n, int reps) {{
  int t = 0;
  int r = 0;
  while (r < reps) {{
    int lim = n - r % {spread};
    int i = 0;
    while (i <= lim) {{
      {p}f[i] = 0;
      i = i + 1;
    }}
    i = 2;
    while (i * i <= lim) {{
      if ({p}prime(i)) {{
        int j = i * i;
        while (j <= lim) {{
          {p}mark(j);
          j = j + i;
        }}
      }}
      i = i + 1;
    }}
    int c = 0;
    i = 2;
    while (i <= lim) {{
      if ({p}prime(i)) {{
        c = c + 1;
        t = {p}addm(t, i % MOD);
      }}
      i = i + 1;
    }}
    t = {p}addm(t, c % MOD);
    r = r + 1;
  }}
  return t;
}}""",
    )
    features = {"global_array", "nested_loops", "if_else", "comparison", "division_modulo"}
    features |= {"logical_not"} if negate else {"early_return"}
    return Kernel(
        title="sieves",
        globals=(f"int {p}f[{size}];",),
        functions=functions,
        setup=(),
        call=f"{p}run({p}n, {p}r)",
        inputs=(n, reps),
        features=frozenset(features | {"function_call", "void_function"}),
    )


def make_digits(ctx: KernelContext) -> Kernel:
    """Weighted digit sums of a bounded number stream, each digit weighed by a helper."""
    rng, p, mod = ctx.rng, ctx.prefix, ctx.mod
    base = rng.choice((4, 8, 10, 16))
    big = rng.choice((99991, 999983, 65536 * 7))
    n = rng.randint(2000, 6000)
    k1, k2 = rng.randint(3, 300), rng.randint(1, 9999)
    table = rng.random() < 0.5
    places = len(_in_base(big, base))
    reps = reps_for(ctx.budget, n * (COST["number"] + places * COST["digit"]), most=2000)
    assert fits(n * k1, reps * k2) and fits(big * 10, 9) and fits(base * 100 * 99, mod)
    weights = ", ".join(str(rng.randint(0, 99)) for _ in range(base))
    weight = f"return {p}w[d];" if table else f"return d * d + {rng.randint(1, 9)};"
    globals_ = (f"const int {p}w[{base}] = {{{weights}}};",) if table else ()
    functions = (
        _addm(p),
        f"int {p}weight(int d) {{\n  {weight}\n}}",
        f"""int {p}digits(int x) {{
  int s = 0;
  while (x > 0) {{
    s = s + {p}weight(x % {base});
    x = x / {base};
  }}
  return s;
}}""",
        f"""int {p}run(int n, int reps) {{
  int t = 0;
  int r = 0;
  while (r < reps) {{
    int i = 0;
    while (i < n) {{
      int x = (i * {k1} + r * {k2}) % {big} + 1;
      t = {p}addm(t, {p}digits(x) % MOD);
      i = i + 1;
    }}
    r = r + 1;
  }}
  return t;
}}""",
    )
    features = {"nested_loops", "division_modulo", "function_call", "comparison", "if_else"}
    if table:
        features.add("const_array")
    return Kernel(
        title="digit arithmetic",
        globals=globals_,
        functions=functions,
        setup=(),
        call=f"{p}run({p}n, {p}r)",
        inputs=(n, reps),
        features=frozenset(features),
    )


def make_memo(ctx: KernelContext) -> Kernel:
    """A recurrence computed by recursion with a memo array, cleared every repetition."""
    rng, p, mod = ctx.rng, ctx.prefix, ctx.mod
    size = rng.choice((2000, 4000, 6000))
    n = rng.randint(size // 2, size - 1)
    k1, k2 = rng.randint(2, 20000), rng.randint(2, 20000)
    d2 = rng.choice((2, 4, 8))
    steps = rng.randint(4, 7)
    table = ", ".join(str(rng.randint(0, 9000)) for _ in range(steps))
    spread = rng.randint(2, n // 4)
    reps = reps_for(ctx.budget, n * (COST["memo"] + steps * COST["memo_step"]), most=5000)
    assert fits(mod * k1, mod * k2)
    body = f"""int {p}f(int v) {{
  if (v < 3) return v + 1;
  if ({p}known(v)) return {p}memo[v];
  int x = {p}mix({p}f(v - 1), {p}f(v / {d2}));
  int k = 0;
  while (k < {steps}) {{
    x = {p}addm(x, {p}c[k]);
    k = k + 1;
  }}
  {p}memo[v] = x;
  return x;
}}"""
    run = f"""int {p}run(int n, int reps) {{
  int t = 0;
  int r = 0;
  while (r < reps) {{
    int lim = n - r % {spread};
    int v = 0;
    while (v <= lim) {{
      {p}forget(v);
      v = v + 1;
    }}
    v = 0;
    while (v <= lim) {{
      t = {p}addm(t, {p}f(v));
      v = v + 1;
    }}
    r = r + 1;
  }}
  return t;
}}"""
    return Kernel(
        title="memoised recursion",
        globals=(f"const int {p}c[{steps}] = {{{table}}};", f"int {p}memo[{size}];"),
        functions=(
            _addm(p),
            f"int {p}mix(int a, int b) {{\n  return (a * {k1} + b * {k2}) % MOD;\n}}",
            f"int {p}known(int v) {{\n  if ({p}memo[v] >= 0) return 1;\n  return 0;\n}}",
            f"void {p}forget(int v) {{\n  {p}memo[v] = -1;\n}}",
            body,
            run,
        ),
        setup=(),
        call=f"{p}run({p}n, {p}r)",
        inputs=(n, reps),
        features=frozenset(
            {"global_array", "recursion", "early_return", "unary_minus", "if_else"}
            | {"division_modulo", "function_call", "nested_loops", "comparison", "void_function"}
            | {"const_array"}
        ),
    )


def make_histogram(ctx: KernelContext) -> Kernel:
    """Bucket counts of a data array under a moving hash, with the fullest bucket found."""
    rng, p, mod = ctx.rng, ctx.prefix, ctx.mod
    size = rng.choice((4096, 8192, 10000))
    n = rng.randint(size // 2, size)
    buckets = rng.choice((64, 128, 256, 512))
    k = rng.randint(2, 30000)
    reps = reps_for(ctx.budget, n * COST["histogram"] + buckets * 40, most=5000)
    assert fits(mod * k, reps) and fits(mod, n * buckets)
    functions = (
        f"int {p}slot(int v, int r) {{\n  return (v * {k} + r) % {buckets};\n}}",
        f"void {p}bump(int s) {{\n  {p}h[s] = {p}h[s] + 1;\n}}",
        f"""int {p}run(int n, int reps) {{
  int t = 0;
  int r = 0;
  while (r < reps) {{
    int b = 0;
    while (b < {buckets}) {{
      {p}h[b] = 0;
      b = b + 1;
    }}
    int i = 0;
    while (i < n) {{
      {p}bump({p}slot({p}d[i], r));
      i = i + 1;
    }}
    int best = 0;
    b = 0;
    while (b < {buckets}) {{
      if ({p}h[b] > {p}h[best]) best = b;
      t = (t + {p}h[b] * (b + 1) % MOD) % MOD;
      b = b + 1;
    }}
    t = (t + best) % MOD;
    r = r + 1;
  }}
  return t;
}}""",
    )
    return Kernel(
        title="histograms",
        globals=(f"int {p}d[{size}];", f"int {p}h[{buckets}];"),
        functions=functions,
        setup=(_fill(f"{p}d", f"{p}n", "rnd(MOD)"),),
        call=f"{p}run({p}n, {p}r)",
        inputs=(n, reps),
        features=frozenset(
            {"global_array", "nested_loops", "if_else", "comparison", "division_modulo"}
            | {"function_call", "void_function"}
        ),
    )


MAKERS: dict[str, Callable[[KernelContext], Kernel]] = {
    "scan": make_scan,
    "matrix": make_matrix,
    "sieve": make_sieve,
    "digits": make_digits,
    "memo": make_memo,
    "histogram": make_histogram,
    "dp": make_dp,
    "stencil": make_stencil,
    "sort": make_sort,
}
