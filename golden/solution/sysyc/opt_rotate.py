"""Loop rotation: turn `while (c) body` (test at the top) into `if (c) do body while (c)`.

The header's computation is copied into the preheader as a guard; the first body block
becomes the new header, which then runs at least once per entry, so later passes may hoist
loads out of it. SSA is repaired with phis in the new header and the exit block."""

from __future__ import annotations

from sysyc.ir import BINARY_OPS, INT_CAST_OPS, Block, Function, Instr, Local, Value
from sysyc.ir_cfg import (
    CFG,
    DomTree,
    Loop,
    NameGen,
    clone_instr,
    ensure_preheader,
    phis,
    result_type,
    transform_loops,
)

_MAX_HEADER_INSTRS = 12
_COPYABLE = BINARY_OPS | INT_CAST_OPS | {"icmp", "select", "getelementptr", "load"}


def _defined_names(instrs: list[Instr]) -> set[str]:
    return {i.result for i in instrs if i.result is not None}


class _Rotator:
    def __init__(self, func: Function) -> None:
        self.func = func
        self.fresh = NameGen(func)

    def try_rotate(self, cfg: CFG, dom: DomTree, loop: Loop) -> bool:
        func = self.func
        h = loop.header
        header = cfg.blocks[h]
        term = header.instrs[-1]
        if term.op != "br" or not term.operands:
            return False
        t, f = term.targets
        if (t in loop.body) == (f in loop.body):
            return False
        b, x = (t, f) if t in loop.body else (f, t)
        if b == h:
            return False
        if any(latch in loop.exiting(cfg) for latch in loop.latches):
            return False
        outside = [p for p in cfg.preds[h] if p not in loop.body]
        if len(outside) != 1:
            return False
        p = outside[0]
        pre = cfg.blocks[p]
        if cfg.succs[p] != [h] or pre.instrs[-1].op != "br":
            return False
        if cfg.preds[b] != [h] or phis(cfg.blocks[b]):
            return False
        if any(q not in loop.body for q in cfg.preds[x]):
            return False
        header_phis = phis(header)
        body_instrs = header.instrs[len(header_phis) : -1]
        if len(body_instrs) > _MAX_HEADER_INSTRS:
            return False
        if any(i.op not in _COPYABLE for i in body_instrs):
            return False
        defined = _defined_names(header.instrs)
        # uses of header values outside the loop must sit below the exit block
        users_outside: list[tuple[str, Instr]] = []
        for block in func.blocks:
            if block.label in loop.body:
                continue
            for instr in block.instrs:
                if instr.incoming:
                    # a phi uses its value at the end of the incoming block
                    sites = [
                        lb for v, lb in instr.incoming if isinstance(v, Local) and v.name in defined
                    ]
                else:
                    sites = [
                        block.label
                        for v in instr.operands
                        if isinstance(v, Local) and v.name in defined
                    ]
                if sites:
                    if not all(dom.dominates(x, site) for site in sites):
                        return False
                    users_outside.append((block.label, instr))

        # 1. the guard: header computation evaluated with the preheader's incoming values
        clone: dict[str, Value] = {}
        for phi in header_phis:
            assert phi.result is not None
            clone[phi.result] = next(v for v, lb in phi.incoming if lb == p)

        def in_guard(value: Value) -> Value:
            if isinstance(value, Local) and value.name in clone:
                return clone[value.name]
            return value

        guard: list[Instr] = []
        for instr in body_instrs:
            copied = clone_instr(instr)
            copied.operands = [in_guard(v) for v in instr.operands]
            copied.incoming = []
            copied.targets = []
            copied.cases = []
            assert instr.result is not None
            copied.result = self.fresh()
            clone[instr.result] = Local(result_type(instr), copied.result)
            guard.append(copied)
        guard_cond = in_guard(term.operands[0])
        pre.instrs = (
            pre.instrs[:-1]
            + guard
            + [Instr("br", operands=[guard_cond], targets=list(term.targets))]
        )
        for phi in header_phis:
            phi.incoming = [(v, lb) for v, lb in phi.incoming if lb != p]

        # 2. phis in the new header (b) and in the exit (x) for every header value
        in_body: dict[str, Value] = {}
        at_exit: dict[str, Value] = {}
        b_phis: list[Instr] = []
        x_phis: list[Instr] = []
        x_preds = [q for q in cfg.preds[x]] + [p]
        for instr in header.instrs:
            if instr.result is None:
                continue
            ty = result_type(instr)
            name = instr.result
            own = Local(ty, name)
            b_name = self.fresh()
            b_phis.append(Instr("phi", b_name, ty, incoming=[(clone[name], p), (own, h)]))
            in_body[name] = Local(ty, b_name)
            if users_outside:
                x_name = self.fresh()
                incoming: list[tuple[Value, str]] = []
                for q in x_preds:
                    if q == p:
                        incoming.append((clone[name], q))
                    elif q == h:
                        incoming.append((own, q))
                    else:
                        incoming.append((in_body[name], q))
                x_phis.append(Instr("phi", x_name, ty, incoming=incoming))
                at_exit[name] = Local(ty, x_name)

        # 3. rewrite uses
        def body_value(value: Value) -> Value:
            if isinstance(value, Local) and value.name in in_body:
                return in_body[value.name]
            return value

        for label in loop.body:
            block = cfg.blocks[label]
            for instr in block.instrs:
                if label == h and instr.op != "phi":
                    continue
                if instr.incoming:
                    instr.incoming = [
                        (v if lb == h else body_value(v), lb) for v, lb in instr.incoming
                    ]
                elif instr.operands:
                    instr.operands = [body_value(v) for v in instr.operands]
        exit_block = cfg.blocks[x]
        exit_phis = phis(exit_block)
        for phi in exit_phis:
            from_header = [v for v, lb in phi.incoming if lb == h]
            incoming = [(v if lb == h else body_value(v), lb) for v, lb in phi.incoming]
            if from_header:
                incoming.append((in_guard(from_header[0]), p))
            phi.incoming = incoming
        exit_phi_ids = {id(phi) for phi in exit_phis}

        def exit_value(value: Value) -> Value:
            if isinstance(value, Local) and value.name in at_exit:
                return at_exit[value.name]
            return value

        for _, instr in users_outside:
            if id(instr) in exit_phi_ids:
                continue
            if instr.incoming:
                instr.incoming = [(exit_value(v), lb) for v, lb in instr.incoming]
            else:
                instr.operands = [exit_value(v) for v in instr.operands]
        cfg.blocks[b].instrs[0:0] = b_phis
        exit_block.instrs[0:0] = x_phis
        return True


def _split_shared_exit(func: Function, cfg: CFG, loop: Loop, fresh: NameGen) -> bool:
    """Give the header's exit edge its own block when the exit has other predecessors."""
    h = loop.header
    term = cfg.blocks[h].instrs[-1]
    if term.op != "br" or not term.operands:
        return False
    exits = [t for t in term.targets if t not in loop.body]
    if len(exits) != 1 or len(set(term.targets)) != 2:
        return False
    x = exits[0]
    if all(q in loop.body for q in cfg.preds[x]):
        return False
    label = fresh()
    term.targets = [label if t == x else t for t in term.targets]
    for phi in phis(cfg.blocks[x]):
        phi.incoming = [(v, label if lb == h else lb) for v, lb in phi.incoming]
    index = next(i for i, blk in enumerate(func.blocks) if blk.label == x)
    func.blocks.insert(index, Block(label, [Instr("br", targets=[x])]))
    return True


def rotate_loops(func: Function) -> bool:
    """Rotate every loop whose header tests and exits; True when anything changed."""
    if not func.blocks:
        return False
    rotator = _Rotator(func)

    def prepare(cfg: CFG, loop: Loop) -> bool:
        return _split_shared_exit(func, cfg, loop, rotator.fresh) or ensure_preheader(
            func, cfg, loop, rotator.fresh
        )

    return transform_loops(func, 10000, prepare, rotator.try_rotate)
