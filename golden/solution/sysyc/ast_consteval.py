"""What clang knows about an expression without running it: whether it is an integer
constant expression, the value it folds to, and how clang prints it inside a type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["ConstantFolder", "initializer_elements", "is_integer_constant", "print_expression"]

Node = dict[str, Any]

# Expression kinds that may appear in a C integer constant expression (C17 6.6p6).
_ICE_KINDS = frozenset(
    {"IntegerLiteral", "ParenExpr", "UnaryOperator", "BinaryOperator", "ImplicitCastExpr"}
)
_NOT_ICE_OPERATORS = frozenset({"="})


def _children(node: Node) -> list[Node]:
    inner: list[Node] = node.get("inner", [])
    return inner


def is_integer_constant(node: Node) -> bool:
    """C's integer constant expression: literals and operators, no objects (not even const)."""
    stack = [node]
    while stack:
        current = stack.pop()
        if current["kind"] not in _ICE_KINDS or current.get("opcode") in _NOT_ICE_OPERATORS:
            return False
        stack.extend(_children(current))
    return True


def print_expression(node: Node) -> str:
    """The expression as clang's statement printer writes it (e.g. a VLA size)."""
    kind = node["kind"]
    inner = _children(node)
    if kind == "IntegerLiteral":
        return str(node["value"])
    if kind == "DeclRefExpr":
        return str(node["referencedDecl"]["name"])
    if kind == "ImplicitCastExpr":
        return print_expression(inner[0])
    if kind == "ParenExpr":
        return f"({print_expression(inner[0])})"
    if kind == "UnaryOperator":
        return f"{node['opcode']}{print_expression(inner[0])}"
    if kind == "BinaryOperator":
        return f"{print_expression(inner[0])} {node['opcode']} {print_expression(inner[1])}"
    if kind == "ArraySubscriptExpr":
        return f"{print_expression(inner[0])}[{print_expression(inner[1])}]"
    if kind == "CallExpr":
        arguments = ", ".join(print_expression(a) for a in inner[1:])
        return f"{print_expression(inner[0])}({arguments})"
    return ""


def initializer_elements(node: Node) -> tuple[list[Node], bool]:
    """An InitListExpr's explicit elements and whether an implicit filler follows them."""
    if "array_filler" in node:
        return node["array_filler"][1:], True
    return _children(node), False


def _wrap_int(value: int) -> int:
    return (value + 0x8000_0000) % 0x1_0000_0000 - 0x8000_0000


class ConstantFolder:
    """clang's constant folding of int expressions, reading `const` variables' initialisers.

    ``constant_init`` maps a declaration id to the initialiser of a const variable (None for
    anything else); ``array_sizes`` maps it to the sizes of the array dimensions.
    """

    def __init__(
        self,
        constant_init: Callable[[str], Node | None],
        array_sizes: Callable[[str], list[int | None]],
    ) -> None:
        self._constant_init = constant_init
        self._array_sizes = array_sizes

    def fold(self, node: Node) -> int | None:
        kind = node["kind"]
        inner = _children(node)
        if kind == "IntegerLiteral":
            return int(node["value"])
        if kind in ("ImplicitCastExpr", "ParenExpr"):
            return self.fold(inner[0])
        if kind == "UnaryOperator":
            return self._unary(node["opcode"], inner[0])
        if kind == "BinaryOperator":
            return self._binary(node["opcode"], inner[0], inner[1])
        if kind in ("DeclRefExpr", "ArraySubscriptExpr"):
            return self._read(node)
        return None

    def _unary(self, opcode: str, operand: Node) -> int | None:
        value = self.fold(operand)
        if value is None:
            return None
        if opcode == "-":
            return _wrap_int(-value)
        if opcode == "!":
            return int(value == 0)
        if opcode == "~":
            return _wrap_int(~value)
        return value

    def _binary(self, opcode: str, left: Node, right: Node) -> int | None:
        a = self.fold(left)
        if a is None:
            return None
        if opcode == "&&" and a == 0:
            return 0
        if opcode == "||" and a != 0:
            return 1
        b = self.fold(right)
        if b is None:
            return None
        if opcode in ("/", "%"):
            if b == 0:
                return None
            quotient = abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)
            return _wrap_int(quotient if opcode == "/" else a - quotient * b)
        results = {
            "+": lambda: _wrap_int(a + b),
            "-": lambda: _wrap_int(a - b),
            "*": lambda: _wrap_int(a * b),
            "<": lambda: int(a < b),
            ">": lambda: int(a > b),
            "<=": lambda: int(a <= b),
            ">=": lambda: int(a >= b),
            "==": lambda: int(a == b),
            "!=": lambda: int(a != b),
            "&&": lambda: int(b != 0),
            "||": lambda: int(b != 0),
        }
        compute = results.get(opcode)
        return compute() if compute else None

    def _read(self, node: Node) -> int | None:
        """The value of a const scalar or of an element of a const array."""
        indices: list[int] = []
        while node["kind"] == "ArraySubscriptExpr":
            base, index_node = _children(node)
            value = self.fold(index_node)
            if value is None:
                return None
            indices.append(value)
            node = base
            while node["kind"] in ("ImplicitCastExpr", "ParenExpr"):
                node = _children(node)[0]
        if node["kind"] != "DeclRefExpr":
            return None
        declaration = node["referencedDecl"]["id"]
        init = self._constant_init(declaration)
        if init is None:
            return None
        indices.reverse()
        sizes = self._array_sizes(declaration)
        if len(indices) != len(sizes):
            return None
        for index, size in zip(indices, sizes, strict=True):
            if index < 0 or (size is not None and index >= size):
                return None
            if init["kind"] != "InitListExpr":
                return None
            elements, _ = initializer_elements(init)
            if index >= len(elements):
                return 0
            init = elements[index]
        return self.fold(init)
