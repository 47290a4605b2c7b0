"""Generated performance programs: a few hot kernels between ``starttime()`` and
``stoptime()``, their work read from stdin, a checksum printed.

A program is two to four kernels of the catalogue (golden.generator._perf_kernels), each
with its own constants, loop shapes and helpers, on top of shared parts: the modulus, a
bounded random stream ``rnd`` that fills the data before the timer, and ``fold``, the
checksum. Every kernel's repetition count is read from stdin and sized so the program's
baseline count (the unchanged -O0 IR as T4 measures it) lands near a drawn total below the
built-in performance cases' median, so generated cases cost about what built-in ones do in
the golden build. The kernels are loop nests over memory with helper calls, where clang -O2
(registers, inlining, loop-invariant code motion) wins a few times over and cannot fold a
loop away: every value is reduced modulo a prime, so no loop has a closed form.
"""

from __future__ import annotations

import random

from golden.generator._perf_kernel import MOD_MAX, Kernel, KernelContext, fits
from golden.generator._perf_kernels import MAKERS
from golden.generator._program import GeneratedProgram, program_seed

__all__ = ["generate_performance"]

# Primes below MOD_MAX: the checksum modulus.
_MODULI = (9973, 10007, 19997, 20011, 30011, 32003, 32719, MOD_MAX)
# The random stream's moduli (primes); its multiplier keeps seed * A + C within int32.
_STREAM_MODULI = (7919, 32749, 65521)
# The program's baseline instruction count is drawn in this range (built-in median ~80M).
_TOTAL = (30_000_000, 60_000_000)
_ALWAYS = frozenset(
    {
        "hot_loop",
        "timer",
        "getint",
        "putint",
        "putch",
        "global_scalar",
        "function_call",
        "void_function",
        "comments",
        "comparison",
        "division_modulo",
        "const_scalar",
    }
)


def _kernels(rng: random.Random, mod: int) -> list[tuple[str, Kernel]]:
    """Two to four distinct kernels sharing the drawn total work at random weights, each
    with its name prefix."""
    total = rng.randint(*_TOTAL)
    kinds = rng.sample(sorted(MAKERS), rng.choice((2, 3, 3, 4)))
    weights = [rng.uniform(1.0, 3.0) for _ in kinds]
    made = []
    for number, (kind, weight) in enumerate(zip(kinds, weights, strict=True)):
        budget = round(total * weight / sum(weights))
        prefix = f"{kind}{number}_"
        made.append((prefix, MAKERS[kind](KernelContext(rng, prefix, mod, budget))))
    return made


def _shared(rng: random.Random, mod: int) -> tuple[str, int]:
    """The modulus, the random stream and the checksum; also the stream's first seed."""
    stream = rng.choice(_STREAM_MODULI)
    add = rng.randint(1, 9999)
    mul = rng.randint(2, min(40000, (2**31 - 1 - add) // stream))
    fold = rng.randint(3, 30000)
    assert fits(stream * mul, add) and fits(mod * fold, mod)
    text = f"""const int MOD = {mod};
int seed;
int check;

// the data stream: values in [0, m)
int rnd(int m) {{
  seed = (seed * {mul} + {add}) % {stream};
  return seed % m;
}}

// the checksum of every kernel's result (v >= 0)
void fold(int v) {{
  check = (check * {fold} + v % MOD) % MOD;
}}"""
    return text, rng.randint(1, stream - 1)


def _main(kernels: list[tuple[str, Kernel]], exit_mod: int) -> str:
    """``main``: read the seed and each kernel's parameters, fill, time the kernels, print."""
    lines = ["int main() {", "  seed = getint();"]
    for prefix, kernel in kernels:
        lines += [f"  int {prefix}n = getint();", f"  int {prefix}r = getint();"]
        lines += [f"  {block}" for block in kernel.setup]
    lines.append("  starttime();")
    lines += [f"  int res{i} = {k.call};\n  fold(res{i});" for i, (_, k) in enumerate(kernels)]
    lines.append("  stoptime();")
    for i in range(len(kernels)):
        lines += [f"  putint(res{i});", "  putch(32);"]
    lines += ["  putint(check);", "  putch(10);"]
    lines.append(f"  return check % {exit_mod};" if exit_mod else "  return 0;")
    lines.append("}")
    return "\n".join(lines)


def generate_performance(seed: int, index: int) -> GeneratedProgram:
    """Performance program ``index`` of the epoch seeded ``seed``: deterministic, so the same
    (seed, index) gives the same text and input in every process."""
    name = f"gen_p{index:04d}"
    rng = random.Random(program_seed(seed, "performance", index))
    mod = rng.choice(_MODULI)
    shared, first = _shared(rng, mod)
    kernels = _kernels(rng, mod)
    exit_mod = rng.choice((0, 0, 0, 100, 256))
    titles = ", ".join(k.title for _, k in kernels)
    parts = [
        f"// {name}: a generated performance program ({titles});\n"
        "// each kernel's size and repetitions are read from stdin.",
        shared,
        "\n".join(g for _, k in kernels for g in k.globals),
        *[f for _, k in kernels for f in k.functions],
        _main(kernels, exit_mod),
    ]
    source = "\n\n".join(parts) + "\n"
    values = [f"{first}"] + [" ".join(str(v) for v in k.inputs) for _, k in kernels]
    features = set(_ALWAYS).union(*(k.features for _, k in kernels))
    if exit_mod:
        features.add("exit_code")
    return GeneratedProgram(
        name=name,
        kind="performance",
        source=source,
        stdin="\n".join(values) + "\n",
        features=frozenset(features),
    )
