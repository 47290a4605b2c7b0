"""Constant folding and instruction simplification (an instcombine-lite): folds
instructions with constant operands, applies algebraic identities, canonicalises constant
operands to the right and cleans up the i1/i32 round trips clang -O0 emits for conditions."""

from __future__ import annotations

from sysyc.ir import (
    BINARY_OPS,
    Const,
    ConstGEP,
    Function,
    GlobalRef,
    Instr,
    Local,
    Undef,
    Value,
    fold_nested_gep,
)
from sysyc.ir_cfg import CFG, replace_uses
from sysyc.ir_const import (
    COMMUTATIVE,
    INVERSE_PRED,
    SWAPPED_PRED,
    bits_of,
    fold_binary,
    fold_cast,
    fold_icmp,
    wrap,
)


def _const(value: Value) -> int | None:
    return value.value if isinstance(value, Const) else None


def _same(a: Value, b: Value) -> bool:
    return a == b and isinstance(a, (Local, Const))


class _Simplifier:
    def __init__(self, func: Function) -> None:
        self.func = func
        self.defs: dict[str, Instr] = {}
        for block in func.blocks:
            for instr in block.instrs:
                if instr.result is not None:
                    self.defs[instr.result] = instr

    def def_of(self, value: Value) -> Instr | None:
        if isinstance(value, Local):
            return self.defs.get(value.name)
        return None

    def simplify(self, instr: Instr) -> Value | None:
        """A value to replace instr with, or None (instr may be rewritten in place)."""
        op = instr.op
        ops = instr.operands
        if op in BINARY_OPS:
            return self.simplify_binary(instr)
        if op == "icmp":
            return self.simplify_icmp(instr)
        if op in ("trunc", "zext", "sext"):
            x = ops[0]
            c = _const(x)
            if c is not None:
                folded = fold_cast(op, c, bits_of(x.ty), bits_of(instr.ty))
                if folded is not None:
                    return Const(instr.ty, folded)
            if isinstance(x, Undef):
                return Undef(instr.ty)
            inner = self.def_of(x)
            if inner is not None and op == "trunc" and inner.op in ("zext", "sext"):
                src = inner.operands[0]
                if src.ty == instr.ty:
                    return src
            if inner is not None and op in ("zext", "sext") and inner.op == op:
                instr.operands = [inner.operands[0]]
                instr.flags = frozenset()
            return None
        if op == "select":
            cond, a, b = ops
            c = _const(cond)
            if c is not None:
                return a if c else b
            if _same(a, b):
                return a
            if instr.ty == "i1" and _const(a) == 1 and _const(b) == 0:
                return cond
            return None
        if op == "phi":
            return self.simplify_phi(instr)
        if op == "freeze":
            x = ops[0]
            if isinstance(x, Const):
                return x
            return None
        if op == "getelementptr":
            if len(ops) == 2 and _const(ops[1]) == 0:
                return ops[0]
            indices = ops[1:]
            if all(isinstance(i, Const) for i in indices):
                consts = tuple(i for i in indices if isinstance(i, Const))
                base = ops[0]
                inbounds = "inbounds" in instr.flags
                if isinstance(base, GlobalRef):
                    return ConstGEP(instr.alloc_ty or "i8", base, consts, inbounds)
                if isinstance(base, ConstGEP):
                    return fold_nested_gep(base, instr.alloc_ty or "i8", list(consts), inbounds)
            return None
        return None

    def simplify_phi(self, instr: Instr) -> Value | None:
        first: Value | None = None
        self_ref = Local(instr.ty, instr.result or "")
        has_undef = False
        for value, _ in instr.incoming:
            if value == self_ref:
                continue
            if isinstance(value, Undef):
                has_undef = True
                continue
            if first is None:
                first = value
            elif value != first:
                return None
        if first is None:
            return Undef(instr.ty)
        if has_undef and isinstance(first, Local):
            # undef may only be replaced by a value that dominates the phi; constants do
            return None
        return first

    def simplify_binary(self, instr: Instr) -> Value | None:
        op = instr.op
        a, b = instr.operands
        ty = instr.ty
        bits = bits_of(ty)
        ca, cb = _const(a), _const(b)
        if ca is not None and cb is not None:
            folded = fold_binary(op, ca, cb, bits)
            if folded is not None:
                return Const(ty, folded)
            return None
        if op in COMMUTATIVE and ca is not None:
            instr.operands = [b, a]
            a, b, ca, cb = b, a, cb, ca
        if cb is not None:
            if cb == 0 and op in ("add", "sub", "or", "xor", "shl", "lshr", "ashr"):
                return a
            if cb == 0 and op in ("mul", "and"):
                return Const(ty, 0)
            if cb == 1 and op in ("mul", "sdiv", "udiv"):
                return a
            if cb == 1 and op in ("srem", "urem"):
                return Const(ty, 0)
            if wrap(cb, bits) == wrap(-1, bits) and op == "and":
                return a
            if wrap(cb, bits) == wrap(-1, bits) and op == "or":
                return Const(ty, wrap(-1, bits))
            if op == "sub" and bits > 1:
                # x - c  ->  x + (-c): one canonical form for CSE and folding
                instr.op = "add"
                instr.operands = [a, Const(ty, wrap(-cb, bits))]
                if wrap(cb, bits) == wrap(1 << (bits - 1), bits):
                    instr.flags = frozenset()
                else:
                    instr.flags = instr.flags & {"nsw"}
                return self.simplify_binary(instr)
            if op == "add":
                inner = self.def_of(a)
                if (
                    inner is not None
                    and inner.op == "add"
                    and _const(inner.operands[1]) is not None
                ):
                    c2 = _const(inner.operands[1])
                    assert c2 is not None
                    total = c2 + cb
                    instr.operands = [inner.operands[0], Const(ty, wrap(total, bits))]
                    # both steps exact means x + c2 + c is representable: one step is too
                    keep = (
                        "nsw" in instr.flags and "nsw" in inner.flags and wrap(total, bits) == total
                    )
                    instr.flags = frozenset({"nsw"}) if keep else frozenset()
                    return self.simplify_binary(instr)
            if op == "xor" and ty == "i1" and cb == 1:
                inner = self.def_of(a)
                if (
                    inner is not None
                    and inner.op == "xor"
                    and inner.ty == "i1"
                    and _const(inner.operands[1]) == 1
                ):
                    return inner.operands[0]
                if inner is not None and inner.op == "icmp":
                    instr.op = "icmp"
                    instr.ty = inner.ty
                    instr.pred = INVERSE_PRED[inner.pred or "eq"]
                    instr.operands = list(inner.operands)
                    instr.flags = frozenset()
                    return None
            if op == "mul" and cb > 0 and cb & (cb - 1) == 0:
                instr.op = "shl"
                instr.operands = [a, Const(ty, cb.bit_length() - 1)]
                instr.flags = instr.flags & {"nsw", "nuw"}
                return None
            return None
        if ca == 0 and op in ("shl", "lshr", "ashr", "sdiv", "udiv", "srem", "urem"):
            return Const(ty, 0)
        if _same(a, b):
            if op in ("sub", "xor"):
                return Const(ty, 0)
            if op in ("and", "or"):
                return a
        return None

    def simplify_icmp(self, instr: Instr) -> Value | None:
        a, b = instr.operands
        pred = instr.pred or "eq"
        bits = bits_of(instr.ty)
        ca, cb = _const(a), _const(b)
        if ca is not None and cb is not None:
            return Const("i1", int(fold_icmp(pred, ca, cb, bits)))
        if _same(a, b):
            return Const("i1", int(pred in ("eq", "sle", "sge", "ule", "uge")))
        if ca is not None:
            instr.operands = [b, a]
            instr.pred = pred = SWAPPED_PRED[pred]
            a, b, ca, cb = b, a, cb, ca
        if cb is not None and pred in ("eq", "ne"):
            inner = self.def_of(a)
            if inner is not None and inner.op == "zext" and inner.operands[0].ty == "i1":
                cond = inner.operands[0]
                if (cb == 0 and pred == "ne") or (cb == 1 and pred == "eq"):
                    return cond
                if (cb == 0 and pred == "eq") or (cb == 1 and pred == "ne"):
                    cond_def = self.def_of(cond)
                    if cond_def is not None and cond_def.op == "icmp":
                        instr.pred = INVERSE_PRED[cond_def.pred or "eq"]
                        instr.ty = cond_def.ty
                        instr.operands = list(cond_def.operands)
                        return None
                    instr.op = "xor"
                    instr.ty = "i1"
                    instr.pred = None
                    instr.operands = [cond, Const("i1", 1)]
                    return None
                return Const("i1", int(pred == "ne"))
            if instr.ty == "i1" and ((cb == 1 and pred == "eq") or (cb == 0 and pred == "ne")):
                return a
        return None


def simplify_instructions(func: Function) -> bool:
    """Fold and simplify to a fixpoint; True when anything changed."""
    if not func.blocks:
        return False
    changed = False
    order = CFG.of(func).reverse_postorder()
    blocks = {b.label: b for b in func.blocks}
    for _ in range(8):
        simplifier = _Simplifier(func)
        replacement: dict[str, Value] = {}

        def resolve(value: Value, replacement: dict[str, Value] = replacement) -> Value:
            while isinstance(value, Local) and value.name in replacement:
                value = replacement[value.name]
            return value

        round_changed = False
        for label in order:
            block = blocks[label]
            kept: list[Instr] = []
            for instr in block.instrs:
                if replacement:
                    if instr.operands:
                        instr.operands = [resolve(v) for v in instr.operands]
                    if instr.incoming:
                        instr.incoming = [(resolve(v), lb) for v, lb in instr.incoming]
                if instr.result is not None:
                    before = (instr.op, instr.pred, tuple(instr.operands))
                    value = simplifier.simplify(instr)
                    if value is not None:
                        replacement[instr.result] = value
                        round_changed = True
                        continue
                    if (instr.op, instr.pred, tuple(instr.operands)) != before:
                        round_changed = True
                elif instr.op == "br" and instr.operands:
                    cond_def = simplifier.def_of(instr.operands[0])
                    if (
                        cond_def is not None
                        and cond_def.op == "xor"
                        and cond_def.ty == "i1"
                        and _const(cond_def.operands[1]) == 1
                    ):
                        instr.operands = [cond_def.operands[0]]
                        instr.targets = [instr.targets[1], instr.targets[0]]
                        round_changed = True
                kept.append(instr)
            block.instrs = kept
        replace_uses(func, replacement)
        if not round_changed:
            break
        changed = True
    return changed
