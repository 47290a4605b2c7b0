"""SysY value types for IR generation, read from clang's `qualType` spellings.

clang spells a type as `int`, `const int`, `int[4][5]`, `int *`, `int (*)[5]`, and keeps
the source expression of a dimension it could not fold (`int[DIMS[1] * 2][ROWS]`,
`int (*)[COLS]`): such dimensions are evaluated here against the constants in scope.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "ArrayType",
    "ConstantLookup",
    "IntType",
    "PointerType",
    "TypeSpellingError",
    "ValueType",
    "array_llvm_type",
    "c_binary",
    "element_count",
    "parse_int_literal",
    "parse_value_type",
    "return_type_of",
    "wrap_i32",
]


class TypeSpellingError(ValueError):
    """A `qualType` or dimension expression that is not SysY."""


@dataclass(frozen=True)
class IntType:
    """A scalar `int` (possibly const)."""


@dataclass(frozen=True)
class ArrayType:
    """`int[d0][d1]...`; dims is never empty."""

    dims: tuple[int, ...]


@dataclass(frozen=True)
class PointerType:
    """A pointer to `int[elem...]` (elem empty: `int *`)."""

    elem: tuple[int, ...]


ValueType = IntType | ArrayType | PointerType
INT = IntType()

# name, indices -> the value of a constant (or of an element of a constant array), or None.
ConstantLookup = Callable[[str, tuple[int, ...]], int | None]

_LITERAL = re.compile(r"(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)[uUlL]*")


def wrap_i32(value: int) -> int:
    """Two's-complement wrap-around to a signed 32-bit value."""
    return ((value + 0x80000000) & 0xFFFFFFFF) - 0x80000000


def parse_int_literal(text: str) -> int:
    """A C integer literal (decimal, octal or hexadecimal, suffixes ignored)."""
    match = _LITERAL.fullmatch(text.strip())
    if match is None:
        raise TypeSpellingError(f"not an integer literal: {text!r}")
    digits = match.group(1)
    if digits[:2] in ("0x", "0X"):
        return int(digits[2:], 16)
    if digits.startswith("0"):
        return int(digits, 8)
    return int(digits)


def c_binary(op: str, left: int, right: int) -> int | None:
    """C's `left op right` on 32-bit ints; None when C leaves it undefined (x / 0)."""
    if op == "+":
        return wrap_i32(left + right)
    if op == "-":
        return wrap_i32(left - right)
    if op == "*":
        return wrap_i32(left * right)
    if op in ("/", "%"):
        if right == 0 or (left == -0x80000000 and right == -1):
            return None
        quotient = abs(left) // abs(right)
        if (left < 0) != (right < 0):
            quotient = -quotient
        return wrap_i32(quotient) if op == "/" else wrap_i32(left - quotient * right)
    comparisons = {
        "<": left < right,
        ">": left > right,
        "<=": left <= right,
        ">=": left >= right,
        "==": left == right,
        "!=": left != right,
        "&&": bool(left) and bool(right),
        "||": bool(left) or bool(right),
    }
    if op in comparisons:
        return int(comparisons[op])
    return None


def element_count(dims: tuple[int, ...]) -> int:
    count = 1
    for dim in dims:
        count *= dim
    return count


_LLVM_TYPES: dict[tuple[int, ...], str] = {(): "i32"}


def array_llvm_type(dims: tuple[int, ...]) -> str:
    """`[4 x [5 x i32]]` for dims (4, 5); `i32` for ()."""
    text = _LLVM_TYPES.get(dims)
    if text is None:
        text = f"[{dims[0]} x {array_llvm_type(dims[1:])}]"
        _LLVM_TYPES[dims] = text
    return text


def return_type_of(function_type: str) -> str:
    """`int` or `void` from a function's spelling such as `int (int, int *)`."""
    head = function_type.split("(", 1)[0].strip()
    if head.startswith("const "):
        head = head[len("const ") :]
    return head


def _split_dims(text: str) -> list[str]:
    """`[a][b[1] * 2]` -> ["a", "b[1] * 2"] (brackets may nest inside a dimension)."""
    dims: list[str] = []
    position = 0
    while position < len(text):
        if text[position] == " ":
            position += 1
            continue
        if text[position] != "[":
            raise TypeSpellingError(f"unexpected {text[position:]!r} in a type")
        depth = 0
        for end in range(position, len(text)):
            if text[end] == "[":
                depth += 1
            elif text[end] == "]":
                depth -= 1
                if depth == 0:
                    break
        else:
            raise TypeSpellingError(f"unbalanced brackets in {text!r}")
        dims.append(text[position + 1 : end])
        position = end + 1
    return dims


def parse_value_type(spelling: str, lookup: ConstantLookup) -> tuple[ValueType, bool]:
    """The type of a variable or parameter, and whether it is const.

    An array written with an empty first dimension (`int[][5]`, an unadjusted parameter)
    is the pointer it decays to.
    """
    text = spelling.strip()
    is_const = text.startswith("const ")
    if is_const:
        text = text[len("const ") :].lstrip()
    if not text.startswith("int"):
        raise TypeSpellingError(f"not a SysY value type: {spelling!r}")
    rest = text[3:].strip()
    if rest == "":
        return INT, is_const
    if rest == "*":
        return PointerType(()), is_const
    if rest.startswith("(*)"):
        return PointerType(_evaluate_dims(rest[3:], lookup)), is_const
    parts = _split_dims(rest)
    if parts and parts[0].strip() == "":
        return PointerType(tuple(_evaluate_dim(p, lookup) for p in parts[1:])), is_const
    return ArrayType(tuple(_evaluate_dim(p, lookup) for p in parts)), is_const


def _evaluate_dims(text: str, lookup: ConstantLookup) -> tuple[int, ...]:
    return tuple(_evaluate_dim(part, lookup) for part in _split_dims(text))


def _evaluate_dim(text: str, lookup: ConstantLookup) -> int:
    text = text.strip()
    if text.isdigit():
        return int(text)
    return _DimensionParser(text, lookup).parse()


_TOKEN = re.compile(
    r"\s*(?:(0[xX][0-9a-fA-F]+[uUlL]*|[0-9]+[uUlL]*)|([A-Za-z_][A-Za-z_0-9]*)"
    r"|(<=|>=|==|!=|&&|\|\||[-+*/%()\[\]<>!]))"
)


class _DimensionParser:
    """Evaluates the C constant expression clang left in a dimension's spelling."""

    _LEVELS: tuple[tuple[str, ...], ...] = (
        ("||",),
        ("&&",),
        ("==", "!="),
        ("<", ">", "<=", ">="),
        ("+", "-"),
        ("*", "/", "%"),
    )

    def __init__(self, text: str, lookup: ConstantLookup) -> None:
        self.tokens: list[tuple[str, str]] = []
        self.lookup = lookup
        position = 0
        text = text.rstrip()
        while position < len(text):
            match = _TOKEN.match(text, position)
            if match is None:
                raise TypeSpellingError(f"cannot read dimension {text!r}")
            number, name, operator = match.groups()
            if number is not None:
                self.tokens.append(("num", number))
            elif name is not None:
                self.tokens.append(("name", name))
            else:
                self.tokens.append(("op", operator))
            position = match.end()
        self.index = 0

    def parse(self) -> int:
        value = self._binary(0)
        if self.index != len(self.tokens):
            raise TypeSpellingError("trailing text in a dimension")
        return value

    def _peek_op(self) -> str | None:
        if self.index < len(self.tokens) and self.tokens[self.index][0] == "op":
            return self.tokens[self.index][1]
        return None

    def _expect(self, operator: str) -> None:
        if self._peek_op() != operator:
            raise TypeSpellingError(f"expected {operator!r} in a dimension")
        self.index += 1

    def _binary(self, level: int) -> int:
        if level == len(self._LEVELS):
            return self._unary()
        value = self._binary(level + 1)
        while (operator := self._peek_op()) in self._LEVELS[level]:
            assert operator is not None
            self.index += 1
            result = c_binary(operator, value, self._binary(level + 1))
            if result is None:
                raise TypeSpellingError("division by zero in a dimension")
            value = result
        return value

    def _unary(self) -> int:
        operator = self._peek_op()
        if operator in ("-", "+", "!"):
            self.index += 1
            operand = self._unary()
            if operator == "-":
                return wrap_i32(-operand)
            return int(operand == 0) if operator == "!" else operand
        return self._primary()

    def _primary(self) -> int:
        if self.index >= len(self.tokens):
            raise TypeSpellingError("dimension ends early")
        kind, text = self.tokens[self.index]
        self.index += 1
        if kind == "num":
            return wrap_i32(parse_int_literal(text))
        if kind == "op" and text == "(":
            value = self._binary(0)
            self._expect(")")
            return value
        if kind != "name":
            raise TypeSpellingError(f"unexpected {text!r} in a dimension")
        indices: list[int] = []
        while self._peek_op() == "[":
            self.index += 1
            indices.append(self._binary(0))
            self._expect("]")
        constant = self.lookup(text, tuple(indices))
        if constant is None:
            raise TypeSpellingError(f"{text} is not a constant")
        return constant
