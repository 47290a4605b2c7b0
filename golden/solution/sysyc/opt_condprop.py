"""Dominating conditions: below the edge `br i1 %c, T, F` into a block with no other
predecessor, %c is known (true under T, false under F), so its uses there are folded."""

from __future__ import annotations

from sysyc.ir import Const, Function, Local, Value
from sysyc.ir_cfg import CFG, DomTree


def propagate_conditions(func: Function) -> bool:
    if not func.blocks:
        return False
    cfg = CFG.of(func)
    dom = DomTree.of(cfg)
    changed = False
    known: dict[str, Value] = {}
    stack: list[tuple[str, list[str] | None]] = [(cfg.entry, None)]
    while stack:
        label, undo = stack.pop()
        if undo is not None:
            for name in undo:
                del known[name]
            continue
        added: list[str] = []
        preds = cfg.preds[label]
        if len(preds) == 1:
            term = cfg.blocks[preds[0]].instrs[-1]
            if term.op == "br" and term.operands and term.targets[0] != term.targets[1]:
                cond = term.operands[0]
                if isinstance(cond, Local) and cond.name not in known:
                    known[cond.name] = Const("i1", 1 if term.targets[0] == label else 0)
                    added.append(cond.name)
        if known:
            for instr in cfg.blocks[label].instrs:
                if instr.op == "phi":
                    continue  # a phi's operands belong to its predecessors
                for i, value in enumerate(instr.operands):
                    if isinstance(value, Local) and value.name in known:
                        instr.operands[i] = known[value.name]
                        changed = True
        # phi operands arriving from this block can use what holds here
        if known:
            for succ in cfg.succs[label]:
                for instr in cfg.blocks[succ].instrs:
                    if instr.op != "phi":
                        break
                    instr.incoming = [
                        (known[v.name], lb)
                        if lb == label and isinstance(v, Local) and v.name in known
                        else (v, lb)
                        for v, lb in instr.incoming
                    ]
        stack.append((label, added))
        for child in reversed(dom.children[label]):
            stack.append((child, None))
    return changed
