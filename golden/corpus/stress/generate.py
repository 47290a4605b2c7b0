#!/usr/bin/env python3
"""Generate the stress_*.sy programs (and their .in files) in this directory.

Deterministic: each program uses its own random.Random with a fixed seed. Every generated
program keeps its values bounded (products of operands below 10007 or small constants) so
that no signed overflow, division by zero or out-of-bounds access can happen.
"""

from __future__ import annotations

import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
M = 10007  # values are kept in [0, M) wherever a product is formed


def write(name: str, source: str, stdin: str | None = None) -> None:
    (HERE / f"{name}.sy").write_text(source)
    if stdin is not None:
        (HERE / f"{name}.in").write_text(stdin)


# --------------------------------------------------------------------------------------
# (a) a large source: hundreds of functions and globals computing a checksum
# --------------------------------------------------------------------------------------
def gen_big() -> None:
    r = random.Random(1)
    nfun = 520
    out = ["// Large program: many globals, tables and functions folded into one checksum.", ""]
    out.append(f"const int MOD = {M};")
    for k in range(nfun):
        size = r.randint(4, 12)
        vals = ", ".join(str(r.randrange(M)) for _ in range(size))
        out.append(f"const int ctab{k}[{size}] = {{{vals}}};")
        out.append(f"int gtab{k}[{size}];")
        out.append(f"int gacc{k} = {r.randrange(M)};")
    out.append("")
    sizes = {}
    # rebuild sizes deterministically (same generator sequence as above)
    r2 = random.Random(1)
    for k in range(nfun):
        sizes[k] = r2.randint(4, 12)
        for _ in range(sizes[k]):
            r2.randrange(M)
        r2.randrange(M)
    leaves: list[int] = []
    for k in range(nfun):
        n = sizes[k]
        a, b, c = r.randrange(1, M), r.randrange(1, M), r.randrange(1, 97)
        kind = k % 5
        body = [
            f"int fn{k}(int x, int y) {{",
            "  // x and y arrive reduced modulo MOD",
            "  int i = 0;",
            f"  int acc = (x * {a} + y) % MOD;",
        ]
        if kind == 0:
            body += [
                f"  while (i < {n}) {{",
                f"    gtab{k}[i] = (gtab{k}[i] + ctab{k}[i] * (acc % 97) + i) % MOD;",
                f"    acc = (acc + gtab{k}[i] * {c}) % MOD;",
                "    i = i + 1;",
                "  }",
            ]
        elif kind == 1:
            body += [
                f"  while (i < {n}) {{",
                f"    if (ctab{k}[i] % 2 == 0) {{",
                f"      acc = (acc * {c} + ctab{k}[i]) % MOD;",
                "    } else {",
                f"      acc = (acc + MOD - ctab{k}[i] % (x + 1)) % MOD;",
                "    }",
                "    i = i + 1;",
                "  }",
            ]
        elif kind == 2:
            body += [
                "  int lo = 0;",
                f"  int hi = {n - 1};",
                "  while (lo < hi) {",
                f"    int t = gtab{k}[lo];",
                f"    gtab{k}[lo] = (gtab{k}[hi] + acc) % MOD;",
                f"    gtab{k}[hi] = (t + {b}) % MOD;",
                "    lo = lo + 1;",
                "    hi = hi - 1;",
                "  }",
                f"  while (i < {n}) {{",
                f"    acc = (acc * 3 + gtab{k}[i]) % MOD;",
                "    i = i + 1;",
                "  }",
            ]
        elif kind == 3:
            body += [
                f"  int d = y % {n};",
                f"  while (i < {n} && d >= 0) {{",
                f"    acc = (acc + ctab{k}[(i + d) % {n}] * {c}) % MOD;",
                "    if (acc % 11 == 3) break;",
                "    i = i + 1;",
                "  }",
            ]
        else:
            body += [
                f"  while (i < {n}) {{",
                f"    int v = ctab{k}[i];",
                "    while (v > 0) {",
                f"      acc = (acc + v % 10 * {c}) % MOD;",
                "      v = v / 10;",
                "    }",
                "    i = i + 1;",
                "  }",
            ]
        if leaves and k % 4 == 0:
            callee = r.choice(leaves)
            body.append(f"  acc = (acc + fn{callee}(acc, (y + {k}) % MOD)) % MOD;")
        else:
            leaves.append(k)
        body += [f"  gacc{k} = (gacc{k} + acc) % MOD;", "  return acc;", "}", ""]
        out += body
    out.append("int main() {")
    out.append("  int seed = getint() % MOD;")
    out.append("  int rounds = getint();")
    out.append("  int check = seed;")
    out.append("  int r = 0;")
    out.append("  while (r < rounds) {")
    for k in range(nfun):
        out.append(f"    check = (check * 7 + fn{k}(check, (r * {k + 1} + seed) % MOD)) % MOD;")
    out.append("    r = r + 1;")
    out.append("  }")
    out.append("  int g = 0;")
    for k in range(nfun):
        out.append(f"  g = (g + gacc{k} * {k % 13 + 1}) % MOD;")
    out.append("  putint(check);")
    out.append("  putch(32);")
    out.append("  putint(g);")
    out.append("  putch(10);")
    out.append("  return check % 256;")
    out.append("}")
    write("stress_big", "\n".join(out) + "\n", "4242 3\n")


# --------------------------------------------------------------------------------------
# (b) a function with exactly 1000 parameters
# --------------------------------------------------------------------------------------
def gen_params() -> None:
    n = 1000
    out = ["// A function with exactly 1000 int parameters, called with computed arguments.", ""]
    params = ", ".join(f"int p{i}" for i in range(n))
    out.append(f"int wide({params}) {{")
    out.append("  int s = 0;")
    # fold the parameters in groups of ten so the sum stays small
    for g in range(0, n, 10):
        terms = " + ".join(f"p{i} * {i % 7 + 1}" for i in range(g, g + 10))
        out.append(f"  s = (s * 3 + {terms}) % 1000003;")
    out.append("  return s;")
    out.append("}")
    out.append("")
    out.append("int first_minus_last(" + ", ".join(f"int q{i}" for i in range(n)) + ") {")
    out.append(f"  return q0 - q{n - 1} + q{n // 2};")
    out.append("}")
    out.append("")
    out.append("int main() {")
    out.append("  int k = 0;")
    out.append("  int check = 0;")
    out.append("  int a = 3;")
    out.append("  int b = 5;")
    out.append("  while (k < 20) {")
    args = ", ".join(f"(k * {i % 13 + 1} + a * {i % 5} + b + {i}) % 1000" for i in range(n))
    out.append(f"    check = (check + wide({args})) % 1000003;")
    out.append("    a = (a * 7 + k) % 101;")
    out.append("    b = (b + a) % 103;")
    out.append("    k = k + 1;")
    out.append("  }")
    args2 = ", ".join(str(i * 3 % 1009) for i in range(n))
    out.append(f"  int d = first_minus_last({args2});")
    out.append("  putint(check);")
    out.append("  putch(32);")
    out.append("  putint(d);")
    out.append("  putch(10);")
    out.append("  return 0;")
    out.append("}")
    write("stress_params", "\n".join(out) + "\n")


# --------------------------------------------------------------------------------------
# (c) deeply nested blocks, if and while statements
# --------------------------------------------------------------------------------------
def gen_nesting() -> None:
    r = random.Random(3)
    depth = 150
    out = ["// Deeply nested blocks and if/while statements (nesting depth 150).", ""]
    out.append("int counter;")
    out.append("")
    out.append("int main() {")
    out.append("  int x = getint();")
    out.append("  int acc = x % 10;")
    closers = []
    for d in range(depth):
        ind = "  " * (d + 1)
        kind = d % 4
        if kind == 0:
            out.append(f"{ind}{{")
            out.append(f"{ind}  int x = {d} + acc % 7;  // shadows the outer x")
            out.append(f"{ind}  acc = (acc + x) % 10007;")
            closers.append(f"{ind}  acc = (acc * 3 + x) % 10007;\n{ind}}}")
        elif kind == 1:
            t = r.randrange(20)
            out.append(f"{ind}if (x % 20 >= {t} || acc % 2 == 0 || x < 1000) {{")
            out.append(f"{ind}  counter = counter + 1;")
            closers.append(f"{ind}}} else {{\n{ind}  acc = (acc + {d}) % 10007;\n{ind}}}")
        elif kind == 2:
            out.append(f"{ind}int w{d} = 0;")
            out.append(f"{ind}while (w{d} < 1) {{")
            out.append(f"{ind}  w{d} = w{d} + 1;")
            out.append(f"{ind}  acc = (acc + w{d} * {d}) % 10007;")
            closers.append(f"{ind}}}")
        else:
            out.append(f"{ind}if (acc % 5 != {d % 5} || acc < 10000) {{")
            out.append(f"{ind}  acc = (acc + 2) % 10007;")
            closers.append(f"{ind}}} else {{\n{ind}  acc = (acc + 1) % 10007;\n{ind}}}")
    out.append("  " * (depth + 1) + "putint(acc);")
    out.append("  " * (depth + 1) + "putch(10);")
    for c in reversed(closers):
        out.append(c)
    # a second nest: a while nest with breaks and continues
    out.append("  int guard = 0;")
    for d in range(120):
        ind = "  " * (d + 1)
        out.append(f"{ind}while (guard < {1000 + d}) {{")
        out.append(f"{ind}  guard = guard + 1;")
        out.append(f"{ind}  if (guard % 3 == 0) {{ acc = (acc + guard) % 10007; }}")
    for d in reversed(range(120)):
        ind = "  " * (d + 1)
        out.append(f"{ind}  break;")
        out.append(f"{ind}}}")
    out.append("  putint(acc);")
    out.append("  putch(32);")
    out.append("  putint(counter);")
    out.append("  putch(32);")
    out.append("  putint(guard);")
    out.append("  putch(10);")
    out.append("  return 0;")
    out.append("}")
    write("stress_nesting", "\n".join(out) + "\n", "13\n")


# --------------------------------------------------------------------------------------
# (d) one expression with thousands of operands
# --------------------------------------------------------------------------------------
def gen_longexpr() -> None:
    r = random.Random(4)
    nvars = 16
    operands = 0
    groups = []
    while operands < 3300:
        size = r.randint(2, 6)
        parts = []
        for _ in range(size):
            v = f"v{r.randrange(nvars)}"
            form = r.randrange(4)
            if form == 0:
                parts.append(v)
                operands += 1
            elif form == 1:
                parts.append(f"{v} * {r.randint(1, 9)}")
                operands += 2
            elif form == 2:
                parts.append(f"{v} / {r.randint(1, 9)}")
                operands += 2
            else:
                parts.append(f"{v} % {r.randint(1, 9)}")
                operands += 2
        ops = [r.choice(["+", "-"]) for _ in range(size - 1)]
        text = parts[0]
        for op, p in zip(ops, parts[1:], strict=True):
            text += f" {op} {p}"
        groups.append(f"({text})")
    lines = []
    line = "    "
    for i, g in enumerate(groups):
        piece = g if i == 0 else (" + " if i % 3 else " - ") + g
        if len(line) + len(piece) > 100:
            lines.append(line)
            line = "    "
        line += piece
    lines.append(line)
    out = [f"// One expression with {operands} operands in {len(groups)} parenthesised groups.", ""]
    out.append("int main() {")
    for i in range(nvars):
        out.append(f"  int v{i} = getint() % 1000;")
    out.append("  int round = 0;")
    out.append("  int check = 0;")
    out.append("  while (round < 3) {")
    out.append("    int big =")
    out += lines
    out[-1] += ";"
    out.append("    check = (check * 17 + big % 10007 + 10007) % 10007;")
    for i in range(nvars):
        out.append(f"    v{i} = (v{i} * 3 + {i} + round) % 1000;")
    out.append("    round = round + 1;")
    out.append("  }")
    out.append("  putint(check);")
    out.append("  putch(10);")
    out.append("  return 0;")
    out.append("}")
    ins = " ".join(str(r.randrange(1000)) for _ in range(nvars))
    write("stress_longexpr", "\n".join(out) + "\n", ins + "\n")


# --------------------------------------------------------------------------------------
# (e) thousands of locals in one function, and many globals
# --------------------------------------------------------------------------------------
def gen_locals() -> None:
    r = random.Random(5)
    nloc = 2400
    nglob = 1500
    out = [f"// {nloc} local variables in one function and {nglob} global variables.", ""]
    for g in range(0, nglob, 10):
        decl = ", ".join(f"g{i} = {r.randrange(1000)}" for i in range(g, g + 10))
        out.append(f"int {decl};")
    out.append("")
    out.append("int main() {")
    out.append("  int seed = getint();")
    for i in range(nloc):
        form = i % 6
        if i < 4:
            expr = f"(seed + {i}) % 1000"
        elif form == 0:
            expr = f"(l{i - 1} + l{i - 3}) % 1000"
        elif form == 1:
            expr = f"(l{i - 1} * {r.randint(2, 9)} + g{r.randrange(nglob)}) % 1000"
        elif form == 2:
            expr = f"(l{r.randrange(i)} + l{r.randrange(i)} * l{r.randrange(i)}) % 1000"
        elif form == 3:
            expr = f"l{r.randrange(i)} / {r.randint(1, 7)} + {r.randrange(100)}"
        elif form == 4:
            expr = f"(g{r.randrange(nglob)} - l{i - 2} + 1000) % 1000"
        else:
            expr = f"l{i - 4} % {r.randint(2, 50)} + l{i - 1} % 7"
        out.append(f"  int l{i} = {expr};")
    # write some locals back to globals, then read everything into a checksum
    for i in range(0, nglob, 7):
        out.append(f"  g{i} = (g{i} + l{r.randrange(nloc)}) % 1000;")
    out.append("  int check = 0;")
    for i in range(0, nloc, 4):
        out.append(f"  check = (check * 31 + l{i} + l{i + 1} + l{i + 2} + l{i + 3}) % 1000003;")
    for i in range(0, nglob, 10):
        terms = " + ".join(f"g{j}" for j in range(i, i + 10))
        out.append(f"  check = (check * 7 + {terms}) % 1000003;")
    out.append("  putint(check);")
    out.append("  putch(10);")
    out.append("  return 0;")
    out.append("}")
    write("stress_locals", "\n".join(out) + "\n", "987\n")


# --------------------------------------------------------------------------------------
# (f) deep parenthesis nesting and very long identifiers
# --------------------------------------------------------------------------------------
def gen_parens() -> None:
    r = random.Random(6)
    long_var = "accumulated_value_of_the_deeply_parenthesised_expression_" * 4 + "x"
    long_fun = "compute_a_value_from_two_arguments_with_a_rather_descriptive_name_" * 4 + "f"
    long_glob = "global_counter_with_an_extremely_long_identifier_used_for_testing_" * 4 + "g"
    long_arr = "table_of_small_integers_named_very_verbosely_for_lexer_stress_" * 4 + "t"
    assert min(map(len, [long_var, long_fun, long_glob, long_arr])) >= 200
    depth = 230
    # nested expression: (((...(a + 1) % 1000 * 3 ...))) kept below 10^6 at every level
    e = "a"
    for d in range(depth):
        op = d % 4
        if op == 0:
            e = f"({e} + {r.randint(1, 9)})"
        elif op == 1:
            e = f"({e} % 1000)"
        elif op == 2:
            e = f"({e} * {r.randint(1, 9)})"
        else:
            e = f"({e} - {r.randint(1, 9)})"
    # a second, purely nested form: ((((((b)))))) with unary minus inside
    e2 = "b"
    for d in range(depth):
        e2 = f"(-{e2})" if d % 2 == 0 else f"({e2})"
    # deeply nested calls
    e3 = "c"
    for d in range(220):
        e3 = f"{long_fun}({e3}, {d})"
    # a condition with deep parenthesis nesting
    cond = "a > 0"
    for d in range(210):
        cond = f"({cond} && b != {d + 5000})" if d % 2 == 0 else f"({cond})"
    out = [
        f"// Parenthesis nesting depth {depth} and identifiers of {len(long_var)}+ characters.",
        "",
    ]
    out.append(f"int {long_glob};")
    out.append(f"const int {long_arr}[8] = {{3, 1, 4, 1, 5, 9, 2, 6}};")
    out.append("")
    out.append(f"int {long_fun}(int x, int y) {{")
    out.append(f"  {long_glob} = {long_glob} + 1;")
    out.append(f"  return (x * 3 + y + {long_arr}[y % 8]) % 10007;")
    out.append("}")
    out.append("")
    out.append("int main() {")
    out.append("  int a = getint();")
    out.append("  int b = getint();")
    out.append("  int c = getint();")
    out.append(f"  int {long_var} = {e};")
    out.append(f"  int second = {e2};")
    out.append(f"  int third = {e3};")
    out.append(f"  if {cond} {{")
    out.append(f"    {long_var} = {long_var} + 1;")
    out.append("  }")
    out.append(f"  putint({long_var});")
    out.append("  putch(32);")
    out.append("  putint(second);")
    out.append("  putch(32);")
    out.append("  putint(third);")
    out.append("  putch(32);")
    out.append(f"  putint({long_glob});")
    out.append("  putch(10);")
    out.append("  return 0;")
    out.append("}")
    write("stress_parens", "\n".join(out) + "\n", "123 456 789\n")


def main() -> None:
    gen_big()
    gen_params()
    gen_nesting()
    gen_longexpr()
    gen_locals()
    gen_parens()


if __name__ == "__main__":
    main()
