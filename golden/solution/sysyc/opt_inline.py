"""Function inlining: calls to small non-recursive functions (or functions with a single
call site) are replaced by a copy of the callee's body, bottom-up over the call graph."""

from __future__ import annotations

from collections.abc import Callable

from sysyc.ir import Block, Function, Instr, Local, Module, Value
from sysyc.ir_cfg import NameGen, clone_instr, phis, replace_uses

SMALL_CALLEE = 60  # instructions
SINGLE_SITE_CALLEE = 400
MAX_FUNCTION_SIZE = 4000  # stop inlining into a caller beyond this many instructions


def _size(func: Function) -> int:
    return sum(len(b.instrs) for b in func.blocks)


def call_graph(module: Module) -> dict[str, set[str]]:
    defined = {f.name for f in module.functions if f.blocks}
    graph: dict[str, set[str]] = {name: set() for name in defined}
    for func in module.functions:
        for block in func.blocks:
            for instr in block.instrs:
                if instr.op == "call" and instr.callee in defined:
                    graph[func.name].add(instr.callee)
    return graph


def recursive_functions(graph: dict[str, set[str]]) -> set[str]:
    """Functions on a call-graph cycle (Tarjan's strongly connected components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    result: set[str] = set()
    counter = 0
    for root in graph:
        if root in index:
            continue
        work: list[tuple[str, list[str]]] = [(root, sorted(graph[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, pending = work[-1]
            if pending:
                child = pending.pop()
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, sorted(graph[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph[node]:
                    result.update(component)
    return result


def bottom_up_order(graph: dict[str, set[str]]) -> list[str]:
    """Callees before callers (cycles broken arbitrarily)."""
    order: list[str] = []
    seen: set[str] = set()
    for root in sorted(graph):
        if root in seen:
            continue
        seen.add(root)
        work: list[tuple[str, list[str]]] = [(root, sorted(graph[root]))]
        while work:
            node, pending = work[-1]
            if pending:
                child = pending.pop()
                if child not in seen:
                    seen.add(child)
                    work.append((child, sorted(graph[child])))
                continue
            work.pop()
            order.append(node)
    return order


def inline_call(caller: Function, block_index: int, instr_index: int, callee: Function) -> None:
    """Replace the call at caller.blocks[block_index].instrs[instr_index] by callee's body."""
    fresh = NameGen(caller)
    block = caller.blocks[block_index]
    call = block.instrs[instr_index]
    tail_label = fresh()
    tail = Block(tail_label, block.instrs[instr_index + 1 :])
    block.instrs = block.instrs[:instr_index]
    # successors' phis now come from the tail block
    for instr in tail.instrs[-1:]:
        for succ_label in set(instr.targets) | {lb for _, lb in instr.cases}:
            for succ in caller.blocks:
                if succ.label == succ_label:
                    for phi in phis(succ):
                        phi.incoming = [
                            (v, tail_label if lb == block.label else lb) for v, lb in phi.incoming
                        ]

    names: dict[str, str] = {}
    for cb in callee.blocks:
        names[cb.label] = fresh()
        for instr in cb.instrs:
            if instr.result is not None:
                names[instr.result] = fresh()
    args: dict[str, Value] = {p.name: a for p, a in zip(callee.params, call.operands, strict=True)}

    def remap(value: Value) -> Value:
        if isinstance(value, Local):
            if value.name in args:
                return args[value.name]
            return Local(value.ty, names[value.name])
        return value

    returns: list[tuple[Value, str]] = []
    new_blocks: list[Block] = []
    hoisted_allocas: list[Instr] = []
    for cb in callee.blocks:
        nb = Block(names[cb.label])
        for instr in cb.instrs:
            clone = clone_instr(instr)
            if clone.result is not None:
                clone.result = names[clone.result]
            clone.operands = [remap(v) for v in instr.operands]
            clone.incoming = [(remap(v), names[lb]) for v, lb in instr.incoming]
            clone.targets = [names[t] for t in instr.targets]
            clone.cases = [(v, names[t]) for v, t in instr.cases]
            if clone.op == "ret":
                if clone.operands:
                    returns.append((clone.operands[0], nb.label))
                else:
                    returns.append((Local("void", ""), nb.label))
                nb.instrs.append(Instr("br", targets=[tail_label]))
                continue
            if clone.op == "alloca" and not clone.operands:
                hoisted_allocas.append(clone)
                continue
            nb.instrs.append(clone)
        new_blocks.append(nb)

    block.instrs.append(Instr("br", targets=[new_blocks[0].label]))
    caller.blocks[block_index + 1 : block_index + 1] = [*new_blocks, tail]
    caller.blocks[0].instrs[0:0] = hoisted_allocas
    if call.result is not None:
        if len(returns) == 1:
            replace_uses(caller, {call.result: returns[0][0]})
        else:
            tail.instrs.insert(0, Instr("phi", call.result, call.ty, incoming=returns))


def inline_module(
    module: Module,
    cleanup: Callable[[Function], None],
    small: int = SMALL_CALLEE,
) -> None:
    """Inline bottom-up; `cleanup` is run on each caller after inlining into it."""
    functions = {f.name: f for f in module.functions if f.blocks}
    graph = call_graph(module)
    recursive = recursive_functions(graph)
    sites: dict[str, int] = {}
    for func in functions.values():
        for block in func.blocks:
            for instr in block.instrs:
                if instr.op == "call" and instr.callee in functions:
                    sites[instr.callee] = sites.get(instr.callee, 0) + 1
    for name in bottom_up_order(graph):
        caller = functions[name]
        changed = False
        budget = MAX_FUNCTION_SIZE
        bi = 0
        while bi < len(caller.blocks):
            block = caller.blocks[bi]
            inlined = False
            for ii, instr in enumerate(block.instrs):
                if instr.op != "call" or instr.callee not in functions:
                    continue
                callee = functions[instr.callee]
                if callee is caller or callee.name in recursive or callee.varargs:
                    continue
                size = _size(callee)
                limit = SINGLE_SITE_CALLEE if sites.get(callee.name, 0) == 1 else small
                if size > limit or _size(caller) + size > budget:
                    continue
                inline_call(caller, bi, ii, callee)
                inlined = changed = True
                break
            if not inlined:
                bi += 1
        if changed:
            cleanup(caller)
