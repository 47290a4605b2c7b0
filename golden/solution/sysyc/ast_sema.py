"""Clang's semantic actions for C expressions: typed nodes and the implicit casts it adds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .ast_scope import Record, VarRecord
from .ast_types import (
    INT,
    Array,
    Builtin,
    CType,
    Function,
    Pointer,
    integer_rank,
    is_integer,
    same_type,
    similar_ignoring_qualifiers,
    spell,
    unqualified,
    vla_star_decayed,
)

__all__ = ["Expr", "Sema", "SemanticError", "parse_integer_literal"]

Node = dict[str, Any]


class SemanticError(Exception):
    """The program is not valid C (clang would reject it)."""


@dataclass(slots=True)
class Expr:
    node: Node
    ctype: CType
    lvalue: bool


_COMPARISONS = frozenset({"<", ">", "<=", ">=", "==", "!="})
_LOGICAL = frozenset({"&&", "||"})
# clang marks these unary operators as never overflowing
_NO_OVERFLOW = frozenset({"+", "!", "~"})
_INTEGER_SIZES = {1: 4, 2: 8, 3: 8}  # LP64: int, long, long long in bytes


def _literal_type(digits: str, base: int, suffix: str) -> tuple[int, Builtin]:
    """The value of an integer literal and its C type (C17 6.4.4.1)."""
    value = int(digits, base) if digits else 0
    unsigned_only = "u" in suffix
    longs = suffix.count("l")
    candidates = ["int", "long", "long long"][min(longs, 2) :]
    names: list[str] = []
    for name in candidates:
        if not unsigned_only:
            names.append(name)
        if unsigned_only or base != 10:
            names.append(f"unsigned {name}")
    for name in names:
        bits = _INTEGER_SIZES[integer_rank(Builtin(name))[0]] * 8
        limit = 1 << bits if name.startswith("unsigned") else 1 << (bits - 1)
        if value < limit:
            return value, Builtin(name)
    return value, Builtin("unsigned long long")


def parse_integer_literal(spelling: str) -> tuple[int, Builtin]:
    text = spelling.lower()
    suffix_start = len(text)
    while suffix_start > 0 and text[suffix_start - 1] in "ul":
        suffix_start -= 1
    body, suffix = text[:suffix_start], text[suffix_start:]
    if body.startswith("0x"):
        return _literal_type(body[2:], 16, suffix)
    if body.startswith("0b"):
        return _literal_type(body[2:], 2, suffix)
    if len(body) > 1 and body.startswith("0"):
        return _literal_type(body[1:], 8, suffix)
    return _literal_type(body, 10, suffix)


def _common_integer(a: Builtin, b: Builtin) -> Builtin:
    """The usual arithmetic conversions between two (promoted) integer types."""
    if a == b:
        return a
    rank_a, signed_a = integer_rank(a)
    rank_b, signed_b = integer_rank(b)
    if signed_a == signed_b:
        return a if rank_a >= rank_b else b
    signed, unsigned = (a, b) if signed_a else (b, a)
    signed_rank, unsigned_rank = (rank_a, rank_b) if signed_a else (rank_b, rank_a)
    if unsigned_rank >= signed_rank:
        return unsigned
    if _INTEGER_SIZES[signed_rank] > _INTEGER_SIZES[unsigned_rank]:
        return signed
    return Builtin(f"unsigned {signed.name}")


class Sema:
    """Builds expression nodes the way clang's Sema does for C."""

    def __init__(self) -> None:
        self._last_id = 0
        self._references: dict[str, Node] = {}

    def new_id(self) -> str:
        self._last_id += 1
        return f"0x{self._last_id:x}"

    # -- leaves -------------------------------------------------------------------------

    def integer_literal(self, spelling: str) -> Expr:
        value, ctype = parse_integer_literal(spelling)
        node = {
            "id": self.new_id(),
            "kind": "IntegerLiteral",
            "type": {"qualType": spell(ctype)},
            "valueCategory": "prvalue",
            "value": str(value),
        }
        return Expr(node, ctype, False)

    def declaration_reference(self, record: Record) -> Expr:
        is_variable = isinstance(record, VarRecord)
        reference = self._references.get(record.id)
        if reference is None:
            reference = {
                "id": record.id,
                "kind": record.kind if isinstance(record, VarRecord) else "FunctionDecl",
                "name": record.name,
                "type": {"qualType": spell(record.ctype)},
            }
            self._references[record.id] = reference
        node = {
            "id": self.new_id(),
            "kind": "DeclRefExpr",
            "type": reference["type"],
            "valueCategory": "lvalue" if is_variable else "prvalue",
            "referencedDecl": reference,
        }
        return Expr(node, record.ctype, is_variable)

    # -- implicit conversions -----------------------------------------------------------

    def implicit_cast(self, expr: Expr, cast_kind: str, ctype: CType) -> Expr:
        node = {
            "id": self.new_id(),
            "kind": "ImplicitCastExpr",
            "type": {"qualType": spell(ctype)},
            "valueCategory": "prvalue",
            "castKind": cast_kind,
            "inner": [expr.node],
        }
        return Expr(node, ctype, False)

    def rvalue(self, expr: Expr) -> Expr:
        """DefaultFunctionArrayLvalueConversion: decay functions and arrays, load lvalues."""
        ctype = expr.ctype
        if isinstance(ctype, Function):
            return self.implicit_cast(expr, "FunctionToPointerDecay", Pointer(ctype))
        if isinstance(ctype, Array):
            return self.implicit_cast(expr, "ArrayToPointerDecay", Pointer(ctype.element))
        if expr.lvalue:
            return self.implicit_cast(expr, "LValueToRValue", unqualified(ctype))
        return expr

    def convert(self, expr: Expr, target: CType) -> Expr:
        """Assignment conversion of an rvalue to ``target`` (initialisation, argument, return)."""
        target = unqualified(target)
        source = expr.ctype
        if same_type(source, target):
            return expr
        if is_integer(source) and is_integer(target):
            if source == target:
                return expr
            return self.implicit_cast(expr, "IntegralCast", target)
        if isinstance(source, Pointer) and isinstance(target, Pointer):
            kind = "NoOp" if similar_ignoring_qualifiers(source, target) else "BitCast"
            return self.implicit_cast(expr, kind, target)
        if is_integer(source) and isinstance(target, Pointer):
            return self.implicit_cast(expr, "IntegralToPointer", target)
        if isinstance(source, Pointer) and is_integer(target):
            return self.implicit_cast(expr, "PointerToIntegral", target)
        return expr

    def _arithmetic_operand(self, expr: Expr) -> Expr:
        expr = self.rvalue(expr)
        if not is_integer(expr.ctype):
            raise SemanticError(f"operand of type '{spell(expr.ctype)}' is not an integer")
        return expr

    # -- operators ----------------------------------------------------------------------

    def paren(self, expr: Expr) -> Expr:
        node = {
            "id": self.new_id(),
            "kind": "ParenExpr",
            "type": {"qualType": spell(expr.ctype)},
            "valueCategory": "lvalue" if expr.lvalue else "prvalue",
            "inner": [expr.node],
        }
        return Expr(node, expr.ctype, expr.lvalue)

    def unary(self, opcode: str, operand: Expr) -> Expr:
        operand = self._arithmetic_operand(operand)
        ctype = INT if opcode == "!" else operand.ctype
        node: Node = {
            "id": self.new_id(),
            "kind": "UnaryOperator",
            "type": {"qualType": spell(ctype)},
            "valueCategory": "prvalue",
            "isPostfix": False,
            "opcode": opcode,
            "inner": [operand.node],
        }
        if opcode in _NO_OVERFLOW:
            node["canOverflow"] = False
        return Expr(node, ctype, False)

    def binary(self, opcode: str, left: Expr, right: Expr) -> Expr:
        if opcode == "=":
            return self.assign(left, right)
        left = self._arithmetic_operand(left)
        right = self._arithmetic_operand(right)
        if opcode in _LOGICAL:
            ctype: CType = INT
        else:
            assert isinstance(left.ctype, Builtin) and isinstance(right.ctype, Builtin)
            common = _common_integer(left.ctype, right.ctype)
            left = self.convert(left, common)
            right = self.convert(right, common)
            ctype = INT if opcode in _COMPARISONS else common
        node = {
            "id": self.new_id(),
            "kind": "BinaryOperator",
            "type": {"qualType": spell(ctype)},
            "valueCategory": "prvalue",
            "opcode": opcode,
            "inner": [left.node, right.node],
        }
        return Expr(node, ctype, False)

    def assign(self, target: Expr, value: Expr) -> Expr:
        if not target.lvalue or isinstance(target.ctype, Array | Function):
            raise SemanticError("expression is not assignable")
        ctype = unqualified(target.ctype)
        value = self.convert(self.rvalue(value), ctype)
        node = {
            "id": self.new_id(),
            "kind": "BinaryOperator",
            "type": {"qualType": spell(ctype)},
            "valueCategory": "prvalue",
            "opcode": "=",
            "inner": [target.node, value.node],
        }
        return Expr(node, ctype, False)

    def subscript(self, base: Expr, index: Expr) -> Expr:
        base = self.rvalue(base)
        index = self._arithmetic_operand(index)
        if not isinstance(base.ctype, Pointer):
            raise SemanticError("subscripted value is not an array or pointer")
        ctype = base.ctype.pointee
        node = {
            "id": self.new_id(),
            "kind": "ArraySubscriptExpr",
            "type": {"qualType": spell(ctype)},
            "valueCategory": "lvalue",
            "inner": [base.node, index.node],
        }
        return Expr(node, ctype, True)

    def call(self, callee: Expr, arguments: list[Expr]) -> Expr:
        function = callee.ctype
        if not isinstance(function, Function):
            raise SemanticError("called object is not a function")
        converted = [self.rvalue(callee).node]
        parameters = function.params
        for position, argument in enumerate(arguments):
            value = self.rvalue(argument)
            if parameters is not None and position < len(parameters):
                value = self.convert(value, vla_star_decayed(parameters[position]))
            converted.append(value.node)
        node = {
            "id": self.new_id(),
            "kind": "CallExpr",
            "type": {"qualType": spell(function.result)},
            "valueCategory": "prvalue",
            "inner": converted,
        }
        return Expr(node, function.result, False)

    def discarded(self, expr: Expr) -> Expr:
        """An expression statement's value conversions (clang's IgnoredValueConversions)."""
        if not expr.lvalue and not isinstance(expr.ctype, Function):
            return expr
        return self.rvalue(expr)
