"""Tail recursion elimination: a self call whose result is returned directly (possibly
through the return block's phi) becomes a jump back to the top of the function, with phis
for the parameters."""

from __future__ import annotations

from sysyc.ir import Block, Function, Instr, Local, Value
from sysyc.ir_cfg import CFG, NameGen, phis, replace_uses


def _returned_directly(block: Block, call: Instr, cfg: CFG) -> str | None:
    """'' when `call` is followed by `ret` of its result in the same block; the label of
    the return block when the block jumps to `{phi; ret phi}` passing the result; else None."""
    index = next(i for i, instr in enumerate(block.instrs) if instr is call)
    rest = block.instrs[index + 1 :]
    result = Local(call.ty, call.result) if call.result is not None else None
    if len(rest) != 1:
        return None
    term = rest[0]
    if term.op == "ret":
        if call.ty == "void" or (term.operands and term.operands[0] == result):
            return ""
        return None
    if term.op != "br" or term.operands:
        return None
    target = cfg.blocks[term.targets[0]]
    if call.ty == "void":
        return target.label if [i.op for i in target.instrs] == ["ret"] else None
    if len(target.instrs) != 2:
        return None
    phi, ret = target.instrs
    if phi.op != "phi" or ret.op != "ret" or ret.operands != [Local(phi.ty, phi.result or "")]:
        return None
    incoming = [v for v, lb in phi.incoming if lb == block.label]
    if incoming != [result]:
        return None
    return target.label


def eliminate_tail_recursion(func: Function) -> bool:
    if not func.blocks or func.varargs:
        return False
    cfg = CFG.of(func)
    sites: list[tuple[Block, Instr, str]] = []
    for block in func.blocks:
        for instr in block.instrs:
            if instr.op == "call" and instr.callee == func.name:
                via = _returned_directly(block, instr, cfg)
                if via is not None:
                    sites.append((block, instr, via))
    if not sites:
        return False
    fresh = NameGen(func)
    old_entry = func.blocks[0]
    new_entry = Block(fresh())
    new_entry.instrs = [i for i in old_entry.instrs if i.op == "alloca"]
    old_entry.instrs = [i for i in old_entry.instrs if i.op != "alloca"]
    new_entry.instrs.append(Instr("br", targets=[old_entry.label]))
    param_phis: list[Instr] = []
    mapping: dict[str, Value] = {}
    for param in func.params:
        name = fresh()
        mapping[param.name] = Local(param.ty, name)
        param_phis.append(
            Instr("phi", name, param.ty, incoming=[(Local(param.ty, param.name), new_entry.label)])
        )
    replace_uses(func, mapping)
    for block, call, via in sites:
        for phi, arg in zip(param_phis, call.operands, strict=True):
            phi.incoming.append((arg, block.label))
        index = next(i for i, instr in enumerate(block.instrs) if instr is call)
        block.instrs = [*block.instrs[:index], Instr("br", targets=[old_entry.label])]
        if via:
            for phi in phis(cfg.blocks[via]):
                phi.incoming = [(v, lb) for v, lb in phi.incoming if lb != block.label]
    old_entry.instrs[0:0] = param_phis
    func.blocks.insert(0, new_entry)
    return True
