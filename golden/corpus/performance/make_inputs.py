#!/usr/bin/env python3
"""Write the .in file of every perf_*.sy program in this directory.

Deterministic: every generator uses its own random.Random seeded with a fixed value, so
running this script again reproduces the inputs byte for byte.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterable
from pathlib import Path

HERE = Path(__file__).resolve().parent


def ints(values: Iterable[int]) -> str:
    return " ".join(str(v) for v in values)


def matrix_rows(rows: Iterable[Iterable[int]]) -> str:
    return "\n".join(ints(r) for r in rows)


def gen_matmul(r: random.Random) -> str:
    n = 110
    a = [[r.randrange(100) for _ in range(n)] for _ in range(n)]
    b = [[r.randrange(100) for _ in range(n)] for _ in range(n)]
    return f"{n}\n{matrix_rows(a)}\n{matrix_rows(b)}\n"


def gen_conv2d(r: random.Random) -> str:
    h, w, passes = 120, 150, 2
    img = [[(x * y + r.randrange(64)) % 256 for x in range(w)] for y in range(h)]
    return f"{h} {w} {passes}\n{matrix_rows(img)}\n"


def gen_lcs(r: random.Random) -> str:
    n, m = 1400, 1300
    s = [r.randrange(4) for _ in range(n)]
    t = [r.randrange(4) for _ in range(m)]
    return f"{n}\n{ints(s)}\n{m}\n{ints(t)}\n"


def gen_knapsack(r: random.Random) -> str:
    n, cap = 120, 12000
    items = [(r.randint(5, 400), r.randint(1, 1000)) for _ in range(n)]
    return f"{n} {cap}\n" + "\n".join(f"{w} {v}" for w, v in items) + "\n"


def gen_editdist(r: random.Random) -> str:
    n = 900
    a = [r.randrange(3) for _ in range(n)]
    b = [x if r.random() < 0.8 else r.randrange(3) for x in a[: n - 40]]
    return f"{len(a)}\n{ints(a)}\n{len(b)}\n{ints(b)}\n"


def gen_quicksort(r: random.Random) -> str:
    n = 60000
    a = [r.randrange(1000000) for _ in range(n)]
    # a run of duplicates and a sorted block exercise the partitioning
    a[1000:3000] = [4242] * 2000
    a[10000:14000] = sorted(a[10000:14000])
    return f"{n}\n{ints(a)}\n"


def gen_mergesort(r: random.Random) -> str:
    return "150000 12345\n"


def gen_heapsort(r: random.Random) -> str:
    return "100000 987 777\n"


def gen_radixsort(r: random.Random) -> str:
    return "100000 4242 3\n"


def gen_sieve(r: random.Random) -> str:
    n = 1200000
    q = 20000
    lines = [str(n), str(q)]
    for _ in range(q):
        lo = r.randint(1, n)
        hi = r.randint(lo, n)
        lines.append(f"{lo} {hi}")
    return "\n".join(lines) + "\n"


def gen_floyd(r: random.Random) -> str:
    n = 120
    rows = []
    for i in range(n):
        row = []
        for j in range(n):
            if i != j and r.random() < 0.08:
                row.append(r.randint(1, 1000))
            else:
                row.append(0)
        rows.append(row)
    return f"{n}\n{matrix_rows(rows)}\n"


def gen_dijkstra(r: random.Random) -> str:
    n, m, sources = 400, 6000, 12
    edges = []
    for i in range(1, n):  # a spanning path keeps the graph connected
        edges.append((i - 1, i, r.randint(50, 100)))
    while len(edges) < m:
        u, v = r.randrange(n), r.randrange(n)
        if u != v:
            edges.append((u, v, r.randint(1, 100)))
    return f"{n} {m}\n" + "\n".join(f"{u} {v} {w}" for u, v, w in edges) + f"\n{sources}\n"


def gen_bignum(r: random.Random) -> str:
    return "1500 700\n"


def gen_hash(r: random.Random) -> str:
    return "150000 300000 777 180000\n"


def gen_mandelbrot(r: random.Random) -> str:
    return "200 150 256\n"


def gen_life(r: random.Random) -> str:
    gens = 40
    grid = [[1 if r.random() < 0.3 else 0 for _ in range(96)] for _ in range(96)]
    return f"{gens}\n{matrix_rows(grid)}\n"


def gen_nqueens(r: random.Random) -> str:
    return "4 11\n"


def gen_matpow(r: random.Random) -> str:
    k, q = 20, 6
    m = [[r.randrange(10007) for _ in range(k)] for _ in range(k)]
    exps = [r.randint(10**8, 2 * 10**9) for _ in range(q)]
    return f"{matrix_rows(m)}\n{q}\n{ints(exps)}\n"


def gen_collatz(r: random.Random) -> str:
    return "100000 12000\n"


def gen_kmp(r: random.Random) -> str:
    n, alpha, seed = 200000, 3, 31
    pats = []
    for _ in range(12):
        m = r.randint(3, 20)
        pats.append([r.randrange(alpha) for _ in range(m)])
    pats.append([0] * 12)
    pats.append([0, 1] * 8)
    body = "\n".join(f"{len(p)} {ints(p)}" for p in pats)
    return f"{n} {alpha} {seed}\n{len(pats)}\n{body}\n"


def gen_unionfind(r: random.Random) -> str:
    return "100000 150000 3 2024\n"


def gen_bfsgrid(r: random.Random) -> str:
    rows, cols = 200, 220
    grid = [[1 if r.random() < 0.28 else 0 for _ in range(cols)] for _ in range(rows)]
    starts = []
    for _ in range(8):
        sr, sc = r.randrange(rows), r.randrange(cols)
        grid[sr][sc] = 0
        starts.append((sr, sc))
    return (
        f"{rows} {cols}\n{matrix_rows(grid)}\n{len(starts)}\n"
        + "\n".join(f"{a} {b}" for a, b in starts)
        + "\n"
    )


def gen_smallsort(r: random.Random) -> str:
    return "12000 17\n"


def gen_prefix(r: random.Random) -> str:
    return "400 200000 5\n"


def gen_stencil(r: random.Random) -> str:
    return "128 50 500\n"


def gen_tailrec(r: random.Random) -> str:
    return "250 30000\n"


def gen_points(r: random.Random) -> str:
    n = 1200
    xs = [r.randrange(20000) for _ in range(n)]
    ys = [r.randrange(20000) for _ in range(n)]
    return f"{n}\n{ints(xs)}\n{n}\n{ints(ys)}\n"


def gen_spmv(r: random.Random) -> str:
    return "15000 8 25 99\n"


def gen_polyhash(r: random.Random) -> str:
    return "150000 7\n"


def gen_particles(r: random.Random) -> str:
    return "40 777\n"


# perf_vm's instruction set (the constants at the top of perf_vm.sy)
PUSH, LOAD, STORE, ADD, SUB, MUL, MOD, JNZ, JMP, HALT, DUP = range(11)
# vars[1] = sum over i = n..1 of i * i % 97
VM_SQUARES = [
    (PUSH, 0), (STORE, 1), (LOAD, 0), (LOAD, 0), (MUL, 0), (PUSH, 97), (MOD, 0), (LOAD, 1),
    (ADD, 0), (STORE, 1), (LOAD, 0), (PUSH, 1), (SUB, 0), (DUP, 0), (STORE, 0), (JNZ, 2),
    (LOAD, 1), (HALT, 0),
]  # fmt: skip
# the n-th Fibonacci number modulo 10007 (vars[1], vars[2] hold consecutive terms)
VM_FIBONACCI = [
    (PUSH, 0), (STORE, 1), (PUSH, 1), (STORE, 2), (LOAD, 1), (LOAD, 2), (ADD, 0),
    (PUSH, 10007), (MOD, 0), (LOAD, 2), (STORE, 1), (STORE, 2), (LOAD, 0), (PUSH, 1),
    (SUB, 0), (DUP, 0), (STORE, 0), (JNZ, 4), (LOAD, 1), (HALT, 0),
]  # fmt: skip


def gen_vm(r: random.Random) -> str:
    lines = ["2"]
    for program, runs in ((VM_SQUARES, [10000, 20000, 777]), (VM_FIBONACCI, [30000, 12345])):
        words = [w for instruction in program for w in instruction]
        lines.append(f"{len(words)} {ints(words)}")
        lines.append(f"{len(runs)} {ints(runs)}")
    return "\n".join(lines) + "\n"


def gen_sudoku(r: random.Random) -> str:
    """Puzzles made from a shuffled valid grid with 54 of its 81 cells blanked."""
    count, blanks = 12, 48
    base = [[(3 * (row % 3) + row // 3 + col) % 9 + 1 for col in range(9)] for row in range(9)]
    lines = [str(count)]
    for _ in range(count):
        digits = list(range(1, 10))
        r.shuffle(digits)
        grid = [[digits[v - 1] for v in row] for row in base]
        for _ in range(2):  # shuffle rows within bands, then columns within stacks
            for band in range(3):
                rows = grid[3 * band : 3 * band + 3]
                r.shuffle(rows)
                grid[3 * band : 3 * band + 3] = rows
            grid = [list(column) for column in zip(*grid, strict=True)]
        cells = [v for row in grid for v in row]
        for index in r.sample(range(81), blanks):
            cells[index] = 0
        lines.append(f"81 {ints(cells)}")
    return "\n".join(lines) + "\n"


GENERATORS = {name[len("gen_") :]: fn for name, fn in globals().items() if name.startswith("gen_")}


def main() -> None:
    for name, fn in sorted(GENERATORS.items()):
        text = fn(random.Random(zlib.crc32(name.encode())))
        path = HERE / f"perf_{name}.in"
        path.write_text(text)
        assert len(text) < 1_000_000, (path, len(text))
    missing = sorted(
        p.stem for p in HERE.glob("perf_*.sy") if p.stem[len("perf_") :] not in GENERATORS
    )
    if missing:
        raise SystemExit(f"no generator for {missing}")


if __name__ == "__main__":
    main()
