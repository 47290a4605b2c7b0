"""Constant folding of SysY expressions and the layout of initialiser lists.

Both work on the JSON AST (nodes are the dicts `json.loads` gives).
"""

from __future__ import annotations

from typing import Any

from .irgen_types import ConstantLookup, c_binary, element_count, parse_int_literal, wrap_i32

__all__ = [
    "Node",
    "evaluate_constant",
    "flatten_initializer",
    "initializer_elements",
    "reference_name",
    "strip_parens_and_casts",
]

Node = dict[str, Any]

_TRANSPARENT = ("ParenExpr", "ImplicitCastExpr", "ConstantExpr")


def reference_name(node: Node) -> str:
    """The identifier a DeclRefExpr names (clang keeps it in `referencedDecl`)."""
    name = node.get("name")
    if isinstance(name, str):
        return name
    referenced = node.get("referencedDecl")
    if isinstance(referenced, dict) and isinstance(referenced.get("name"), str):
        return str(referenced["name"])
    raise ValueError("DeclRefExpr without a name")


def strip_parens_and_casts(node: Node) -> Node:
    while node.get("kind") in _TRANSPARENT and node.get("inner"):
        node = node["inner"][0]
    return node


def evaluate_constant(node: Node, lookup: ConstantLookup) -> int | None:
    """The value of a constant expression, or None when it is not one."""
    kind = node.get("kind")
    if kind == "IntegerLiteral":
        return wrap_i32(parse_int_literal(str(node["value"])))
    if kind in _TRANSPARENT:
        inner = node.get("inner") or []
        return evaluate_constant(inner[0], lookup) if inner else None
    if kind == "ImplicitValueInitExpr":
        return 0
    if kind == "UnaryOperator":
        operand = evaluate_constant(node["inner"][0], lookup)
        if operand is None:
            return None
        opcode = node.get("opcode")
        if opcode == "-":
            return wrap_i32(-operand)
        if opcode == "!":
            return int(operand == 0)
        return operand if opcode == "+" else None
    if kind == "BinaryOperator":
        opcode = str(node.get("opcode"))
        left = evaluate_constant(node["inner"][0], lookup)
        if left is None:
            return None
        if opcode == "&&" and left == 0:
            return 0
        if opcode == "||" and left != 0:
            return 1
        right = evaluate_constant(node["inner"][1], lookup)
        return None if right is None else c_binary(opcode, left, right)
    if kind == "DeclRefExpr":
        return lookup(reference_name(node), ())
    if kind == "ArraySubscriptExpr":
        indices: list[int] = []
        while node.get("kind") == "ArraySubscriptExpr":
            index = evaluate_constant(node["inner"][1], lookup)
            if index is None:
                return None
            indices.append(index)
            node = strip_parens_and_casts(node["inner"][0])
        if node.get("kind") != "DeclRefExpr":
            return None
        return lookup(reference_name(node), tuple(reversed(indices)))
    return None


def initializer_elements(node: Node) -> list[Node]:
    """The written elements of an InitListExpr.

    clang's JSON puts the elements of a list that has an array filler under `array_filler`,
    after the filler itself (an ImplicitValueInitExpr), and writes no `inner`.
    """
    elements = node.get("inner")
    if elements is None:
        elements = node.get("array_filler") or []
    if elements and elements[0].get("kind") == "ImplicitValueInitExpr":
        elements = elements[1:]
    return list(elements)


def flatten_initializer(init: Node, dims: tuple[int, ...]) -> dict[int, Node]:
    """Flat element index -> initialising expression, following C's brace elision.

    Works on clang's fully braced (semantic) form and on the form as written; elements
    not mentioned are zero.
    """
    flat: dict[int, Node] = {}
    if not dims:
        scalar = init
        while scalar.get("kind") == "InitListExpr":
            elements = initializer_elements(scalar)
            if not elements:
                return flat
            scalar = elements[0]
        flat[0] = scalar
        return flat
    if init.get("kind") != "InitListExpr":
        raise ValueError("an array needs a braced initialiser")
    _consume(initializer_elements(init), 0, dims, 0, flat)
    return flat


def _consume(
    elements: list[Node], index: int, dims: tuple[int, ...], base: int, flat: dict[int, Node]
) -> int:
    """Initialise the array `dims` at flat offset `base` from elements[index:].

    Returns the index of the first element not used (brace elision lets a sub-array take
    as many elements of the enclosing list as it needs).
    """
    inner_dims = dims[1:]
    stride = element_count(inner_dims)
    for position in range(dims[0]):
        if index >= len(elements):
            break
        element = elements[index]
        offset = base + position * stride
        if not inner_dims:
            scalar = flatten_initializer(element, ())
            if scalar:
                flat[offset] = scalar[0]
            index += 1
        elif element.get("kind") == "InitListExpr":
            _consume(initializer_elements(element), 0, inner_dims, offset, flat)
            index += 1
        elif element.get("kind") == "ImplicitValueInitExpr":
            index += 1
        else:
            index = _consume(elements, index, inner_dims, offset, flat)
    return index
