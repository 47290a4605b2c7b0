"""Full unrolling of small rotated loops whose trip count is a compile-time constant
(the induction variable starts, steps and is compared against constants)."""

from __future__ import annotations

from sysyc.ir import Block, Const, Function, Instr, Local, Value
from sysyc.ir_cfg import (
    CFG,
    DomTree,
    Loop,
    NameGen,
    copy_loop_iteration,
    lookup,
    natural_loops,
    phis,
)
from sysyc.ir_const import bits_of, fold_binary, fold_icmp

MAX_TRIPS = 32
MAX_UNROLLED_SIZE = 1200  # instructions added per loop
MAX_FUNCTION_GROWTH = 6000


def _trip_count(loop: Loop, cfg: CFG, defs: dict[str, Instr], pre: str) -> int | None:
    """Iterations of a rotated loop whose latch tests `iv' = iv op c` against a constant."""
    latch = loop.latches[0]
    term = cfg.blocks[latch].instrs[-1]
    if term.op != "br" or not term.operands or not isinstance(term.operands[0], Local):
        return None
    cmp = defs.get(term.operands[0].name)
    if cmp is None or cmp.op != "icmp" or not isinstance(cmp.operands[1], Const):
        return None
    continue_when = term.targets[0] == loop.header
    if (term.targets[1] == loop.header) == continue_when:
        return None
    tested = cmp.operands[0]
    if not isinstance(tested, Local):
        return None
    step = defs.get(tested.name)
    if (
        step is None
        or step.op not in ("add", "sub", "mul", "shl")
        or not isinstance(step.operands[1], Const)
    ):
        return None
    iv = step.operands[0]
    if not isinstance(iv, Local):
        return None
    phi = defs.get(iv.name)
    if phi is None or phi.op != "phi" or not any(phi is p for p in phis(cfg.blocks[loop.header])):
        return None
    start = [v for v, lb in phi.incoming if lb == pre]
    back = [v for v, lb in phi.incoming if lb == latch]
    if len(start) != 1 or back != [tested] or not isinstance(start[0], Const):
        return None
    bits = bits_of(phi.ty)
    value = start[0].value
    bound = cmp.operands[1].value
    for trips in range(1, MAX_TRIPS + 1):
        nxt = fold_binary(step.op, value, step.operands[1].value, bits)
        if nxt is None:
            return None
        if fold_icmp(cmp.pred or "eq", nxt, bound, bits) != continue_when:
            return trips
        value = nxt
    return None


def _unroll(func: Function, loop: Loop, cfg: CFG, pre: str, trips: int, fresh: NameGen) -> None:
    latch = loop.latches[0]
    header = loop.header
    order = [b.label for b in func.blocks if b.label in loop.body]
    exit_label = next(t for t in cfg.succs[latch] if t not in loop.body)
    header_phis = phis(cfg.blocks[header])
    # values entering iteration k through the header phis
    entering: dict[str, Value] = {}
    for phi in header_phis:
        assert phi.result is not None
        entering[phi.result] = next(v for v, lb in phi.incoming if lb == pre)
    new_blocks: list[Block] = []
    mapping: dict[str, Value] = {}
    labels: dict[str, str] = {}
    first_header = ""
    previous_latch = pre
    for k in range(trips):
        blocks, mapping, labels = copy_loop_iteration(cfg, order, header, entering, fresh)
        # the copied latch goes on to the next iteration (linked below) or leaves the loop
        latch_term = blocks[order.index(latch)].instrs[-1]
        if latch_term.op == "br" and latch_term.operands:
            nxt = "" if k + 1 < trips else exit_label
            blocks[order.index(latch)].instrs[-1] = Instr("br", targets=[nxt])
        new_blocks.extend(blocks)
        if k == 0:
            first_header = labels[header]
        else:
            # the previous latch jumps to this iteration's header
            for blk in new_blocks:
                if blk.label == previous_latch:
                    blk.instrs[-1].targets = [labels[header]]
        previous_latch = labels[latch]
        next_entering: dict[str, Value] = {}
        for phi in header_phis:
            assert phi.result is not None
            back = next(v for v, lb in phi.incoming if lb == latch)
            next_entering[phi.result] = lookup(back, mapping)
        entering = next_entering
    last = mapping
    # exit phis and outside uses take the last iteration's values
    for phi in phis(cfg.blocks[exit_label]):
        phi.incoming = [
            (lookup(v, last) if lb == latch else v, previous_latch if lb == latch else lb)
            for v, lb in phi.incoming
        ]
    for block in func.blocks:
        if block.label in loop.body:
            continue
        for instr in block.instrs:
            if block.label == exit_label and instr.op == "phi":
                continue
            if instr.incoming:
                instr.incoming = [(lookup(v, last), lb) for v, lb in instr.incoming]
            elif instr.operands:
                instr.operands = [lookup(v, last) for v in instr.operands]
    pre_term = cfg.blocks[pre].instrs[-1]
    pre_term.targets = [first_header if t == header else t for t in pre_term.targets]
    index = next(i for i, b in enumerate(func.blocks) if b.label == header)
    func.blocks = [b for b in func.blocks if b.label not in loop.body]
    func.blocks[index:index] = new_blocks


def unroll_loops(func: Function) -> bool:
    """Fully unroll innermost constant-trip loops; True when anything changed."""
    if not func.blocks:
        return False
    fresh = NameGen(func)
    changed = False
    growth = 0
    for _ in range(64):
        cfg = CFG.of(func)
        dom = DomTree.of(cfg)
        defs = {i.result: i for b in func.blocks for i in b.instrs if i.result is not None}
        done = False
        for loop in natural_loops(cfg, dom):
            if loop.children or len(loop.latches) != 1:
                continue
            outside = [p for p in cfg.preds[loop.header] if p not in loop.body]
            if len(outside) != 1 or cfg.blocks[outside[0]].instrs[-1].op != "br":
                continue
            if loop.exiting(cfg) != [loop.latches[0]] or len(loop.exits(cfg)) != 1:
                continue
            trips = _trip_count(loop, cfg, defs, outside[0])
            if trips is None:
                continue
            size = sum(len(cfg.blocks[b].instrs) for b in loop.body)
            if size * trips > MAX_UNROLLED_SIZE or growth + size * trips > MAX_FUNCTION_GROWTH:
                continue
            if any(i.op == "alloca" for b in loop.body for i in cfg.blocks[b].instrs):
                continue
            _unroll(func, loop, cfg, outside[0], trips, fresh)
            growth += size * (trips - 1)
            changed = done = True
            break
        if not done:
            break
    return changed
