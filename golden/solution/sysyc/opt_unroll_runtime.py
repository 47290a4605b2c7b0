"""Runtime unrolling by two of small innermost counted loops.

A rotated loop `do { body } while (iv' = iv ± 1, iv' < n)` runs an odd iteration first
when its trip count is odd (a peeled copy), then twice the body per trip with a single
exit test, which halves the induction and test overhead."""

from __future__ import annotations

from sysyc.ir import Block, Const, Function, Instr, Local, Value
from sysyc.ir_cfg import (
    CFG,
    DomTree,
    Loop,
    NameGen,
    copy_loop_iteration,
    ensure_preheader,
    lookup,
    phis,
    transform_loops,
)

MAX_BODY = 40  # instructions in the loop, phis and terminators included
_UP = {"slt": 0, "sle": 1, "ne": 0}
_DOWN = {"sgt": 0, "sge": 1, "ne": 0}


class _Unroller:
    def __init__(self, func: Function) -> None:
        self.func = func
        self.fresh = NameGen(func)

    def candidate(self, cfg: CFG, loop: Loop) -> tuple[str, Instr, Instr, Instr, Value] | None:
        """(preheader, header iv phi, step, exit compare, bound) of a unrollable loop."""
        if loop.children or len(loop.latches) != 1:
            return None
        latch = loop.latches[0]
        if loop.exiting(cfg) != [latch] or len(loop.exits(cfg)) != 1:
            return None
        outside = [p for p in cfg.preds[loop.header] if p not in loop.body]
        if len(outside) != 1:
            return None
        pre = outside[0]
        if cfg.succs[pre] != [loop.header] or cfg.blocks[pre].instrs[-1].op != "br":
            return None
        size = sum(len(cfg.blocks[b].instrs) for b in loop.body)
        if size > MAX_BODY:
            return None
        defs: dict[str, Instr] = {}
        for label in loop.body:
            for instr in cfg.blocks[label].instrs:
                if instr.result is not None:
                    defs[instr.result] = instr
                if instr.op in ("call", "alloca"):
                    return None
        term = cfg.blocks[latch].instrs[-1]
        if term.op != "br" or not term.operands or term.targets[0] != loop.header:
            return None
        cond = term.operands[0]
        cmp = defs.get(cond.name) if isinstance(cond, Local) else None
        if cmp is None or cmp.op != "icmp" or not isinstance(cmp.operands[0], Local):
            return None
        step = defs.get(cmp.operands[0].name)
        bound = cmp.operands[1]
        if isinstance(bound, Local) and bound.name in defs:
            return None
        if step is None or step.op != "add" or "nsw" not in step.flags:
            return None
        increment = step.operands[1]
        if not isinstance(increment, Const) or increment.value not in (1, -1):
            return None
        preds = _UP if increment.value == 1 else _DOWN
        if cmp.pred not in preds or cmp.pred == "ne":
            return None
        iv = step.operands[0]
        phi = defs.get(iv.name) if isinstance(iv, Local) else None
        if (
            phi is None
            or phi.op != "phi"
            or not any(phi is p for p in phis(cfg.blocks[loop.header]))
        ):
            return None
        if [v for v, lb in phi.incoming if lb == latch] != [Local(step.ty, step.result or "")]:
            return None
        if not self.values_stay_inside(cfg, loop, latch):
            return None
        return pre, phi, step, cmp, bound

    def values_stay_inside(self, cfg: CFG, loop: Loop, latch: str) -> bool:
        """Loop values reach the outside only through phis of the exit block."""
        inside: set[str] = set()
        for label in loop.body:
            for instr in cfg.blocks[label].instrs:
                if instr.result is not None:
                    inside.add(instr.result)
        exit_label = loop.exits(cfg)[0]
        for block in self.func.blocks:
            if block.label in loop.body:
                continue
            for instr in block.instrs:
                if instr.incoming:
                    for v, lb in instr.incoming:
                        leaks = isinstance(v, Local) and v.name in inside
                        if leaks and (block.label != exit_label or lb != latch):
                            return False
                elif any(isinstance(v, Local) and v.name in inside for v in instr.operands):
                    return False
        return True

    def unroll(
        self, cfg: CFG, loop: Loop, pre: str, phi: Instr, step: Instr, cmp: Instr, bound: Value
    ) -> None:
        fresh = self.fresh
        func = self.func
        latch = loop.latches[0]
        header = loop.header
        exit_label = loop.exits(cfg)[0]
        header_phis = phis(cfg.blocks[header])
        start_values = {
            p.result or "": next(v for v, lb in p.incoming if lb == pre) for p in header_phis
        }
        back_values = {
            p.result or "": next(v for v, lb in p.incoming if lb == latch) for p in header_phis
        }
        order = [b.label for b in func.blocks if b.label in loop.body]

        # trip count parity, computed in i64 so that n - start cannot overflow
        pre_block = cfg.blocks[pre]
        code: list[Instr] = []

        def wide(value: Value) -> Value:
            if isinstance(value, Const):
                return Const("i64", value.value)
            if value.ty == "i64":
                return value
            name = fresh()
            code.append(Instr("sext", name, "i64", [value]))
            return Local("i64", name)

        start = start_values[phi.result or ""]
        assert isinstance(step.operands[1], Const)
        up = step.operands[1].value == 1
        lo, hi = (wide(start), wide(bound)) if up else (wide(bound), wide(start))
        inclusive = (_UP if up else _DOWN)[cmp.pred or ""]
        span = fresh()
        code.append(Instr("sub", span, "i64", [hi, lo]))
        count: Value = Local("i64", span)
        if inclusive:
            plus = fresh()
            code.append(Instr("add", plus, "i64", [count, Const("i64", 1)]))
            count = Local("i64", plus)
        few = fresh()
        code.append(Instr("icmp", few, "i64", [count, Const("i64", 1)], pred="slt"))
        trips = fresh()
        code.append(Instr("select", trips, "i64", [Local("i1", few), Const("i64", 1), count]))
        low_bit = fresh()
        code.append(Instr("and", low_bit, "i64", [Local("i64", trips), Const("i64", 1)]))
        odd = fresh()
        code.append(Instr("icmp", odd, "i64", [Local("i64", low_bit), Const("i64", 0)], pred="ne"))

        # the peeled odd iteration
        main_pre = Block(fresh())
        peel_blocks, peel_map, peel_labels = copy_loop_iteration(
            cfg, order, header, start_values, fresh, main_pre.label
        )
        peel_latch = peel_labels[latch]
        # the second copy of the body inside the loop
        second_blocks, second_map, second_labels = copy_loop_iteration(
            cfg, order, header, back_values, fresh, header
        )
        second_latch = second_labels[latch]
        cfg.blocks[latch].instrs[-1] = Instr("br", targets=[second_labels[header]])
        # merge the entry values of the loop after the optional peeled iteration
        for p in header_phis:
            name = p.result or ""
            merged = fresh()
            main_pre.instrs.append(
                Instr(
                    "phi",
                    merged,
                    p.ty,
                    incoming=[
                        (start_values[name], pre),
                        (lookup(back_values[name], peel_map), peel_latch),
                    ],
                )
            )
            p.incoming = [
                (Local(p.ty, merged), main_pre.label),
                (lookup(back_values[name], second_map), second_latch),
            ]
        main_pre.instrs.append(Instr("br", targets=[header]))
        # the exit is reached from the peeled copy and from the second copy
        for exit_phi in phis(cfg.blocks[exit_label]):
            incoming: list[tuple[Value, str]] = []
            for v, lb in exit_phi.incoming:
                if lb == latch:
                    incoming.append((lookup(v, peel_map), peel_latch))
                    incoming.append((lookup(v, second_map), second_latch))
                else:
                    incoming.append((v, lb))
            exit_phi.incoming = incoming
        pre_block.instrs[-1:] = [
            *code,
            Instr("br", operands=[Local("i1", odd)], targets=[peel_labels[header], main_pre.label]),
        ]
        index = next(i for i, b in enumerate(func.blocks) if b.label == header)
        func.blocks[index:index] = [*peel_blocks, main_pre]
        last = max(i for i, b in enumerate(func.blocks) if b.label in loop.body)
        func.blocks[last + 1 : last + 1] = second_blocks


def unroll_by_two(func: Function) -> bool:
    """Runtime-unroll small innermost counted loops; True when anything changed."""
    if not func.blocks:
        return False
    unroller = _Unroller(func)

    def prepare(cfg: CFG, loop: Loop) -> bool:
        return not loop.children and ensure_preheader(func, cfg, loop, unroller.fresh)

    def transform(cfg: CFG, dom: DomTree, loop: Loop) -> bool:
        found = unroller.candidate(cfg, loop)
        if found is None:
            return False
        unroller.unroll(cfg, loop, *found)
        return True

    return transform_loops(func, 100, prepare, transform)
