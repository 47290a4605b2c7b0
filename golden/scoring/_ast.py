"""T2: clang's ``-ast-dump=json`` tree, judged subtree by subtree on its canonical form.

Both trees are first reduced to their canonical form (``_canonical``), so the score of a
raw output and of what it hands T3 are the same by construction. The produced tree is then
paired with the reference top-down: the children of paired nodes are matched by longest
common subsequence of whole subtrees, then as moves, then by node kind and position, so one
missing or extra statement does not shift every sibling after it. A reference node is
right only when its whole subtree is: every node in it paired, each with the same own
fields and the same referenced declaration (by identity, through the pairing), no child
missing, extra or out of order, and the node not inside a subtree paired out of order (the
course's subtree rule; a moved subtree earns nothing, as a child compared by position with
another would). A produced node paired with nothing costs as much as a reference node. With N reference
nodes, S1 subtrees right at level 1, S2 right at level 2 (types too) and X produced nodes
left over, a case scores ``100 * max(0, 3*S1 + 2*S2 - 5*X) / (5*N)``.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Hashable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ._canonical import canonical_tree
from ._json import MAX_JSON_DEPTH, load_ast, parse_json
from ._models import CaseScore, GoldenArtifactError, make_score, shorten

__all__ = ["MAX_JSON_DEPTH", "load_ast", "score_t2"]

# The fields a node must share with its reference twin at level 1, besides which declaration
# it refers to: its own, then its referencedDecl's (the order of :func:`_own`'s tuple).
_OWN_FIELDS = ("kind", "name", "value", "opcode", "castKind")
_REF_FIELDS = ("kind", "name")
_CHILDREN = ("inner", "array_filler")
_ABSENT = "\x00absent"  # not a value any canonical field can hold
_NO_TARGET, _OUTSIDE = -1, -2  # no reference at all; a reference to no node of the tree
# Cells of longest-common-subsequence tables one scoring may fill; past it, children
# are aligned by position (only trees far from the reference get there).
ALIGN_BUDGET = 2_000_000


class _Collector:
    """Who is scoring with the cyclic garbage collector paused, and whether we paused it."""

    lock = threading.Lock()
    holders = 0
    paused = False


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while scoring: the trees hold no cycles, and with
    millions of live objects its full passes take half the time on a stress case."""
    with _Collector.lock:
        if _Collector.holders == 0:
            _Collector.paused = gc.isenabled()
            gc.disable()
        _Collector.holders += 1
    try:
        yield
    finally:
        with _Collector.lock:
            _Collector.holders -= 1
            if _Collector.holders == 0 and _Collector.paused:
                gc.enable()


class _Tree:
    """A canonical tree flattened in pre-order, so every pass is a loop over indices."""

    def __init__(self, root: dict[str, Any]) -> None:
        self.nodes: list[dict[str, Any]] = []
        self.parent: list[int] = []
        self.place: list[tuple[int, int]] = []  # (which list of _CHILDREN, index in it)
        self.kids: list[tuple[list[int], list[int]]] = []  # (inner, array_filler)
        self.holes: list[int] = []  # children that are not objects
        self._flatten(root)
        self.size = [1] * len(self.nodes)
        decls = {n["id"]: i for i, n in enumerate(self.nodes) if isinstance(n.get("id"), str)}
        self.own = [_own(node) for node in self.nodes]
        self.qual = [_qual(node) for node in self.nodes]
        self.ref = [_target(n.get("referencedDecl"), decls, nested=True) for n in self.nodes]
        self.prev = [_target(n.get("previousDecl"), decls, nested=False) for n in self.nodes]
        self.sig = [0] * len(self.nodes)

    def _flatten(self, root: dict[str, Any]) -> None:
        nodes, parent, place, kids, holes = (
            self.nodes,
            self.parent,
            self.place,
            self.kids,
            self.holes,
        )
        stack: list[tuple[dict[str, Any], int, int, int]] = [(root, -1, 0, 0)]
        while stack:
            node, up, key, index = stack.pop()
            me = len(nodes)
            nodes.append(node)
            parent.append(up)
            place.append((key, index))
            kids.append(([], []))
            if up >= 0:
                kids[up][key].append(me)
            hole = 0
            # Pushed last child first, so that they come off the stack in pre-order.
            for listing, which in ((node.get("array_filler"), 1), (node.get("inner"), 0)):
                if not isinstance(listing, list):
                    continue
                for position in range(len(listing) - 1, -1, -1):
                    kid = listing[position]
                    if isinstance(kid, dict):
                        stack.append((kid, me, which, position))
                    else:
                        hole += 1
            holes.append(hole)

    def children(self, index: int) -> list[int]:
        inner, filler = self.kids[index]
        return inner + filler if filler else inner

    def sign(self, table: dict[tuple[Any, ...], int]) -> None:
        """Whole-subtree signatures (ids left out), interned in ``table`` shared by both trees."""
        sig, size, kids, own, qual, holes = (
            self.sig,
            self.size,
            self.kids,
            self.own,
            self.qual,
            self.holes,
        )
        for index in range(len(self.nodes) - 1, -1, -1):
            inner, filler = kids[index]
            key: tuple[Any, ...] = (own[index], qual[index], holes[index])
            if inner or filler:
                size[index] += sum([size[k] for k in inner]) + sum([size[k] for k in filler])
                key += (tuple([sig[k] for k in inner]), tuple([sig[k] for k in filler]))
            sig[index] = table.setdefault(key, len(table))

    def path(self, index: int) -> str:
        parts: list[str] = []
        while self.parent[index] >= 0:
            key, position = self.place[index]
            parts.append(f"/{_CHILDREN[key]}/{position}")
            index = self.parent[index]
        return "".join(reversed(parts)) or "/"

    def label(self, index: int) -> str:
        kind = self.nodes[index].get("kind")
        return shorten(kind) if isinstance(kind, str) else "node"


def _own(node: dict[str, Any]) -> tuple[object, ...]:
    """The level-1 fields of a node: ``_OWN_FIELDS``, then ``_REF_FIELDS`` of its referencedDecl
    (spelled out: this runs once per node of both trees)."""
    get = node.get
    reference = get("referencedDecl")
    summary = reference if isinstance(reference, dict) else {}
    return (
        get("kind", _ABSENT),
        get("name", _ABSENT),
        get("value", _ABSENT),
        get("opcode", _ABSENT),
        get("castKind", _ABSENT),
        summary.get("kind", _ABSENT),
        summary.get("name", _ABSENT),
    )


def _qual(node: dict[str, Any]) -> object:
    holder = node.get("type")
    return holder.get("qualType", _ABSENT) if isinstance(holder, dict) else _ABSENT


def _target(value: object, decls: dict[str, int], *, nested: bool) -> int:
    """The node a reference resolves to, :data:`_OUTSIDE` if none, :data:`_NO_TARGET` if absent."""
    if value is None:
        return _NO_TARGET
    ident = value.get("id") if nested and isinstance(value, dict) else value
    return decls.get(ident, _OUTSIDE) if isinstance(ident, str) else _OUTSIDE


_Pairs = list[tuple[int, int]]


class _Aligner:
    """Pairs the produced tree's nodes with the reference's, top-down from the roots."""

    def __init__(self, want: _Tree, got: _Tree) -> None:
        self.want, self.got = want, got
        self.twin = [-1] * len(want.nodes)  # reference node -> produced node
        self.claimed = [-1] * len(got.nodes)  # produced node -> reference node
        # Reference nodes whose children are not exactly their twin's: one missing, one
        # extra, one out of order, or a child that is not an object.
        self.misshapen = bytearray(len(want.nodes))
        self.moved: set[int] = set()  # reference nodes paired out of their siblings' order
        self.budget = ALIGN_BUDGET
        self.kinds = ([own[0] for own in want.own], [own[0] for own in got.own])
        pending = [(0, 0)]
        while pending:
            pending.extend(self._pair(*pending.pop()))

    def _pair(self, g: int, p: int) -> _Pairs:
        want, got = self.want, self.got
        if want.sig[g] == got.sig[p]:  # identical subtrees: same shape, same pre-order offsets
            for offset in range(want.size[g]):
                self.twin[g + offset], self.claimed[p + offset] = p + offset, g + offset
            return []
        self.twin[g], self.claimed[p] = p, g
        found: _Pairs = []
        for wanted, offered in zip(want.kids[g], got.kids[p], strict=True):
            pairs, moved = self._align(wanted, offered)
            if moved or len(pairs) != len(wanted) or len(pairs) != len(offered):
                self.misshapen[g] = 1
            self.moved.update(w for w, _ in moved)
            found += pairs + moved
        if got.holes[p]:
            self.misshapen[g] = 1
        return found

    def _align(self, wanted: list[int], offered: list[int]) -> tuple[_Pairs, _Pairs]:
        """Pairs of two child lists in order, and pairs out of order (moves).

        The common prefix and suffix first; in between, a longest common subsequence of
        whole subtrees; then identical subtrees left in different gaps between those
        (moved: each crosses a pair of the subsequence); then, gap by gap, by kind and by
        position; then what is left, by kind across gaps (moved). Past the budget, the
        middle is paired by position."""
        ws, gs = self.want.sig, self.got.sig
        head, limit = 0, min(len(wanted), len(offered))
        while head < limit and ws[wanted[head]] == gs[offered[head]]:
            head += 1
        tail = 0
        while tail < limit - head and ws[wanted[-1 - tail]] == gs[offered[-1 - tail]]:
            tail += 1
        pairs = list(zip(wanted[:head], offered[:head], strict=True))
        pairs += zip(wanted[len(wanted) - tail :], offered[len(offered) - tail :], strict=True)
        middle = (wanted[head : len(wanted) - tail], offered[head : len(offered) - tail])
        anchors = self._lcs(middle, [ws[i] for i in middle[0]], [gs[i] for i in middle[1]])
        if anchors is None:
            return pairs + _by_position(*middle), []
        pairs += [(middle[0][i], middle[1][j]) for i, j in anchors]
        gaps = _gaps(middle, anchors)
        moved = _moves(gaps, ws, gs)
        for gap in gaps:
            paired = self._by_kind(gap)
            pairs += paired
            left = ({w for w, _ in paired}, {g for _, g in paired})
            gap[0][:] = [n for n in gap[0] if n not in left[0]]
            gap[1][:] = [n for n in gap[1] if n not in left[1]]
        return pairs, moved + _moves(gaps, *self.kinds)

    def _by_kind(self, gap: tuple[list[int], list[int]]) -> _Pairs:
        kinds = ([self.kinds[0][i] for i in gap[0]], [self.kinds[1][i] for i in gap[1]])
        anchors = self._lcs(gap, *kinds)
        if anchors is None:
            return _by_position(*gap)
        pairs = [(gap[0][i], gap[1][j]) for i, j in anchors]
        for rest in _gaps(gap, anchors):
            pairs += _by_position(*rest)
        return pairs

    def _lcs(self, lists: tuple[list[int], list[int]], a: list[Any], b: list[Any]) -> _Pairs | None:
        """:func:`_lcs` of the keys, or None when it would overrun the alignment budget."""
        if not lists[0] or not lists[1]:
            return []
        cells = len(a) * len(b)
        if cells > self.budget:
            return None
        self.budget -= cells
        return _lcs(a, b)


def _gaps(lists: tuple[list[int], list[int]], anchors: _Pairs) -> list[tuple[list[int], list[int]]]:
    """The stretches of both lists between consecutive anchors (and before and after them)."""
    wanted, offered = lists
    found = []
    last_w = last_g = 0
    for at_w, at_g in [*anchors, (len(wanted), len(offered))]:
        if at_w > last_w or at_g > last_g:
            found.append((wanted[last_w:at_w], offered[last_g:at_g]))
        last_w, last_g = at_w + 1, at_g + 1
    return found


def _moves(
    gaps: list[tuple[list[int], list[int]]], ws: Sequence[Hashable], gs: Sequence[Hashable]
) -> _Pairs:
    """Children left in the gaps that have the same key (whole-subtree signature or kind) in
    different gaps: paired as moved (first with first), and taken out of their gaps."""
    offered: dict[Hashable, list[int]] = {}
    for _, produced in reversed(gaps):
        for node in reversed(produced):
            offered.setdefault(gs[node], []).append(node)  # last first: pop() takes the first
    moved: _Pairs = []
    for wanted, _ in gaps:
        for node in wanted:
            twins = offered.get(ws[node])
            if twins:
                moved.append((node, twins.pop()))
    if moved:
        taken_w, taken_g = {w for w, _ in moved}, {g for _, g in moved}
        gaps[:] = [
            ([n for n in w if n not in taken_w], [n for n in g if n not in taken_g])
            for w, g in gaps
        ]
    return moved


def _by_position(wanted: list[int], offered: list[int]) -> _Pairs:
    return list(zip(wanted, offered, strict=False))


def _lcs(a: list[Any], b: list[Any]) -> list[tuple[int, int]]:
    """Index pairs of one longest common subsequence of ``a`` and ``b`` (dynamic programming)."""
    rows = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) - 1, -1, -1):
        row, below, item = rows[i], rows[i + 1], a[i]
        for j in range(len(b) - 1, -1, -1):
            row[j] = below[j + 1] + 1 if item == b[j] else max(below[j], row[j + 1])
    pairs: list[tuple[int, int]] = []
    i = j = 0
    while i < len(a) and j < len(b):
        if a[i] == b[j]:
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif rows[i + 1][j] >= rows[i][j + 1]:
            i += 1
        else:
            j += 1
    return pairs


def _same_target(wanted: int, offered: int, twin: list[int]) -> bool:
    """A reference is right when it resolves to the twin of the reference's declaration."""
    return offered >= 0 and twin[wanted] == offered if wanted >= 0 else offered == wanted


def _judge(want: _Tree, got: _Tree, aligned: _Aligner) -> tuple[int, int, int]:
    """Subtrees right at level 1 and at level 2, and the first reference node at fault."""
    twin = aligned.twin
    level1, level2 = bytearray(len(want.nodes)), bytearray(len(want.nodes))
    displaced = bytearray(len(want.nodes))  # in a subtree out of its siblings' order
    for g in aligned.moved:
        displaced[g : g + want.size[g]] = b"\x01" * want.size[g]
    first = -1
    for g in range(len(want.nodes) - 1, -1, -1):
        p = twin[g]
        if p < 0:
            continue  # its parent has a missing child: the fault is counted there
        own = (
            want.own[g] == got.own[p]
            and _same_target(want.ref[g], got.ref[p], twin)
            and _same_target(want.prev[g], got.prev[p], twin)
        )
        typed = want.qual[g] == got.qual[p]
        if not (own and typed) or aligned.misshapen[g]:
            first = g
        kids = want.children(g)
        if own and not (aligned.misshapen[g] or displaced[g]) and all(level1[k] for k in kids):
            level1[g] = 1
            level2[g] = typed and all(level2[k] for k in kids)
    return sum(level1), sum(level2), first


def _show(value: object) -> str:
    if value is _ABSENT:
        return "nothing"
    if isinstance(value, str):
        return f"'{shorten(value)}'"
    return "null" if value is None else "a value of the wrong form"


def _declaration(tree: _Tree, index: int, number: int) -> str:
    name = tree.nodes[index].get("name")
    named = f" {_show(name)}" if isinstance(name, str) else ""
    return f"the declaration at node {number} ({tree.label(index)}{named})"


def _resolved(want: _Tree, got: _Tree, aligned: _Aligner, target: int, produced: bool) -> str:
    if target == _NO_TARGET:
        return "none"
    if target == _OUTSIDE:
        return "an id that names no declaration in the tree"
    if not produced:
        return _declaration(want, target, target + 1)
    twin = aligned.claimed[target]
    if twin >= 0:
        return _declaration(got, target, twin + 1)
    return f"a declaration with no counterpart in the reference (at {got.path(target)})"


def _misshapen(want: _Tree, got: _Tree, aligned: _Aligner, g: int) -> str:
    lost = [k for k in want.children(g) if aligned.twin[k] < 0]
    if lost:
        kid = lost[0]
        return (
            f"its child {want.path(kid)} ({want.label(kid)}, with "
            f"{want.size[kid] - 1} descendants) is missing from the produced AST"
        )
    p = aligned.twin[g]
    extra = [k for k in got.children(p) if aligned.claimed[k] < 0]
    if extra:
        kid = extra[0]
        return (
            f"the produced AST has an extra child at {got.path(kid)} ({got.label(kid)}, "
            f"with {got.size[kid] - 1} descendants)"
        )
    moved = [k for k in want.children(g) if k in aligned.moved]
    if moved:
        kid = moved[0]
        return (
            f"its child {want.path(kid)} ({want.label(kid)}, with {want.size[kid] - 1} "
            f"descendants) is out of order in the produced AST (at {got.path(aligned.twin[kid])})"
        )
    return "the produced AST has a child that is not a JSON object"


def _fault(want: _Tree, got: _Tree, aligned: _Aligner, g: int) -> str:
    """What is wrong at reference node ``g`` itself, in words."""
    p = aligned.twin[g]
    names = (*_OWN_FIELDS, *(f"referencedDecl {field}" for field in _REF_FIELDS))
    for name, wanted, offered in zip(names, want.own[g], got.own[p], strict=True):
        if wanted != offered:
            return f"expected {name} {_show(wanted)}, got {_show(offered)}"
    for name, targets in (("refers to", (want.ref, got.ref)), ("follows", (want.prev, got.prev))):
        wanted, offered = targets[0][g], targets[1][p]
        if not _same_target(wanted, offered, aligned.twin):
            expected = _resolved(want, got, aligned, wanted, produced=False)
            found = _resolved(want, got, aligned, offered, produced=True)
            return f"expected it {name} {expected}, got {found}"
    if aligned.misshapen[g]:
        return _misshapen(want, got, aligned, g)
    return f"expected qualType {_show(want.qual[g])}, got {_show(got.qual[p])}"


def _canonical(value: str | bytes | object) -> tuple[dict[str, Any] | None, str]:
    tree, why = parse_json(value) if isinstance(value, str | bytes) else (value, "")
    root = canonical_tree(tree)
    if root is None and not why:
        why = f"top level is {_show(tree) if isinstance(tree, str) else _kind_of(tree)}"
        why += ", not an object"
    return root, why


def _kind_of(value: object) -> str:
    names = {list: "an array", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def score_t2(golden: str | bytes | object, produced: str | bytes | object) -> CaseScore:
    """100 * max(0, 3*S1 + 2*S2 - 5*X) / (5*N): subtrees right, less produced nodes left over."""
    with _collector_paused():
        return _score(golden, produced)


def _score(golden: str | bytes | object, produced: str | bytes | object) -> CaseScore:
    want_root, why = _canonical(golden)
    if want_root is None:
        raise GoldenArtifactError(f"the golden AST is unusable: {why}")
    want = _Tree(want_root)
    got_root, why = _canonical(produced)
    if got_root is None:
        return make_score(
            0.0, f"produced AST is unusable: {why}", {"golden_nodes": len(want.nodes)}
        )
    got = _Tree(got_root)
    table: dict[tuple[Any, ...], int] = {}
    want.sign(table)
    got.sign(table)
    aligned = _Aligner(want, got)
    level1, level2, first = _judge(want, got, aligned)
    paired = sum(1 for p in aligned.twin if p >= 0)
    extra = len(got.nodes) - paired + sum(got.holes)
    total = len(want.nodes)
    details: dict[str, float | int | str] = {
        "golden_nodes": total,
        "produced_nodes": len(got.nodes),
        "paired_nodes": paired,
        "extra_nodes": extra,
        "l1_subtrees": level1,
        "l2_subtrees": level2,
    }
    if first < 0:
        return make_score(100.0, f"all {total} golden nodes match", details)
    where = f"node {first + 1} ({want.label(first)}) at {want.path(first)}"
    # Integer weights (3:2 = 0.6:0.4) and one division keep the result reproducible.
    value = 100.0 * max(0, 3 * level1 + 2 * level2 - 5 * extra) / (5 * total)
    return make_score(value, f"{where}: {_fault(want, got, aligned, first)}", details)
