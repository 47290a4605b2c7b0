"""What one kernel of a generated performance program is made of, and what it is given.

A performance program (golden.generator._performance) is a few kernels run one after the
other between ``starttime()`` and ``stoptime()``. Each kernel is self-contained: its own
globals and functions (every name starts with the kernel's prefix), a few ``main`` lines
before the timer that read its work parameters from stdin and fill its data, and one timed
call whose result the program folds into its checksum. The program supplies the shared
parts every kernel may use: the modulus ``MOD`` (a prime below 32768, so the product of two
reduced values plus a few more stays within int32), ``rnd(m)`` (a bounded linear
congruential stream, values in [0, m)) and ``fold(v)`` (the checksum, for v >= 0).

Values are kept non-negative and below ``MOD`` by construction, so every expression's bound
is a product of known constants: the makers pick their constants from ranges whose worst
case stays below 2**31 (see :func:`fits`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["INT_MAX", "MOD_MAX", "Kernel", "KernelContext", "fits", "reps_for"]

INT_MAX = 2**31 - 1
# The largest modulus a program may choose: two reduced values multiplied, plus a reduced
# value, plus a small counter, stay below INT_MAX.
MOD_MAX = 32749


@dataclass(frozen=True)
class KernelContext:
    """What a kernel maker is given: the program's random stream (the only randomness),
    the kernel's name prefix, the modulus and its share of the program's work, in baseline
    (unchanged -O0 IR) instructions."""

    rng: random.Random
    prefix: str
    mod: int
    budget: int


@dataclass(frozen=True)
class Kernel:
    """One kernel's text and inputs. ``setup`` lines run in ``main`` before the timer and
    read ``inputs`` (in order) with getint; ``call`` is the timed expression, an int in
    [0, MOD); ``features`` are the FEATURES names its text uses."""

    title: str
    globals: tuple[str, ...]
    functions: tuple[str, ...]
    setup: tuple[str, ...]
    call: str
    inputs: tuple[int, ...]
    features: frozenset[str]


def fits(*bounds: int) -> bool:
    """Whether a sum of non-negative terms with these upper bounds stays within int32."""
    return sum(bounds) <= INT_MAX


def reps_for(budget: int, cost_per_rep: int, most: int = 100_000) -> int:
    """How many repetitions of ``cost_per_rep`` baseline instructions fill ``budget``."""
    return max(1, min(most, round(budget / max(1, cost_per_rep))))
