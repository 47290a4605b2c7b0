"""Induction variable widening: an i32 induction variable stepped by `add nsw` whose value
is sign-extended (array indexing) gets an i64 twin, so the per-iteration `sext` and, when
the loop test can be widened too, the i32 variable itself disappear."""

from __future__ import annotations

from dataclasses import dataclass

from sysyc.ir import Const, Function, Instr, Local, Value
from sysyc.ir_cfg import CFG, DomTree, NameGen, ensure_preheader, natural_loops, phis

_WIDENABLE_PREDS = frozenset({"eq", "ne", "slt", "sle", "sgt", "sge"})
NARROW_REMAINING_USES = False


def widen_induction_variables(func: Function) -> bool:
    if not func.blocks:
        return False
    fresh = NameGen(func)
    cfg = CFG.of(func)
    dom = DomTree.of(cfg)
    created = False
    for loop in natural_loops(cfg, dom):
        if ensure_preheader(func, cfg, loop, fresh):
            created = True
            cfg = CFG.of(func)
    if created:
        dom = DomTree.of(cfg)
    loops = natural_loops(cfg, dom)
    defs: dict[str, Instr] = {}
    def_block: dict[str, str] = {}
    users: dict[str, list[Instr]] = {}
    in_block: dict[int, str] = {}
    params = {p.name for p in func.params}
    for block in func.blocks:
        for instr in block.instrs:
            in_block[id(instr)] = block.label
            if instr.result is not None:
                defs[instr.result] = instr
                def_block[instr.result] = block.label
            values = [v for v, _ in instr.incoming] if instr.incoming else instr.operands
            for v in values:
                if isinstance(v, Local):
                    users.setdefault(v.name, []).append(instr)
    changed = created
    widener = _Widener(cfg, def_block, params, users, in_block, fresh)
    for loop in loops:
        outside = [p for p in cfg.preds[loop.header] if p not in loop.body]
        if len(outside) != 1:
            continue
        pre_label = outside[0]
        preheader = cfg.blocks[pre_label]
        if cfg.succs[pre_label] != [loop.header]:
            continue
        header = cfg.blocks[loop.header]
        for phi in phis(header):
            if phi.ty != "i32" or phi.result is None:
                continue
            start = [v for v, lb in phi.incoming if lb == pre_label]
            steps = {v for v, lb in phi.incoming if lb != pre_label}
            if len(start) != 1 or len(steps) != 1:
                continue
            step_value = next(iter(steps))
            if not isinstance(step_value, Local):
                continue
            step = defs.get(step_value.name)
            if (
                step is None
                or step.op != "add"
                or "nsw" not in step.flags
                or step.operands[0] != Local("i32", phi.result)
                or not isinstance(step.operands[1], Const)
            ):
                continue
            if widener.widen(phi, step, start[0], preheader.instrs, header.instrs, loop.body):
                changed = True
    return changed


@dataclass
class _Widener:
    cfg: CFG
    def_block: dict[str, str]  # value name -> defining block
    params: set[str]
    users: dict[str, list[Instr]]
    in_block: dict[int, str]  # id(instr) -> block
    fresh: NameGen

    def widen(
        self,
        phi: Instr,
        step: Instr,
        start: Value,
        preheader_instrs: list[Instr],
        header_instrs: list[Instr],
        body: set[str],
    ) -> bool:
        """Give the induction variable `phi` (stepped by `step`) an i64 twin."""
        cfg, def_block, params, users, fresh = (
            self.cfg,
            self.def_block,
            self.params,
            self.users,
            self.fresh,
        )
        in_block = self.in_block
        assert phi.result is not None and step.result is not None
        iv, nxt = phi.result, step.result
        widened_bounds: dict[Value, Value] = {}

        def widen_invariant(value: Value) -> Value | None:
            """value as i64 in the preheader, when it is loop-invariant."""
            if isinstance(value, Const):
                return Const("i64", value.value)
            if not isinstance(value, Local) or not _invariant(value, body, def_block, params):
                return None
            if value not in widened_bounds:
                name = fresh()
                preheader_instrs.insert(
                    len(preheader_instrs) - 1, Instr("sext", name, "i64", [value])
                )
                widened_bounds[value] = Local("i64", name)
            return widened_bounds[value]

        def offset_users(name: str) -> list[tuple[Instr, int]]:
            """`iv +/- x` or `x + iv` (nsw) users whose result is sign-extended, with the
            index of the other operand."""
            found = []
            for user in users.get(name, []):
                if user.op not in ("add", "sub") or "nsw" not in user.flags:
                    continue
                if not any(
                    u.op == "sext" and u.ty == "i64" for u in users.get(user.result or "", [])
                ):
                    continue
                own = Local("i32", name)
                if user.operands[0] == own:
                    other = 1
                elif user.operands[1] == own and user.op == "add":
                    other = 0
                else:
                    continue
                value = user.operands[other]
                if isinstance(value, Const) or (
                    isinstance(value, Local) and _invariant(value, body, def_block, params)
                ):
                    found.append((user, other))
            return found

        wanted = any(
            any(u.op == "sext" and u.ty == "i64" for u in users.get(name, [])) or offset_users(name)
            for name in (iv, nxt)
        )
        if not wanted:
            return False
        wide = fresh()
        wide_next = fresh()
        wide_start = widen_invariant(start)
        if wide_start is None:
            start_name = fresh()
            preheader_instrs.insert(
                len(preheader_instrs) - 1, Instr("sext", start_name, "i64", [start])
            )
            wide_start = Local("i64", start_name)
        incoming: list[tuple[Value, str]] = [
            (wide_start if lb not in body else Local("i64", wide_next), lb)
            for _, lb in phi.incoming
        ]
        wide_phi = Instr("phi", wide, "i64", incoming=incoming)
        assert isinstance(step.operands[1], Const)
        wide_step = Instr(
            "add",
            wide_next,
            "i64",
            [Local("i64", wide), Const("i64", step.operands[1].value)],
            flags=frozenset({"nsw"}),
        )
        header_instrs.insert(0, wide_phi)
        step_block = cfg.blocks[def_block[nxt]]
        step_block.instrs.insert(step_block.instrs.index(step) + 1, wide_step)
        wide_of = {iv: Local("i64", wide), nxt: Local("i64", wide_next)}
        for name in (iv, nxt):
            for user, other in offset_users(name):
                wide_other = widen_invariant(user.operands[other])
                assert wide_other is not None and user.result is not None
                operands = (
                    [wide_of[name], wide_other] if other == 1 else [wide_other, wide_of[name]]
                )
                for ext in users.get(user.result, []):
                    if ext.op == "sext" and ext.ty == "i64":
                        ext.op = user.op
                        ext.operands = list(operands)
                        ext.flags = frozenset({"nsw"})
            for user in list(users.get(name, [])):
                if (
                    user.op == "sext"
                    and user.ty == "i64"
                    and user.operands[0] == Local("i32", name)
                ):
                    _become_copy(user, wide_of[name])
                elif (
                    user.op == "icmp"
                    and user.pred in _WIDENABLE_PREDS
                    and in_block.get(id(user)) in body
                    and user.operands[0] == Local("i32", name)
                ):
                    # a bound defined outside the loop and used inside it dominates the preheader
                    wide_bound = widen_invariant(user.operands[1])
                    if wide_bound is not None:
                        user.ty = "i64"
                        user.operands = [wide_of[name], wide_bound]
        if NARROW_REMAINING_USES:
            self.narrow_remaining_uses(phi, step, header_instrs, step_block.instrs, wide_step)
        return True

    def narrow_remaining_uses(
        self,
        phi: Instr,
        step: Instr,
        header_instrs: list[Instr],
        step_instrs: list[Instr],
        wide_step: Instr,
    ) -> None:
        """What still needs the i32 values reads the low half of the wide ones."""
        assert phi.result is not None and step.result is not None
        wide_phi = header_instrs[0]
        assert wide_phi.result is not None and wide_step.result is not None
        iv, nxt = phi.result, step.result
        low_iv, low_next = self.fresh(), self.fresh()
        narrow = {iv: Local("i32", low_iv), nxt: Local("i32", low_next)}
        rewritten = False
        for name in (iv, nxt):
            for user in self.users.get(name, []):
                if user is step or user is phi:
                    continue
                if user.incoming:
                    user.incoming = [(narrow.get(_name_of(v), v), lb) for v, lb in user.incoming]
                else:
                    user.operands = [narrow.get(_name_of(v), v) for v in user.operands]
                rewritten = True
        if rewritten:
            first_non_phi = next(i for i, ins in enumerate(header_instrs) if ins.op != "phi")
            header_instrs.insert(
                first_non_phi, Instr("trunc", low_iv, "i32", [Local("i64", wide_phi.result)])
            )
            position = step_instrs.index(wide_step) + 1
            step_instrs.insert(
                position, Instr("trunc", low_next, "i32", [Local("i64", wide_step.result)])
            )


def _name_of(value: Value) -> str:
    return value.name if isinstance(value, Local) and value.ty == "i32" else ""


def _invariant(value: Local, body: set[str], def_block: dict[str, str], params: set[str]) -> bool:
    """Defined outside the loop (parameters have no block; values created by this pass
    are unknown here and not trusted)."""
    block = def_block.get(value.name)
    if block is None:
        return value.name in params
    return block not in body


def _become_copy(instr: Instr, value: Value) -> None:
    """Turn instr into `add i64 value, 0` (folded away by the next simplification)."""
    instr.op = "add"
    instr.ty = "i64"
    instr.operands = [value, Const("i64", 0)]
    instr.flags = frozenset()
