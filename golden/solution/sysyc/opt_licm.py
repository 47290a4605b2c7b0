"""Loop-invariant code motion: give every loop a preheader, then hoist pure instructions
with loop-invariant operands, and loads no store or call in the loop may clobber, into
it (innermost loops first)."""

from __future__ import annotations

from sysyc.ir import (
    CAST_OPS,
    SPECULATABLE_OPS,
    Const,
    Function,
    GlobalRef,
    Instr,
    Local,
    Module,
    Value,
    type_size,
)
from sysyc.ir_alias import AliasInfo, ModRef
from sysyc.ir_cfg import CFG, DomTree, Loop, NameGen, ensure_preheader, natural_loops

_HOISTABLE = SPECULATABLE_OPS | CAST_OPS


def _divisor_safe(instr: Instr) -> bool:
    divisor = instr.operands[1]
    if not isinstance(divisor, Const) or divisor.value == 0:
        return False
    return instr.op in ("udiv", "urem") or divisor.value != -1


class _LICM:
    def __init__(self, func: Function, modref: ModRef, module: Module) -> None:
        self.func = func
        self.alias = AliasInfo(func, modref)
        self.global_types = modref.global_types
        self.alloca_sizes: dict[str, int] = {}
        for block in func.blocks:
            for instr in block.instrs:
                if instr.op == "alloca" and instr.result is not None and not instr.operands:
                    self.alloca_sizes[instr.result] = type_size(instr.alloc_ty or "i8")

    def dereferenceable(self, ptr: Value, size: int) -> bool:
        if isinstance(ptr, GlobalRef):
            return ptr.name in self.global_types
        info = self.alias.pointers.info(ptr)
        if info.offset is None or info.offset < 0:
            return False
        if info.kind == "global":
            ty = self.global_types.get(info.base)
            total = type_size(ty) if ty is not None else None
        elif info.kind == "alloca":
            total = self.alloca_sizes.get(info.base)
        else:
            return False
        return total is not None and info.offset + size <= total

    def run(self) -> bool:
        cfg = CFG.of(self.func)
        dom = DomTree.of(cfg)
        loops = natural_loops(cfg, dom)
        fresh = NameGen(self.func)
        created = False
        for loop in loops:
            if ensure_preheader(self.func, cfg, loop, fresh):
                created = True
                cfg = CFG.of(self.func)
        if created:
            dom = DomTree.of(cfg)
            loops = natural_loops(cfg, dom)
            self.alias = AliasInfo(self.func, self.alias.modref)
        changed = created
        for loop in loops:
            if self.hoist(loop, cfg, dom):
                changed = True
        return changed

    def hoist(self, loop: Loop, cfg: CFG, dom: DomTree) -> bool:
        outside = [p for p in cfg.preds[loop.header] if p not in loop.body]
        if len(outside) != 1:
            return False
        preheader = cfg.blocks[outside[0]]
        if cfg.succs[preheader.label] != [loop.header]:
            return False
        body = [label for label in dom.order if label in loop.body]
        defined: set[str] = set()
        writes: list[Instr] = []
        for label in body:
            for instr in cfg.blocks[label].instrs:
                if instr.result is not None:
                    defined.add(instr.result)
                if instr.op in ("store", "call"):
                    writes.append(instr)
        exiting = loop.exiting(cfg)
        hoisted: list[Instr] = []
        progress = True
        while progress:
            progress = False
            for label in body:
                block = cfg.blocks[label]
                kept: list[Instr] = []
                for instr in block.instrs:
                    if self.can_hoist(instr, defined, writes, label, exiting, dom):
                        hoisted.append(instr)
                        assert instr.result is not None
                        defined.discard(instr.result)
                        progress = True
                    else:
                        kept.append(instr)
                block.instrs = kept
        if not hoisted:
            return False
        preheader.instrs[-1:-1] = hoisted
        return True

    def can_hoist(
        self,
        instr: Instr,
        defined: set[str],
        writes: list[Instr],
        label: str,
        exiting: list[str],
        dom: DomTree,
    ) -> bool:
        op = instr.op
        if instr.result is None:
            return False
        for value in instr.operands:
            if isinstance(value, Local) and value.name in defined:
                return False
        if op in _HOISTABLE:
            return True
        if op in ("sdiv", "srem", "udiv", "urem"):
            return _divisor_safe(instr)
        if op == "load":
            ptr = instr.operands[0]
            size = type_size(instr.ty)
            if any(self.alias.instr_may_write(w, ptr, size) for w in writes):
                return False
            if self.dereferenceable(ptr, size):
                return True
            return all(dom.dominates(label, e) for e in exiting)
        return False


def hoist_loop_invariants(func: Function, modref: ModRef, module: Module) -> bool:
    """Run LICM on one function; True when anything changed."""
    if not func.blocks:
        return False
    return _LICM(func, modref, module).run()
