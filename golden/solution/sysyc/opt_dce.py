"""Dead code elimination by marking: instructions are live when they have side effects or
feed a live instruction; everything else (including dead phi cycles) is removed."""

from __future__ import annotations

from sysyc.ir import Function, Instr, Local

_SIDE_EFFECTS = frozenset({"store", "call", "br", "switch", "ret", "unreachable"})


def eliminate_dead_code(func: Function, pure_calls: frozenset[str] = frozenset()) -> bool:
    """Remove instructions whose results are unused; calls to `pure_calls` (functions with
    no side effects that always return) count as removable. True when anything changed."""
    if not func.blocks:
        return False
    defs: dict[str, Instr] = {}
    live: set[int] = set()
    work: list[Instr] = []
    for block in func.blocks:
        for instr in block.instrs:
            if instr.result is not None:
                defs[instr.result] = instr
            if instr.op in _SIDE_EFFECTS and not (
                instr.op == "call" and instr.callee in pure_calls and instr.result is not None
            ):
                live.add(id(instr))
                work.append(instr)
    while work:
        instr = work.pop()
        values = [v for v, _ in instr.incoming] if instr.incoming else instr.operands
        for v in values:
            if isinstance(v, Local):
                d = defs.get(v.name)
                if d is not None and id(d) not in live:
                    live.add(id(d))
                    work.append(d)
    changed = False
    for block in func.blocks:
        kept = [i for i in block.instrs if id(i) in live]
        if len(kept) != len(block.instrs):
            block.instrs = kept
            changed = True
    return changed
