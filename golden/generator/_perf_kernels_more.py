"""More kernels of generated performance programs: dynamic programming (knapsack and
longest common subsequence), a 2-D stencil over array parameters and insertion sorting.

The same rules as golden.generator._perf_kernels: constants from the context's random
stream, work filled to the context's budget, values, indices and divisors safe by
construction.
"""

from __future__ import annotations

from golden.generator._perf_kernel import Kernel, KernelContext, fits, reps_for

__all__ = ["make_dp", "make_sort", "make_stencil"]

# Baseline instructions per innermost step (golden.generator._perf_kernels.COST).
COST_KNAPSACK = 28
COST_LCS = 45
COST_STENCIL = 127
COST_SORT = 7


def make_dp(ctx: KernelContext) -> Kernel:
    """One of two dynamic programmes, chosen at random."""
    if ctx.rng.random() < 0.5:
        return _knapsack(ctx)
    return _lcs(ctx)


def _knapsack(ctx: KernelContext) -> Kernel:
    """0/1 knapsack over a 1-D table through a max helper, capacities moving per round."""
    rng, p = ctx.rng, ctx.prefix
    items = rng.randint(20, 60)
    cap = rng.randint(1000, 4000)
    wmax = rng.randint(20, 200)
    spread = rng.randint(2, cap // 4)
    reps = reps_for(ctx.budget, items * cap * COST_KNAPSACK, most=2000)
    assert fits(items * 100, 100)
    body = f"""int {p}max(int a, int b) {{
  if (a > b) return a;
  return b;
}}

int {p}run(int cap, int reps) {{
  int t = 0;
  int r = 0;
  while (r < reps) {{
    int c = 0;
    while (c <= cap) {{
      {p}dp[c] = 0;
      c = c + 1;
    }}
    int it = 0;
    while (it < {items}) {{
      c = cap;
      while (c >= {p}w[it]) {{
        {p}dp[c] = {p}max({p}dp[c], {p}dp[c - {p}w[it]] + {p}v[it]);
        c = c - 1;
      }}
      it = it + 1;
    }}
    t = (t + {p}dp[cap - r % {spread}]) % MOD;
    r = r + 1;
  }}
  return t;
}}"""
    fill = f"""{{
    int i = 0;
    while (i < {items}) {{
      {p}w[i] = rnd({wmax}) + 1;
      {p}v[i] = rnd(100);
      i = i + 1;
    }}
  }}"""
    return Kernel(
        title="knapsack",
        globals=(f"int {p}w[{items}];", f"int {p}v[{items}];", f"int {p}dp[{cap + 1}];"),
        functions=(body,),
        setup=(fill,),
        call=f"{p}run({p}n, {p}r)",
        inputs=(cap, reps),
        features=frozenset(
            {"global_array", "nested_loops", "if_else", "early_return", "comparison"}
            | {"function_call", "division_modulo"}
        ),
    )


def _lcs(ctx: KernelContext) -> Kernel:
    """Longest common subsequences of rotations of two sequences, in a rolling 2-row table."""
    rng, p = ctx.rng, ctx.prefix
    size = rng.choice((300, 500, 800))
    n = rng.randint(size // 2, size)
    alphabet = rng.randint(2, 6)
    reps = reps_for(ctx.budget, n * n * COST_LCS, most=2000)
    body = f"""int {p}max(int a, int b) {{
  if (a >= b) return a;
  return b;
}}

int {p}run(int n, int reps) {{
  int t = 0;
  int r = 0;
  while (r < reps) {{
    int j = 0;
    while (j <= n) {{
      {p}d[0][j] = 0;
      j = j + 1;
    }}
    int i = 1;
    while (i <= n) {{
      int cur = i % 2;
      int prev = 1 - cur;
      {p}d[cur][0] = 0;
      j = 1;
      while (j <= n) {{
        if ({p}s[i - 1] == {p}u[(j - 1 + r) % n]) {{
          {p}d[cur][j] = {p}d[prev][j - 1] + 1;
        }} else {{
          {p}d[cur][j] = {p}max({p}d[prev][j], {p}d[cur][j - 1]);
        }}
        j = j + 1;
      }}
      i = i + 1;
    }}
    t = (t * 7 + {p}d[n % 2][n]) % MOD;
    r = r + 1;
  }}
  return t;
}}"""
    fill = f"""{{
    int i = 0;
    while (i < {p}n) {{
      {p}s[i] = rnd({alphabet});
      {p}u[i] = rnd({alphabet});
      i = i + 1;
    }}
  }}"""
    return Kernel(
        title="longest common subsequences",
        globals=(f"int {p}s[{size}];", f"int {p}u[{size}];", f"int {p}d[2][{size + 1}];"),
        functions=(body,),
        setup=(fill,),
        call=f"{p}run({p}n, {p}r)",
        inputs=(n, reps),
        features=frozenset(
            {"global_array", "multi_dim_array", "nested_loops", "if_else", "comparison"}
            | {"function_call", "division_modulo", "early_return"}
        ),
    )


def make_stencil(ctx: KernelContext) -> Kernel:
    """Jacobi sweeps of a 5-point stencil, one sweep a void function over array parameters."""
    rng, p, mod = ctx.rng, ctx.prefix, ctx.mod
    size = rng.choice((64, 96, 128))
    n = rng.randint(size // 2, size)
    weights = [rng.randint(1, 999) for _ in range(5)]
    reps = reps_for(ctx.budget, 2 * (n - 2) * (n - 2) * COST_STENCIL, most=2000)
    assert fits(*(mod * w for w in weights))
    table = ", ".join(map(str, weights))
    body = f"""int {p}point(int src[][{size}], int i, int j) {{
  int s = 0;
  int k = 0;
  while (k < 5) {{
    s = s + {p}w[k] * src[i + {p}di[k]][j + {p}dj[k]];
    k = k + 1;
  }}
  return s % MOD;
}}

void {p}sweep(int src[][{size}], int dst[][{size}], int n) {{
  int i = 1;
  while (i < n - 1) {{
    int j = 1;
    while (j < n - 1) {{
      dst[i][j] = {p}point(src, i, j);
      j = j + 1;
    }}
    i = i + 1;
  }}
}}

int {p}run(int n, int reps) {{
  int t = 0;
  int r = 0;
  while (r < reps) {{
    {p}sweep({p}u, {p}v, n);
    {p}sweep({p}v, {p}u, n);
    t = (t + {p}u[n / 2][r % n]) % MOD;
    r = r + 1;
  }}
  return t;
}}"""
    fill = f"""{{
    int i = 0;
    while (i < {p}n) {{
      int j = 0;
      while (j < {p}n) {{
        {p}u[i][j] = rnd(MOD);
        j = j + 1;
      }}
      i = i + 1;
    }}
  }}"""
    return Kernel(
        title="stencil sweeps",
        globals=(
            f"const int {p}w[5] = {{{table}}};",
            f"const int {p}di[5] = {{-1, 0, 0, 0, 1}};",
            f"const int {p}dj[5] = {{0, -1, 0, 1, 0}};",
            f"int {p}u[{size}][{size}];",
            f"int {p}v[{size}][{size}];",
        ),
        functions=(body,),
        setup=(fill,),
        call=f"{p}run({p}n, {p}r)",
        inputs=(n, reps),
        features=frozenset(
            {"global_array", "multi_dim_array", "nested_loops", "array_param", "void_function"}
            | {"function_call", "division_modulo", "const_array", "unary_minus"}
        ),
    )


def make_sort(ctx: KernelContext) -> Kernel:
    """Insertion sorts of freshly mixed arrays (the inner loop a short-circuit condition)."""
    rng, p, mod = ctx.rng, ctx.prefix, ctx.mod
    size = rng.choice((400, 600, 900))
    n = rng.randint(size // 2, size)
    k1, k2 = rng.randint(2, 30000), rng.randint(1, 999)
    reps = reps_for(ctx.budget, n * n * COST_SORT, most=2000)
    assert fits(mod * k1, mod * k2, reps)
    body = f"""int {p}after(int x, int y) {{
  if (x > y) return 1;
  return 0;
}}

int {p}run(int a[], int n, int reps) {{
  int t = 0;
  int r = 0;
  while (r < reps) {{
    int i = 0;
    while (i < n) {{
      a[i] = ({p}src[i] * {k1} + {p}src[(i + r) % n] * {k2} + r) % MOD;
      i = i + 1;
    }}
    i = 1;
    while (i < n) {{
      int key = a[i];
      int j = i;
      while (j > 0 && {p}after(a[j - 1], key)) {{
        a[j] = a[j - 1];
        j = j - 1;
      }}
      a[j] = key;
      i = i + 1;
    }}
    t = (t + a[r % n] + a[n - 1 - r % n]) % MOD;
    r = r + 1;
  }}
  return t;
}}"""
    return Kernel(
        title="insertion sorts",
        globals=(f"int {p}src[{size}];", f"int {p}a[{size}];"),
        functions=(body,),
        setup=(
            f"""{{
    int i = 0;
    while (i < {p}n) {{
      {p}src[i] = rnd(MOD);
      i = i + 1;
    }}
  }}""",
        ),
        call=f"{p}run({p}a, {p}n, {p}r)",
        inputs=(n, reps),
        features=frozenset(
            {"global_array", "array_param", "nested_loops", "short_circuit_and", "comparison"}
            | {"function_call", "division_modulo", "early_return", "if_else"}
        ),
    )
