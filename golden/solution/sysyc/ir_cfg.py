"""Control-flow analyses over the IR model: successors, predecessors, reverse postorder,
dominator tree, dominance frontiers and natural loops; plus small rewriting helpers that
every pass needs (fresh names, replacing uses)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from .ir import Block, Function, Instr, Local, Value

TERMINATORS = frozenset({"br", "switch", "ret", "unreachable"})


def successors(block: Block) -> list[str]:
    """Labels the block's terminator may jump to (duplicates removed, order kept)."""
    if not block.instrs:
        return []
    term = block.instrs[-1]
    if term.op == "br":
        targets = term.targets
    elif term.op == "switch":
        targets = term.targets + [label for _, label in term.cases]
    else:
        return []
    if len(targets) == 1:
        return list(targets)
    return list(dict.fromkeys(targets))


@dataclass
class CFG:
    """Successor and predecessor lists of a function's blocks, keyed by label."""

    blocks: dict[str, Block]
    succs: dict[str, list[str]]
    preds: dict[str, list[str]]
    entry: str

    @staticmethod
    def of(func: Function) -> CFG:
        blocks = {b.label: b for b in func.blocks}
        succs = {b.label: successors(b) for b in func.blocks}
        preds: dict[str, list[str]] = {b.label: [] for b in func.blocks}
        for label, targets in succs.items():
            for target in targets:
                preds[target].append(label)
        return CFG(blocks, succs, preds, func.blocks[0].label)

    def reverse_postorder(self) -> list[str]:
        """Blocks reachable from the entry, in reverse postorder."""
        order: list[str] = []
        seen = {self.entry}
        stack: list[tuple[str, Iterator[str]]] = [(self.entry, iter(self.succs[self.entry]))]
        while stack:
            label, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                order.append(label)
            elif child not in seen:
                seen.add(child)
                stack.append((child, iter(self.succs[child])))
        order.reverse()
        return order


@dataclass
class DomTree:
    """Immediate dominators (entry maps to itself) over the reachable blocks."""

    idom: dict[str, str]
    children: dict[str, list[str]]
    order: list[str]  # reverse postorder
    index: dict[str, int]
    _depth: dict[str, int] = field(default_factory=dict)

    @staticmethod
    def of(cfg: CFG) -> DomTree:
        order = cfg.reverse_postorder()
        index = {label: i for i, label in enumerate(order)}
        idom: dict[str, str] = {cfg.entry: cfg.entry}
        changed = True
        while changed:
            changed = False
            for label in order[1:]:
                new: str | None = None
                for pred in cfg.preds[label]:
                    if pred not in idom:
                        continue
                    if new is None:
                        new = pred
                        continue
                    a, b = pred, new
                    while a != b:
                        while index[a] > index[b]:
                            a = idom[a]
                        while index[b] > index[a]:
                            b = idom[b]
                    new = a
                if new is not None and idom.get(label) != new:
                    idom[label] = new
                    changed = True
        children: dict[str, list[str]] = {label: [] for label in order}
        for label in order[1:]:
            children[idom[label]].append(label)
        tree = DomTree(idom, children, order, index)
        depth = tree._depth
        for label in order:
            depth[label] = 0 if label == cfg.entry else depth[idom[label]] + 1
        return tree

    def dominates(self, a: str, b: str) -> bool:
        """Block a dominates block b (reflexive)."""
        depth = self._depth
        if a not in depth or b not in depth:
            return False
        da = depth[a]
        while depth[b] > da:
            b = self.idom[b]
        return a == b

    def preorder(self) -> list[str]:
        out: list[str] = []
        stack = [self.order[0]]
        while stack:
            label = stack.pop()
            out.append(label)
            stack.extend(reversed(self.children[label]))
        return out


def dominance_frontiers(cfg: CFG, dom: DomTree) -> dict[str, set[str]]:
    frontiers: dict[str, set[str]] = {label: set() for label in dom.order}
    for label in dom.order:
        preds = [p for p in cfg.preds[label] if p in dom.idom]
        if len(preds) < 2:
            continue
        for pred in preds:
            runner = pred
            while runner != dom.idom[label]:
                frontiers[runner].add(label)
                runner = dom.idom[runner]
    return frontiers


@dataclass
class Loop:
    header: str
    body: set[str]  # includes the header
    latches: list[str]
    parent: Loop | None = None
    children: list[Loop] = field(default_factory=list)

    def exits(self, cfg: CFG) -> list[str]:
        """Blocks outside the loop that loop blocks branch to."""
        out: dict[str, None] = {}
        for label in self.body:
            for succ in cfg.succs[label]:
                if succ not in self.body:
                    out[succ] = None
        return list(out)

    def exiting(self, cfg: CFG) -> list[str]:
        return [b for b in self.body if any(s not in self.body for s in cfg.succs[b])]

    def depth(self) -> int:
        d = 1
        loop = self.parent
        while loop is not None:
            d += 1
            loop = loop.parent
        return d


def natural_loops(cfg: CFG, dom: DomTree) -> list[Loop]:
    """Natural loops (back edges merged per header), innermost first."""
    by_header: dict[str, Loop] = {}
    for label in dom.order:
        for succ in cfg.succs[label]:
            if dom.dominates(succ, label):
                loop = by_header.get(succ)
                if loop is None:
                    loop = by_header[succ] = Loop(succ, {succ}, [])
                loop.latches.append(label)
                stack = [label]
                while stack:
                    node = stack.pop()
                    if node in loop.body:
                        continue
                    loop.body.add(node)
                    stack.extend(p for p in cfg.preds[node] if p in dom.idom)
    loops = sorted(by_header.values(), key=lambda lp: len(lp.body))
    for i, loop in enumerate(loops):
        for outer in loops[i + 1 :]:
            if loop.header in outer.body and outer is not loop:
                loop.parent = outer
                outer.children.append(loop)
                break
    return loops


class NameGen:
    """Fresh numeric value/block names for one function (the printer renumbers them)."""

    def __init__(self, func: Function) -> None:
        top = -1
        for param in func.params:
            if param.name.isdigit():
                top = max(top, int(param.name))
        for block in func.blocks:
            if block.label.isdigit():
                top = max(top, int(block.label))
            for instr in block.instrs:
                if instr.result is not None and instr.result.isdigit():
                    top = max(top, int(instr.result))
        self.next = top + 1

    def __call__(self) -> str:
        name = str(self.next)
        self.next += 1
        return name


def map_operands(instr: Instr, fn: Callable[[Value], Value]) -> None:
    """Apply fn to every value operand of instr (including phi incoming values)."""
    if instr.operands:
        instr.operands = [fn(v) for v in instr.operands]
    if instr.incoming:
        instr.incoming = [(fn(v), label) for v, label in instr.incoming]


def replace_uses(func: Function, mapping: dict[str, Value]) -> None:
    """Replace every use of the locals named in mapping, resolving chains of replacements."""
    if not mapping:
        return

    def resolve(value: Value) -> Value:
        seen = 0
        while isinstance(value, Local) and value.name in mapping:
            value = mapping[value.name]
            seen += 1
            if seen > len(mapping):
                raise ValueError("cyclic replacement")
        return value

    for block in func.blocks:
        for instr in block.instrs:
            if instr.operands:
                for v in instr.operands:
                    if isinstance(v, Local) and v.name in mapping:
                        instr.operands = [resolve(x) for x in instr.operands]
                        break
            if instr.incoming:
                for v, _ in instr.incoming:
                    if isinstance(v, Local) and v.name in mapping:
                        instr.incoming = [(resolve(x), lb) for x, lb in instr.incoming]
                        break


def use_counts(func: Function) -> dict[str, int]:
    """How many times each local is used as an operand."""
    counts: dict[str, int] = {}
    for block in func.blocks:
        for instr in block.instrs:
            for v in instr.operands:
                if isinstance(v, Local):
                    counts[v.name] = counts.get(v.name, 0) + 1
            for v, _ in instr.incoming:
                if isinstance(v, Local):
                    counts[v.name] = counts.get(v.name, 0) + 1
    return counts


def instr_values(instr: Instr) -> list[Value]:
    """All value operands of instr, including phi incoming values."""
    if instr.incoming:
        return [v for v, _ in instr.incoming]
    return instr.operands


def retarget(term: Instr, old: str, new: str) -> None:
    """Make the terminator jump to `new` wherever it jumped to `old`."""
    term.targets = [new if t == old else t for t in term.targets]
    if term.cases:
        term.cases = [(v, new if t == old else t) for v, t in term.cases]


def phis(block: Block) -> list[Instr]:
    out = []
    for instr in block.instrs:
        if instr.op != "phi":
            break
        out.append(instr)
    return out


def ensure_preheader(func: Function, cfg: CFG, loop: Loop, fresh: NameGen) -> bool:
    """Make sure the loop header has a unique outside predecessor that only jumps to it.
    Returns True when a block was created (the CFG object is then stale)."""
    header = loop.header
    outside = [p for p in cfg.preds[header] if p not in loop.body]
    if len(outside) == 1:
        only = cfg.blocks[outside[0]]
        if cfg.succs[only.label] == [header] and only.instrs[-1].op == "br":
            return False
    if not outside:
        return False
    if any(cfg.blocks[p].instrs[-1].op not in ("br", "switch") for p in outside):
        return False
    label = fresh()
    pre = Block(label)
    for pred in outside:
        retarget(cfg.blocks[pred].instrs[-1], header, label)
    for phi in phis(cfg.blocks[header]):
        inside = [(v, lb) for v, lb in phi.incoming if lb not in outside]
        from_outside = [(v, lb) for v, lb in phi.incoming if lb in outside]
        values = {v for v, _ in from_outside}
        if len(values) == 1:
            merged: Value = from_outside[0][0]
        else:
            name = fresh()
            pre.instrs.append(Instr("phi", name, phi.ty, incoming=from_outside))
            merged = Local(phi.ty, name)
        phi.incoming = [*inside, (merged, label)]
    pre.instrs.append(Instr("br", targets=[header]))
    index = next(i for i, b in enumerate(func.blocks) if b.label == header)
    func.blocks.insert(index, pre)
    return True


def clone_instr(instr: Instr) -> Instr:
    """A copy of instr with its own operand/incoming/target lists."""
    return Instr(
        instr.op,
        instr.result,
        instr.ty,
        list(instr.operands),
        instr.pred,
        instr.alloc_ty,
        instr.callee,
        instr.varargs,
        list(instr.incoming),
        list(instr.targets),
        list(instr.cases),
        instr.flags,
    )


def result_type(instr: Instr) -> str:
    """The type of the value an instruction defines."""
    if instr.op == "icmp":
        return "i1"
    if instr.op in ("getelementptr", "alloca"):
        return "ptr"
    return instr.ty


def lookup(value: Value, mapping: dict[str, Value]) -> Value:
    """value renamed through mapping (local name to its replacement)."""
    if isinstance(value, Local) and value.name in mapping:
        return mapping[value.name]
    return value


def copy_loop_iteration(
    cfg: CFG,
    order: list[str],
    header: str,
    entering: dict[str, Value],
    fresh: NameGen,
    back_edge_to: str | None = None,
) -> tuple[list[Block], dict[str, Value], dict[str, str]]:
    """Copies of the loop blocks `order` for one iteration, with fresh names throughout.

    The header phis named in `entering` are left out and their uses take the given values.
    Branches to the header go to `back_edge_to`, or to the copied header when it is None.
    Returns the blocks, the value renaming and the label renaming."""
    mapping: dict[str, Value] = dict(entering)
    labels = {label: fresh() for label in order}
    for label in order:
        for instr in cfg.blocks[label].instrs:
            if instr.result is not None and instr.result not in entering:
                mapping[instr.result] = Local(result_type(instr), fresh())
    blocks: list[Block] = []
    for label in order:
        block = Block(labels[label])
        for instr in cfg.blocks[label].instrs:
            if label == header and instr.op == "phi" and instr.result in entering:
                continue
            clone = clone_instr(instr)
            if clone.result is not None:
                target = mapping[clone.result]
                assert isinstance(target, Local)
                clone.result = target.name
            clone.operands = [lookup(v, mapping) for v in instr.operands]
            clone.incoming = [(lookup(v, mapping), labels[lb]) for v, lb in instr.incoming]
            clone.targets = [
                back_edge_to if back_edge_to is not None and t == header else labels.get(t, t)
                for t in instr.targets
            ]
            clone.cases = [(v, labels.get(t, t)) for v, t in instr.cases]
            block.instrs.append(clone)
        blocks.append(block)
    return blocks, mapping, labels


def transform_loops(
    func: Function,
    rounds: int,
    prepare: Callable[[CFG, Loop], bool],
    transform: Callable[[CFG, DomTree, Loop], bool],
) -> bool:
    """Offer every loop to `transform` once, recomputing the CFG after each change.

    `prepare` runs first on each loop not yet offered; when it changes the function (returns
    True) the analysis restarts and the loop comes round again. At most `rounds` restarts.
    True when `transform` changed anything."""
    changed = False
    done: set[str] = set()
    for _ in range(rounds):
        cfg = CFG.of(func)
        dom = DomTree.of(cfg)
        progress = False
        for loop in natural_loops(cfg, dom):
            if loop.header in done:
                continue
            if prepare(cfg, loop):
                progress = True
                break
            done.add(loop.header)
            if transform(cfg, dom, loop):
                progress = changed = True
                break
        if not progress:
            break
    return changed
