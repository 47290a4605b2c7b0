"""Initialisers as clang's InitListChecker forms them: brace elision, nested lists, and an
`array_filler` (ImplicitValueInitExpr) for the elements nobody wrote."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .ast_sema import Expr, Sema, SemanticError
from .ast_types import Array, CType, spell

__all__ = ["BraceList", "InitItem", "build_initializer"]

Node = dict[str, Any]


@dataclass(slots=True)
class BraceList:
    """`{ ... }` as written: expressions and nested brace lists."""

    items: list[InitItem]


InitItem = Expr | BraceList


def build_initializer(sema: Sema, target: CType, item: InitItem) -> Node:
    """The initialiser node of a variable of type ``target``."""
    if isinstance(item, BraceList):
        return _braced(sema, target, item.items)
    if isinstance(target, Array):
        raise SemanticError("array initializer must be an initializer list")
    return sema.convert(sema.rvalue(item), target).node


def _braced(sema: Sema, target: CType, items: list[InitItem]) -> Node:
    if isinstance(target, Array):
        node, _ = _array(sema, target, items, 0)
        return node
    inits = [_node(_scalar(sema, target, items[0]))] if items else []
    return _init_list(sema, target, inits, None)


def _scalar(sema: Sema, target: CType, item: InitItem) -> Expr | Node:
    """A scalar element; braces around it stay as a one-element list (extra items dropped)."""
    if isinstance(item, BraceList):
        inits = [_node(_scalar(sema, target, item.items[0]))] if item.items else []
        return _init_list(sema, target, inits, None)
    return sema.convert(sema.rvalue(item), target)


def _node(value: Expr | Node) -> Node:
    return value.node if isinstance(value, Expr) else value


def _array(sema: Sema, target: Array, items: list[InitItem], start: int) -> tuple[Node, int]:
    """The list for ``target`` from items[start:]; also the index of the first unused item.

    Called for an explicit brace list (start 0, excess items are dropped as clang does) and
    for brace elision, where the sub-array takes only the items it needs.
    """
    element = target.element
    size = target.size
    inits: list[Node] = []
    position = start
    while position < len(items) and (size is None or len(inits) < size):
        item = items[position]
        if isinstance(element, Array):
            if isinstance(item, BraceList):
                inits.append(_braced(sema, element, item.items))
                position += 1
            else:
                sub_list, position = _array(sema, element, items, position)
                inits.append(sub_list)
        else:
            inits.append(_node(_scalar(sema, element, item)))
            position += 1
    filler = None
    if size is not None and len(inits) < size:
        filler = {
            "id": sema.new_id(),
            "kind": "ImplicitValueInitExpr",
            "type": {"qualType": spell(element)},
            "valueCategory": "prvalue",
        }
    return _init_list(sema, target, inits, filler), position


def _init_list(sema: Sema, target: CType, inits: list[Node], filler: Node | None) -> Node:
    node: Node = {
        "id": sema.new_id(),
        "kind": "InitListExpr",
        "type": {"qualType": spell(target)},
        "valueCategory": "prvalue",
    }
    # clang's JSON lists the filler first and the elements after it under "array_filler".
    if filler is not None:
        node["array_filler"] = [filler, *inits]
    elif inits:
        node["inner"] = inits
    return node
