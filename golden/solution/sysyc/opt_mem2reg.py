"""mem2reg: promote scalar allocas that are only loaded and stored into SSA values, with
phi nodes placed on the iterated dominance frontier of the stores (pruned by liveness)."""

from __future__ import annotations

from sysyc.ir import Function, Instr, Local, Undef, Value
from sysyc.ir_cfg import CFG, DomTree, NameGen, dominance_frontiers, replace_uses

_SCALARS = frozenset({"i1", "i8", "i16", "i32", "i64", "ptr"})


def _promotable(func: Function) -> dict[str, str]:
    """Allocas (name -> type) whose every use is a load from / store to the whole slot."""
    candidates: dict[str, str] = {}
    for block in func.blocks:
        for instr in block.instrs:
            if (
                instr.op == "alloca"
                and instr.result is not None
                and not instr.operands
                and instr.alloc_ty in _SCALARS
            ):
                candidates[instr.result] = instr.alloc_ty
    if not candidates:
        return candidates
    for block in func.blocks:
        for instr in block.instrs:
            if instr.op == "load":
                ptr = instr.operands[0]
                if (
                    isinstance(ptr, Local)
                    and ptr.name in candidates
                    and instr.ty != candidates[ptr.name]
                ):
                    del candidates[ptr.name]
                continue
            if instr.op == "store":
                value, ptr = instr.operands
                if isinstance(value, Local) and value.name in candidates:
                    del candidates[value.name]
                if (
                    isinstance(ptr, Local)
                    and ptr.name in candidates
                    and instr.ty != candidates[ptr.name]
                ):
                    del candidates[ptr.name]
                continue
            uses = instr.operands if not instr.incoming else [v for v, _ in instr.incoming]
            for v in uses:
                if isinstance(v, Local) and v.name in candidates:
                    del candidates[v.name]
    return candidates


def promote_allocas(func: Function) -> bool:
    """Run mem2reg on one function; True when something was promoted."""
    if not func.blocks:
        return False
    slots = _promotable(func)
    if not slots:
        return False
    cfg = CFG.of(func)
    dom = DomTree.of(cfg)
    frontiers = dominance_frontiers(cfg, dom)
    fresh = NameGen(func)

    # blocks storing to / loading before storing to each slot
    def_blocks: dict[str, set[str]] = {s: set() for s in slots}
    upward_use: dict[str, set[str]] = {s: set() for s in slots}
    for block in func.blocks:
        stored: set[str] = set()
        for instr in block.instrs:
            if instr.op == "store":
                ptr = instr.operands[1]
                if isinstance(ptr, Local) and ptr.name in slots:
                    def_blocks[ptr.name].add(block.label)
                    stored.add(ptr.name)
            elif instr.op == "load":
                ptr = instr.operands[0]
                if isinstance(ptr, Local) and ptr.name in slots and ptr.name not in stored:
                    upward_use[ptr.name].add(block.label)

    # liveness of each slot at block entry (for pruned phi placement)
    phi_slot: dict[int, str] = {}  # id(phi instr) -> slot
    new_phis: dict[str, list[Instr]] = {}
    for slot, ty in slots.items():
        live_in = _live_in_blocks(cfg, upward_use[slot], def_blocks[slot])
        work = list(def_blocks[slot])
        placed: set[str] = set()
        while work:
            label = work.pop()
            for front in frontiers.get(label, ()):
                if front in placed or front not in live_in:
                    continue
                placed.add(front)
                phi = Instr("phi", fresh(), ty)
                phi_slot[id(phi)] = slot
                new_phis.setdefault(front, []).append(phi)
                if front not in def_blocks[slot]:
                    work.append(front)

    for label, block_phis in new_phis.items():
        cfg.blocks[label].instrs[0:0] = block_phis

    # renaming along the dominator tree
    replacement: dict[str, Value] = {}
    current: dict[str, Value] = {s: Undef(t) for s, t in slots.items()}
    stack: list[tuple[str, dict[str, Value] | None]] = [(cfg.entry, None)]
    while stack:
        label, saved = stack.pop()
        if saved is not None:
            current = saved
            continue
        block = cfg.blocks[label]
        entry_state = dict(current)
        kept: list[Instr] = []
        for instr in block.instrs:
            if instr.op == "phi" and id(instr) in phi_slot:
                assert instr.result is not None
                current[phi_slot[id(instr)]] = Local(instr.ty, instr.result)
                kept.append(instr)
                continue
            if instr.op == "load":
                ptr = instr.operands[0]
                if isinstance(ptr, Local) and ptr.name in slots:
                    assert instr.result is not None
                    replacement[instr.result] = current[ptr.name]
                    continue
            elif instr.op == "store":
                ptr = instr.operands[1]
                if isinstance(ptr, Local) and ptr.name in slots:
                    current[ptr.name] = instr.operands[0]
                    continue
            elif instr.op == "alloca" and instr.result in slots:
                continue
            kept.append(instr)
        block.instrs = kept
        for succ in cfg.succs[label]:
            for phi in new_phis.get(succ, ()):
                phi.incoming.append((current[phi_slot[id(phi)]], label))
        stack.append((label, entry_state))
        for child in reversed(dom.children[label]):
            stack.append((child, None))

    # unreachable blocks may still mention promoted slots: drop those accesses
    reachable = dom.idom
    for block in func.blocks:
        if block.label in reachable:
            continue
        kept = []
        for instr in block.instrs:
            if instr.op == "load" and _is_slot(instr.operands[0], slots):
                assert instr.result is not None
                replacement[instr.result] = Undef(instr.ty)
                continue
            if instr.op == "store" and _is_slot(instr.operands[1], slots):
                continue
            kept.append(instr)
        block.instrs = kept
    replace_uses(func, replacement)
    return True


def _is_slot(value: Value, slots: dict[str, str]) -> bool:
    return isinstance(value, Local) and value.name in slots


def _live_in_blocks(cfg: CFG, uses: set[str], defs: set[str]) -> set[str]:
    """Blocks at whose entry the slot is live (backward from upward-exposed loads)."""
    live = set(uses)
    work = list(uses)
    while work:
        label = work.pop()
        for pred in cfg.preds[label]:
            if pred in live or pred in defs:
                continue
            live.add(pred)
            work.append(pred)
    return live
