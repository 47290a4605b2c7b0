"""Dominator-based value numbering (a GVN-lite): common pure expressions, redundant loads
and store-to-load forwarding, plus loads of constant globals folded to their value.

Memory facts flow from a block to the blocks it dominates; a fact is dropped when some
block between the dominator and the join point may write the location."""

from __future__ import annotations

from collections.abc import Hashable

from sysyc.ir import (
    BINARY_OPS,
    CAST_OPS,
    ArrayInit,
    Const,
    ConstGEP,
    Function,
    GlobalRef,
    GlobalVar,
    Instr,
    Local,
    Module,
    Value,
    ZeroInit,
    split_array_type,
    split_struct_type,
    type_size,
)
from sysyc.ir_alias import AliasInfo, ModRef
from sysyc.ir_cfg import CFG, DomTree, replace_uses
from sysyc.ir_const import COMMUTATIVE, SWAPPED_PRED

_PURE = BINARY_OPS | CAST_OPS | {"icmp", "select", "getelementptr"}
_REGION_LIMIT = 400


def _order_key(value: Value) -> tuple[int, str]:
    if isinstance(value, Local):
        return (0, value.name)
    if isinstance(value, Const):
        return (1, str(value.value))
    return (2, repr(value))


def _expression_key(instr: Instr) -> Hashable:
    ops = tuple(instr.operands)
    pred = instr.pred
    if instr.op in COMMUTATIVE or (instr.op == "icmp" and pred in ("eq", "ne")):
        if _order_key(ops[1]) < _order_key(ops[0]):
            ops = (ops[1], ops[0])
    elif instr.op == "icmp" and pred is not None and _order_key(ops[1]) < _order_key(ops[0]):
        ops = (ops[1], ops[0])
        pred = SWAPPED_PRED[pred]
    return (instr.op, instr.ty, pred, instr.alloc_ty, ops)


def constant_load(module_globals: dict[str, GlobalVar], ptr: Value, ty: str) -> Const | None:
    """The value a load of `ty` from a constant global at a constant address reads."""
    if isinstance(ptr, GlobalRef):
        name, offset = ptr.name, 0
    elif isinstance(ptr, ConstGEP):
        from sysyc.ir import gep_offset

        name = ptr.base.name
        offset = gep_offset(ptr.source_ty, [c.value for c in ptr.indices])
    else:
        return None
    g = module_globals.get(name)
    if g is None or not g.constant or g.init is None:
        return None
    return _element_at(g.init, g.ty, offset, ty)


def _element_at(init: Value, init_ty: str, offset: int, ty: str) -> Const | None:
    if offset < 0 or offset + type_size(ty) > type_size(init_ty):
        return None
    if isinstance(init, ZeroInit):
        return Const(ty, 0)
    if isinstance(init, Const):
        return init if offset == 0 and init.ty == ty else None
    if isinstance(init, ArrayInit):
        if init_ty.startswith("["):
            _, elem_ty = split_array_type(init_ty)
            size = type_size(elem_ty)
            index = offset // size
            if index >= len(init.elements):
                return None
            return _element_at(init.elements[index], elem_ty, offset - index * size, ty)
        start = 0
        for element, field_ty in zip(init.elements, split_struct_type(init_ty), strict=False):
            size = type_size(field_ty)
            if offset < start + size:
                return _element_at(element, field_ty, offset - start, ty)
            start += size
    return None


def _pointer_key(ptr: Value) -> Hashable:
    return ptr


_Entry = tuple[Value, Value, int]  # (known value, pointer, access size)
_Bucket = tuple[str, ...]  # ("unknown",) or (kind, base name)


class _Memory:
    """Known memory contents, bucketed by underlying object for fast invalidation."""

    def __init__(self, alias: AliasInfo) -> None:
        self.alias = alias
        self.buckets: dict[_Bucket, dict[Hashable, _Entry]] = {}

    def copy(self) -> _Memory:
        other = _Memory(self.alias)
        other.buckets = {b: dict(entries) for b, entries in self.buckets.items() if entries}
        return other

    def bucket_of(self, ptr: Value) -> _Bucket:
        info = self.alias.pointers.info(ptr)
        if info.kind == "unknown":
            return ("unknown",)
        return (info.kind, info.base)

    def get(self, key: Hashable, ptr: Value) -> _Entry | None:
        bucket = self.buckets.get(self.bucket_of(ptr))
        return bucket.get(key) if bucket else None

    def put(self, key: Hashable, entry: _Entry) -> None:
        self.buckets.setdefault(self.bucket_of(entry[1]), {})[key] = entry

    def candidate_buckets(self, ptr: Value) -> list[dict[Hashable, _Entry]]:
        """Buckets whose entries may alias ptr's object."""
        bucket = self.bucket_of(ptr)
        if bucket[0] != "unknown":
            found = [self.buckets[k] for k in (bucket, ("unknown",)) if k in self.buckets]
            if bucket[0] == "alloca" and bucket[1] not in self.alias.escaped:
                found = [b for b in found if b is not self.buckets.get(("unknown",))]
            return found
        return [
            entries
            for key, entries in self.buckets.items()
            if not (key[0] == "alloca" and key[1] not in self.alias.escaped)
        ]

    def clobber_store(self, ptr: Value, size: int) -> None:
        for entries in self.candidate_buckets(ptr):
            for key in [
                k for k, (_, p, s) in entries.items() if self.alias.may_alias(ptr, size, p, s)
            ]:
                del entries[key]

    def clobber_call(self, call: Instr) -> None:
        effects = self.alias.modref.summary(call.callee or "")
        if not (effects.writes_all or effects.writes_args or effects.writes_globals):
            return
        for entries in self.buckets.values():
            for key in [
                k for k, (_, p, s) in entries.items() if self.alias.call_may_write(call, p, s)
            ]:
                del entries[key]

    def clobber(self, instr: Instr) -> None:
        if instr.op == "store":
            self.clobber_store(instr.operands[1], type_size(instr.ty))
        else:
            self.clobber_call(instr)

    def empty(self) -> bool:
        return not any(self.buckets.values())


class _GVN:
    def __init__(self, func: Function, modref: ModRef, module_globals: dict[str, GlobalVar]):
        self.func = func
        self.alias = AliasInfo(func, modref)
        self.globals = module_globals
        self.cfg = CFG.of(func)
        self.dom = DomTree.of(self.cfg)
        self.writes: dict[str, list[Instr]] = {}
        for block in func.blocks:
            self.writes[block.label] = [i for i in block.instrs if i.op in ("store", "call")]
        self.replacement: dict[str, Value] = {}
        self.changed = False

    def resolve(self, value: Value) -> Value:
        while isinstance(value, Local) and value.name in self.replacement:
            value = self.replacement[value.name]
        return value

    def region(self, label: str) -> list[str] | None:
        """Blocks on paths from label's idom to label (excluding both); None if too many."""
        idom = self.dom.idom[label]
        seen: set[str] = set()
        work = [p for p in self.cfg.preds[label] if p != idom and p in self.dom.idom]
        while work:
            node = work.pop()
            if node in seen:
                continue
            seen.add(node)
            if len(seen) > _REGION_LIMIT:
                return None
            for pred in self.cfg.preds[node]:
                if pred != idom and pred not in seen and pred in self.dom.idom:
                    work.append(pred)
        return list(seen)

    def entry_memory(self, label: str, parent_state: _Memory) -> _Memory:
        preds = self.cfg.preds[label]
        state = parent_state.copy()
        if preds == [self.dom.idom[label]] or state.empty():
            return state
        blocks = self.region(label)
        if blocks is None:
            return _Memory(self.alias)
        for block in blocks:
            for write in self.writes[block]:
                state.clobber(write)
        return state

    def run(self) -> bool:
        table: dict[Hashable, Value] = {}
        exit_memory: dict[str, _Memory] = {}
        entry = self.cfg.entry
        stack: list[tuple[str, list[Hashable] | None]] = [(entry, None)]
        while stack:
            label, undo = stack.pop()
            if undo is not None:
                for key in undo:
                    del table[key]
                continue
            if label == entry:
                memory = _Memory(self.alias)
            else:
                memory = self.entry_memory(label, exit_memory[self.dom.idom[label]])
            added = self.visit(label, table, memory)
            exit_memory[label] = memory
            stack.append((label, added))
            for child in reversed(self.dom.children[label]):
                stack.append((child, None))
        replace_uses(self.func, self.replacement)
        return self.changed

    def visit(
        self,
        label: str,
        table: dict[Hashable, Value],
        memory: _Memory,
    ) -> list[Hashable]:
        block = self.cfg.blocks[label]
        added: list[Hashable] = []
        kept: list[Instr] = []
        for instr in block.instrs:
            if self.replacement:
                if instr.operands:
                    instr.operands = [self.resolve(v) for v in instr.operands]
                if instr.incoming:
                    instr.incoming = [(self.resolve(v), lb) for v, lb in instr.incoming]
            op = instr.op
            if op in _PURE and instr.result is not None:
                key = _expression_key(instr)
                found = table.get(key)
                if found is not None:
                    self.replacement[instr.result] = found
                    self.changed = True
                    continue
                table[key] = Local(instr.ty if op != "icmp" else "i1", instr.result)
                if op == "getelementptr":
                    table[key] = Local("ptr", instr.result)
                added.append(key)
            elif op == "phi" and instr.result is not None:
                key = ("phi", label, instr.ty, tuple(sorted(instr.incoming, key=lambda x: x[1])))
                found = table.get(key)
                if found is not None:
                    self.replacement[instr.result] = found
                    self.changed = True
                    continue
                table[key] = Local(instr.ty, instr.result)
                added.append(key)
            elif op == "load" and instr.result is not None:
                ptr = instr.operands[0]
                const = constant_load(self.globals, ptr, instr.ty)
                if const is not None:
                    self.replacement[instr.result] = const
                    self.changed = True
                    continue
                mkey = (instr.ty, _pointer_key(ptr))
                hit = memory.get(mkey, ptr)
                if hit is not None:
                    self.replacement[instr.result] = hit[0]
                    self.changed = True
                    continue
                memory.put(mkey, (Local(instr.ty, instr.result), ptr, type_size(instr.ty)))
            elif op == "store":
                value, ptr = instr.operands
                size = type_size(instr.ty)
                mkey = (instr.ty, _pointer_key(ptr))
                hit = memory.get(mkey, ptr)
                if hit is not None and hit[0] == value:
                    # storing back the value already there
                    self.changed = True
                    continue
                memory.clobber_store(ptr, size)
                memory.put(mkey, (value, ptr, size))
            elif op == "call":
                memory.clobber_call(instr)
            kept.append(instr)
        block.instrs = kept
        return added


def value_numbering(func: Function, modref: ModRef, module: Module) -> bool:
    """Run GVN-lite on one function; True when anything changed."""
    if not func.blocks:
        return False
    return _GVN(func, modref, modref.globals_by_name).run()


def fold_constant_loads(func: Function, module_globals: dict[str, GlobalVar]) -> bool:
    """Replace loads of constant globals at constant addresses by the value loaded."""
    if not module_globals or not func.blocks:
        return False
    replacement: dict[str, Value] = {}
    for block in func.blocks:
        kept: list[Instr] = []
        for instr in block.instrs:
            if instr.op == "load" and instr.result is not None:
                value = constant_load(module_globals, instr.operands[0], instr.ty)
                if value is not None:
                    replacement[instr.result] = value
                    continue
            kept.append(instr)
        block.instrs = kept
    replace_uses(func, replacement)
    return bool(replacement)
