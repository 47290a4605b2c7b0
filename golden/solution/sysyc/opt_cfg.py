"""CFG simplification: fold constant branches and switches, remove unreachable blocks,
merge a block into its only predecessor, bypass empty forwarding blocks, and thread
branches on phis of constants (the `&&`/`||` shape clang -O0 emits)."""

from __future__ import annotations

from sysyc.ir import SPECULATABLE_OPS, Block, Const, Function, Instr, Local, Value
from sysyc.ir_cfg import CFG, NameGen, phis, replace_uses, retarget, successors


def _remove_incoming(block: Block, pred: str) -> None:
    for phi in phis(block):
        phi.incoming = [(v, lb) for v, lb in phi.incoming if lb != pred]


def _fold_branches(func: Function) -> bool:
    changed = False
    blocks = {b.label: b for b in func.blocks}
    for block in func.blocks:
        if not block.instrs:
            continue
        term = block.instrs[-1]
        keep: str | None = None
        if term.op == "br" and term.operands:
            cond = term.operands[0]
            if isinstance(cond, Const):
                keep = term.targets[0] if cond.value else term.targets[1]
            elif term.targets[0] == term.targets[1]:
                keep = term.targets[0]
        elif term.op == "switch":
            x = term.operands[0]
            if isinstance(x, Const):
                keep = term.targets[0]
                for value, label in term.cases:
                    if (value - x.value) % (1 << 64) == 0 or value == x.value:
                        keep = label
                        break
            elif not term.cases:
                keep = term.targets[0]
        if keep is None:
            continue
        for succ in successors(block):
            if succ != keep:
                _remove_incoming(blocks[succ], block.label)
        block.instrs[-1] = Instr("br", targets=[keep])
        changed = True
    return changed


def _remove_unreachable(func: Function) -> bool:
    cfg = CFG.of(func)
    reachable = set(cfg.reverse_postorder())
    if len(reachable) == len(func.blocks):
        return False
    dead = [b for b in func.blocks if b.label not in reachable]
    for block in dead:
        for succ in cfg.succs[block.label]:
            if succ in reachable:
                _remove_incoming(cfg.blocks[succ], block.label)
    func.blocks = [b for b in func.blocks if b.label in reachable]
    return True


def _merge_into_predecessor(func: Function) -> bool:
    """Merge B into P when P's only successor is B and B's only predecessor is P."""
    cfg = CFG.of(func)
    changed = False
    removed: set[str] = set()
    blocks = cfg.blocks
    replacement: dict[str, Value] = {}
    for block in list(func.blocks):
        label = block.label
        if label in removed or label == cfg.entry:
            continue
        preds = cfg.preds[label]
        if len(preds) != 1:
            continue
        pred = preds[0]
        if pred == label or pred in removed:
            continue
        pred_block = blocks[pred]
        if cfg.succs[pred] != [label] or pred_block.instrs[-1].op != "br":
            continue
        # single-predecessor phis are just their incoming value
        body = block.instrs
        while body and body[0].op == "phi":
            phi = body.pop(0)
            assert phi.result is not None
            replacement[phi.result] = phi.incoming[0][0]
        pred_block.instrs = pred_block.instrs[:-1] + body
        # successors of B now see P as their predecessor
        for succ in cfg.succs[label]:
            for phi in phis(blocks[succ]):
                phi.incoming = [(v, pred if lb == label else lb) for v, lb in phi.incoming]
            cfg.preds[succ] = [pred if p == label else p for p in cfg.preds[succ]]
        cfg.succs[pred] = cfg.succs[label]
        removed.add(label)
        changed = True
    if changed:
        func.blocks = [b for b in func.blocks if b.label not in removed]
        replace_uses(func, replacement)
    return changed


def _bypass_empty_blocks(func: Function) -> bool:
    """Redirect predecessors of a block that only jumps on, when phis allow it."""
    cfg = CFG.of(func)
    changed = False
    for block in list(func.blocks):
        label = block.label
        if label == cfg.entry or len(block.instrs) != 1:
            continue
        term = block.instrs[0]
        if term.op != "br" or term.operands:
            continue
        target = term.targets[0]
        if target == label:
            continue
        target_block = cfg.blocks[target]
        target_phis = phis(target_block)
        preds = cfg.preds[label]
        if not preds:
            continue
        # a predecessor already jumping to target would need two different phi entries
        if target_phis and any(target in cfg.succs[p] for p in preds):
            continue
        if any(cfg.blocks[p].instrs[-1].op != "br" for p in preds):
            continue
        for pred in preds:
            retarget(cfg.blocks[pred].instrs[-1], label, target)
        for phi in target_phis:
            incoming: list[tuple[Value, str]] = []
            for value, lb in phi.incoming:
                if lb == label:
                    incoming.extend((value, p) for p in preds)
                else:
                    incoming.append((value, lb))
            phi.incoming = incoming
        for pred in preds:
            succs = cfg.succs[pred]
            cfg.succs[pred] = list(dict.fromkeys(target if s == label else s for s in succs))
        cfg.preds[target] = [p for p in cfg.preds[target] if p != label] + [
            p for p in preds if p not in cfg.preds[target]
        ]
        cfg.preds[label] = []
        cfg.succs[label] = []
        block.instrs = [Instr("unreachable")]
        changed = True
    if changed:
        _remove_unreachable(func)
    return changed


def _thread_phi_branches(func: Function) -> bool:
    """B = { %p = phi i1 [c, P]...; br i1 %p, T, F }: send P straight to T or F."""
    cfg = CFG.of(func)
    uses: dict[str, int] = {}
    for b in func.blocks:
        for instr in b.instrs:
            values = [v for v, _ in instr.incoming] if instr.incoming else instr.operands
            for v in values:
                if isinstance(v, Local):
                    uses[v.name] = uses.get(v.name, 0) + 1
    changed = False
    for block in func.blocks:
        if len(block.instrs) != 2:
            continue
        phi, term = block.instrs
        if phi.op != "phi" or term.op != "br" or not term.operands:
            continue
        if term.operands[0] != Local("i1", phi.result or "") or uses.get(phi.result or "") != 1:
            continue
        for value, pred in list(phi.incoming):
            if not isinstance(value, Const):
                continue
            dest = term.targets[0] if value.value else term.targets[1]
            pred_term = cfg.blocks[pred].instrs[-1]
            if pred_term.op != "br" or dest in cfg.succs[pred] or dest == block.label:
                continue
            if len(cfg.preds[block.label]) < 2:
                continue
            retarget(pred_term, block.label, dest)
            for dest_phi in phis(cfg.blocks[dest]):
                for v, lb in list(dest_phi.incoming):
                    if lb == block.label:
                        dest_phi.incoming.append((v, pred))
            phi.incoming = [(v, lb) for v, lb in phi.incoming if lb != pred]
            cfg.succs[pred] = [dest if s == block.label else s for s in cfg.succs[pred]]
            cfg.preds[block.label].remove(pred)
            cfg.preds[dest].append(pred)
            changed = True
    return changed


_MAX_SPECULATED = 2
_MAX_SELECTS = 1


def _speculatable_side(block: Block, join: str, cfg: CFG) -> bool:
    """A side block of an if: single predecessor, jumps to join, only cheap safe ops."""
    if len(cfg.preds[block.label]) != 1 or cfg.succs[block.label] != [join]:
        return False
    body = block.instrs[:-1]
    if block.instrs[-1].op != "br" or len(body) > _MAX_SPECULATED:
        return False
    return all(i.op in SPECULATABLE_OPS for i in body)


def _form_selects(func: Function) -> bool:
    """Turn small if/else diamonds and triangles that only compute phi inputs into selects.

    The join block may have further predecessors: only the entries from the branch's
    arms are merged into one entry from the branching block."""
    cfg = CFG.of(func)
    changed = False
    removed: set[str] = set()
    fresh: NameGen | None = None
    for head_block in list(func.blocks):
        head = head_block.label
        if head in removed or not head_block.instrs:
            continue
        term = head_block.instrs[-1]
        if term.op != "br" or not term.operands or term.targets[0] == term.targets[1]:
            continue
        t, f = term.targets
        shape: tuple[str, list[str], str, str] | None = None  # join, sides, true/false pred
        t_side = t not in removed and _is_side(cfg, t, head)
        f_side = f not in removed and _is_side(cfg, f, head)
        if t_side and f_side and cfg.succs[t] == cfg.succs[f]:
            shape = (cfg.succs[t][0], [t, f], t, f)
        elif t_side and cfg.succs[t] == [f]:
            shape = (f, [t], t, head)
        elif f_side and cfg.succs[f] == [t]:
            shape = (t, [f], head, f)
        if shape is None:
            continue
        join_label, sides, true_pred, false_pred = shape
        if join_label == head or join_label in removed:
            continue
        join = cfg.blocks[join_label]
        join_phis = phis(join)
        if not join_phis or len(join_phis) > _MAX_SELECTS:
            continue
        if not all(_speculatable_side(cfg.blocks[side], join_label, cfg) for side in sides):
            continue
        cond = term.operands[0]
        hoisted: list[Instr] = []
        for side in sides:
            hoisted.extend(cfg.blocks[side].instrs[:-1])
        merged = {true_pred, false_pred}
        selects: list[Instr] = []
        if fresh is None:
            fresh = NameGen(func)
        for phi in join_phis:
            values = {lb: v for v, lb in phi.incoming}
            if values[true_pred] == values[false_pred]:
                chosen: Value = values[true_pred]
            else:
                name = fresh()
                selects.append(
                    Instr("select", name, phi.ty, [cond, values[true_pred], values[false_pred]])
                )
                chosen = Local(phi.ty, name)
            phi.incoming = [(v, lb) for v, lb in phi.incoming if lb not in merged]
            phi.incoming.append((chosen, head))
        head_block.instrs = head_block.instrs[:-1] + hoisted + selects
        head_block.instrs.append(Instr("br", targets=[join_label]))
        for side in sides:
            removed.add(side)
            cfg.succs[side] = []
            cfg.preds[side] = []
        cfg.succs[head] = [join_label]
        cfg.preds[join_label] = [p for p in cfg.preds[join_label] if p not in merged] + [head]
        changed = True
    if changed:
        func.blocks = [b for b in func.blocks if b.label not in removed]
    return changed


def _is_side(cfg: CFG, label: str, head: str) -> bool:
    return cfg.preds[label] == [head] and len(cfg.succs[label]) == 1


def simplify_cfg(func: Function) -> bool:
    """Run the CFG clean-ups to a fixpoint; True when anything changed."""
    if not func.blocks:
        return False
    changed = False
    for _ in range(20):
        step = _fold_branches(func)
        step = _remove_unreachable(func) or step
        step = _merge_into_predecessor(func) or step
        step = _thread_phi_branches(func) or step
        step = _bypass_empty_blocks(func) or step
        step = _form_selects(func) or step
        if not step:
            break
        changed = True
    return changed
