"""Expressions of the functional generator as text with a proven value interval.

Every generated expression carries the interval its value lies in, computed exactly from
its operands (interval arithmetic over Python ints). The generator only builds an operator
when the result interval stays inside ``±LIMIT`` (well within int32), only divides by an
operand whose interval excludes zero, and only indexes with an operand whose interval lies
inside the dimension: undefined behaviour is ruled out by construction, not by filtering.
The text is printed with the fewest parentheses C's precedence allows, so a compiler that
gets precedence or associativity wrong prints a different result.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ATOM",
    "LIMIT",
    "E",
    "binary",
    "fit",
    "join_feats",
    "lit",
    "lnot",
    "neg",
    "tdiv",
]

# Bound of every intermediate value: half of int32, so a sum of two bounded values fits.
LIMIT = 1 << 30
ATOM, UNARY, MUL, ADD = 100, 90, 80, 70
_PREC = {"*": MUL, "/": MUL, "%": MUL, "+": ADD, "-": ADD}


@dataclass(frozen=True)
class E:
    """An expression: its text, the interval of its value, its precedence (ATOM for a
    primary) and the feature names its text shows."""

    text: str
    lo: int
    hi: int
    prec: int = ATOM
    feats: tuple[str, ...] = ()


def join_feats(*parts: E, extra: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The features of several expressions, without repeats, in first-seen order."""
    seen: list[str] = []
    for name in [f for part in parts for f in part.feats] + list(extra):
        if name not in seen:
            seen.append(name)
    return tuple(seen)


def lit(value: int, style: str = "dec") -> E:
    """A non-negative literal in decimal, hexadecimal or octal (negative values are built
    with unary minus, as SysY has no negative literals)."""
    assert 0 <= value <= LIMIT
    if style == "hex" and value > 9:
        return E(
            hex(value) if value % 2 else "0X" + format(value, "x"),
            value,
            value,
            ATOM,
            ("hex_octal_literal",),
        )
    if style == "oct" and value > 7:
        return E("0" + format(value, "o"), value, value, ATOM, ("hex_octal_literal",))
    return E(str(value), value, value)


def _wrap(e: E, minimum: int) -> str:
    return e.text if e.prec >= minimum else f"({e.text})"


def neg(e: E) -> E:
    """``-e``: the interval mirrored."""
    return E("-" + _wrap(e, ATOM), -e.hi, -e.lo, UNARY, join_feats(e, extra=("unary_minus",)))


def lnot(e: E) -> E:
    """``!e``: 1 when e is zero, else 0 (exact when e's interval decides it)."""
    lo, hi = (0, 1)
    if e.lo > 0 or e.hi < 0:
        lo, hi = 0, 0
    elif e.lo == e.hi == 0:
        lo, hi = 1, 1
    return E("!" + _wrap(e, ATOM), lo, hi, UNARY, join_feats(e, extra=("logical_not",)))


def tdiv(x: int, y: int) -> int:
    """C division: truncates toward zero."""
    q = abs(x) // abs(y)
    return q if (x >= 0) == (y > 0) else -q


def _interval(op: str, a: E, b: E) -> tuple[int, int]:
    if op == "+":
        return a.lo + b.lo, a.hi + b.hi
    if op == "-":
        return a.lo - b.hi, a.hi - b.lo
    if op == "*":
        corners = [a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi]
        return min(corners), max(corners)
    assert b.lo >= 1, "divisor interval must exclude zero"
    if a.lo == a.hi and b.lo == b.hi:  # constants: the exact C value
        q = tdiv(a.lo, b.lo)
        value = q if op == "/" else a.lo - q * b.lo
        return value, value
    if op == "/":
        return min(tdiv(a.lo, b.lo), tdiv(a.lo, b.hi)), max(tdiv(a.hi, b.lo), tdiv(a.hi, b.hi))
    lo = 0 if a.lo >= 0 else max(a.lo, -(b.hi - 1))
    hi = 0 if a.hi <= 0 else min(a.hi, b.hi - 1)
    return lo, hi


def binary(op: str, a: E, b: E) -> E:
    """``a op b`` for + - * / % (a divisor must be provably positive); the caller keeps the
    operands small enough that the result stays within ``±LIMIT``."""
    lo, hi = _interval(op, a, b)
    assert lo >= -LIMIT and hi <= LIMIT, f"{a.text} {op} {b.text} may leave the bound"
    prec = _PREC[op]
    extra: tuple[str, ...] = ()
    if op in "/%":
        extra = ("division_modulo", "negative_division") if a.lo < 0 else ("division_modulo",)
    text = f"{_wrap(a, prec)} {op} {_wrap(b, prec + 1)}"
    return E(text, lo, hi, prec, join_feats(a, b, extra=extra))


def fit(e: E, lo: int, hi: int) -> E:
    """``e`` reduced into ``[lo, hi]``, which is symmetric (``[-R, R]``) or starts at zero
    (``[0, R]``): ``e % (R + 1)``, or ``(e % m + m) % m`` for a possibly negative ``e``."""
    if lo <= e.lo and e.hi <= hi:
        return e
    modulus = lit(hi + 1)
    if lo == -hi:
        return binary("%", e, modulus)
    assert lo == 0, f"fit needs a symmetric or zero-based interval, not [{lo}, {hi}]"
    inner = binary("%", e, modulus)
    if inner.lo >= 0:
        return inner
    return binary("%", binary("+", inner, modulus), modulus)
