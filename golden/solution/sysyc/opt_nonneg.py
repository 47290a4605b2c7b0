"""Signed division by a positive constant of a value proven non-negative becomes unsigned
(cheaper: no rounding fix-up; powers of two become shifts and masks).

Non-negativity is an optimistic fixpoint over the SSA graph, so loop counters that start at
a non-negative value and grow by `add nsw` qualify."""

from __future__ import annotations

from collections.abc import Callable

from sysyc.ir import Const, Function, Instr, Local, Value

_DIVISIONS = {"sdiv": "udiv", "srem": "urem"}


def _positive_const(value: Value) -> bool:
    return isinstance(value, Const) and value.value > 0


def non_negative_values(func: Function) -> set[str]:
    """Names of the i32/i64 values that are never negative (assuming no signed overflow in
    `nsw` arithmetic, which would be undefined)."""
    defs: dict[str, Instr] = {}
    for block in func.blocks:
        for instr in block.instrs:
            if instr.result is not None and instr.ty in ("i32", "i64", "i8", "i16"):
                defs[instr.result] = instr
    candidates = {name for name, instr in defs.items() if _may_be_non_negative(instr)}

    def holds(value: Value) -> bool:
        if isinstance(value, Const):
            return value.value >= 0
        return isinstance(value, Local) and value.name in candidates

    changed = True
    while changed:
        changed = False
        for name in list(candidates):
            if not _rule(defs[name], holds):
                candidates.discard(name)
                changed = True
    return candidates


_RULED = frozenset(
    [
        "phi",
        "add",
        "mul",
        "shl",
        "sdiv",
        "srem",
        "udiv",
        "urem",
        "lshr",
        "ashr",
        "and",
        "or",
        "zext",
        "sext",
        "select",
    ]
)


def _may_be_non_negative(instr: Instr) -> bool:
    return instr.op in _RULED


def _rule(instr: Instr, holds: Callable[[Value], bool]) -> bool:
    op = instr.op
    ops = instr.operands
    if op == "phi":
        return all(holds(v) for v, _ in instr.incoming)
    if op in ("add", "mul"):
        return "nsw" in instr.flags and holds(ops[0]) and holds(ops[1])
    if op == "shl":
        return "nsw" in instr.flags and holds(ops[0])
    if op in ("sdiv", "srem"):
        return holds(ops[0]) and _positive_const(ops[1])
    if op in ("udiv", "urem"):
        return holds(ops[0])
    if op == "lshr":
        return _positive_const(ops[1]) or holds(ops[0])
    if op == "ashr":
        return holds(ops[0])
    if op == "and":
        return holds(ops[0]) or holds(ops[1])
    if op == "or":
        return holds(ops[0]) and holds(ops[1])
    if op == "zext":
        return True
    if op == "sext":
        return holds(ops[0])
    if op == "select":
        return holds(ops[1]) and holds(ops[2])
    return False


def unsign_divisions(func: Function) -> bool:
    """sdiv/srem of non-negative values by positive constants -> udiv/urem."""
    if not func.blocks:
        return False
    non_negative = non_negative_values(func)
    changed = False
    for block in func.blocks:
        for instr in block.instrs:
            if instr.op in _DIVISIONS and _positive_const(instr.operands[1]):
                x = instr.operands[0]
                if (isinstance(x, Const) and x.value >= 0) or (
                    isinstance(x, Local) and x.name in non_negative
                ):
                    instr.op = _DIVISIONS[instr.op]
                    instr.flags = frozenset()
                    changed = True
    return changed
