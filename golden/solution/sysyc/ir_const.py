"""Integer arithmetic with LLVM semantics on constants (two's complement, fixed width)."""

from __future__ import annotations

SWAPPED_PRED = {
    "eq": "eq",
    "ne": "ne",
    "slt": "sgt",
    "sgt": "slt",
    "sle": "sge",
    "sge": "sle",
    "ult": "ugt",
    "ugt": "ult",
    "ule": "uge",
    "uge": "ule",
}
INVERSE_PRED = {
    "eq": "ne",
    "ne": "eq",
    "slt": "sge",
    "sge": "slt",
    "sgt": "sle",
    "sle": "sgt",
    "ult": "uge",
    "uge": "ult",
    "ugt": "ule",
    "ule": "ugt",
}
COMMUTATIVE = frozenset({"add", "mul", "and", "or", "xor"})


def bits_of(ty: str) -> int:
    """Width of an integer type ("i32" -> 32); pointers count as 64."""
    if ty == "ptr":
        return 64
    return int(ty[1:])


def wrap(value: int, bits: int) -> int:
    """value reduced to a signed `bits`-bit integer (i1 is 0 or 1)."""
    if bits == 1:
        return value & 1
    mask = (1 << bits) - 1
    value &= mask
    if value >> (bits - 1):
        value -= 1 << bits
    return value


def unsigned(value: int, bits: int) -> int:
    return value & ((1 << bits) - 1)


def signed(value: int, bits: int) -> int:
    """Signed reading (i1 true is -1 for signed comparisons)."""
    value &= (1 << bits) - 1
    if value >> (bits - 1):
        value -= 1 << bits
    return value


def fold_binary(op: str, a: int, b: int, bits: int) -> int | None:
    """a OP b, or None when the result is undefined (division by zero, overflowing sdiv,
    over-wide shift)."""
    if op == "add":
        return wrap(a + b, bits)
    if op == "sub":
        return wrap(a - b, bits)
    if op == "mul":
        return wrap(a * b, bits)
    if op == "and":
        return wrap(a & b, bits)
    if op == "or":
        return wrap(a | b, bits)
    if op == "xor":
        return wrap(a ^ b, bits)
    if op in ("sdiv", "srem"):
        sa, sb = signed(a, bits), signed(b, bits)
        if sb == 0 or (sb == -1 and sa == -(1 << (bits - 1))):
            return None
        quotient = abs(sa) // abs(sb)
        if (sa < 0) != (sb < 0):
            quotient = -quotient
        if op == "sdiv":
            return wrap(quotient, bits)
        return wrap(sa - quotient * sb, bits)
    if op in ("udiv", "urem"):
        ua, ub = unsigned(a, bits), unsigned(b, bits)
        if ub == 0:
            return None
        return wrap(ua // ub if op == "udiv" else ua % ub, bits)
    if op in ("shl", "lshr", "ashr"):
        shift = unsigned(b, bits)
        if shift >= bits:
            return None
        if op == "shl":
            return wrap(a << shift, bits)
        if op == "lshr":
            return wrap(unsigned(a, bits) >> shift, bits)
        return wrap(signed(a, bits) >> shift, bits)
    return None


def fold_icmp(pred: str, a: int, b: int, bits: int) -> bool:
    if pred == "eq":
        return unsigned(a, bits) == unsigned(b, bits)
    if pred == "ne":
        return unsigned(a, bits) != unsigned(b, bits)
    if pred[0] == "s":
        x, y = signed(a, bits), signed(b, bits)
    else:
        x, y = unsigned(a, bits), unsigned(b, bits)
    rel = pred[1:]
    if rel == "lt":
        return x < y
    if rel == "le":
        return x <= y
    if rel == "gt":
        return x > y
    return x >= y


def fold_cast(op: str, value: int, from_bits: int, to_bits: int) -> int | None:
    if op == "trunc":
        return wrap(value, to_bits)
    if op == "zext":
        return wrap(unsigned(value, from_bits), to_bits)
    if op == "sext":
        return wrap(signed(value, from_bits), to_bits)
    return None
