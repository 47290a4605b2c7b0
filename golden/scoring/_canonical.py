"""Canonical forms: what one stage hands the next is exactly what the scorer judged.

A stage program's output passes downstream (chained grading, stored outputs, the golden
artifacts, the public reveal) only in the form its scorer reads:

- **T0** is exact or nothing: an output the scorer gives 100 is replaced by the golden
  bytes; any other passes no input at all. T0 is the one stage with a compiler and the
  hidden sources, so nothing it adds can ride downstream.
- **T1**: the tokens the scorer parsed, re-serialised from the fields it reads (kind,
  spelling, flags, location); lines not in the format are dropped.
- **T2**: the JSON tree reduced to a whitelist of fields per node (:data:`AST_FIELDS`),
  each checked against its form or vocabulary, declaration ids renumbered, serialised
  compactly. A field whose value is not of its form becomes ``null`` when the scorer reads
  it (so the mismatch stays a mismatch) and is dropped otherwise.
- T3 and T4 (LLVM IR) pass as produced: after T0 no stage holds privileged information.

Every function is pure, deterministic and idempotent (a canonical form is its own form).
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

from ._json import load_ast
from ._text import score_t0
from ._tokens import Token, parse_token_dump

__all__ = [
    "AST_FIELDS",
    "CANONICAL_FORMS",
    "NODE_KINDS",
    "accepted_t0",
    "canonical_ast",
    "canonical_tokens",
    "canonical_tree",
]

CANONICAL_FORMS: Final = "2"
"""Version of the forms below; part of the golden key, so artifacts follow a change."""

# -- T0 -------------------------------------------------------------------------------------


def accepted_t0(golden: str | bytes, produced: str | bytes) -> bool:
    """Whether a T0 output is the reference text (what the scorer gives 100)."""
    return score_t0(golden, produced).score == 100.0


# -- T1 -------------------------------------------------------------------------------------

# clang's order of the flags it prints; any other flag follows, sorted.
_FLAG_ORDER: Final = ("StartOfLine", "LeadingSpace", "ExpandDisabled")


def _flags(flags: frozenset[str]) -> str:
    known = [f for f in _FLAG_ORDER if f in flags]
    rest = sorted(flags.difference(_FLAG_ORDER))
    return "".join(f" [{flag}]" for flag in known + rest)


def _token_line(token: Token) -> str:
    return (
        f"{token.kind} '{token.spelling}'\t{_flags(token.flags)}"
        f"\tLoc=<{token.file}:{token.line}:{token.col}>\n"
    )


def canonical_tokens(text: str | bytes) -> str | None:
    """The token dump as the scorer reads it, or None when no line is a token."""
    tokens = [token for token in parse_token_dump(text) if token.valid]
    if not tokens:
        return None
    return "".join(_token_line(token) for token in tokens)


# -- T2 -------------------------------------------------------------------------------------

NODE_KINDS: Final = frozenset(
    {
        # declarations
        "TranslationUnitDecl",
        "FunctionDecl",
        "ParmVarDecl",
        "VarDecl",
        "TypedefDecl",
        "RecordDecl",
        "FieldDecl",
        "EnumDecl",
        "EnumConstantDecl",
        "LabelDecl",
        "EmptyDecl",
        # statements
        "CompoundStmt",
        "DeclStmt",
        "IfStmt",
        "WhileStmt",
        "DoStmt",
        "ForStmt",
        "BreakStmt",
        "ContinueStmt",
        "ReturnStmt",
        "NullStmt",
        "SwitchStmt",
        "CaseStmt",
        "DefaultStmt",
        "LabelStmt",
        "GotoStmt",
        # expressions
        "IntegerLiteral",
        "CharacterLiteral",
        "DeclRefExpr",
        "ParenExpr",
        "UnaryOperator",
        "BinaryOperator",
        "CompoundAssignOperator",
        "ConditionalOperator",
        "ArraySubscriptExpr",
        "CallExpr",
        "InitListExpr",
        "ImplicitValueInitExpr",
        "ImplicitCastExpr",
        "CStyleCastExpr",
        "ConstantExpr",
        "UnaryExprOrTypeTraitExpr",
        "RecoveryExpr",
    }
)
_OPCODES: Final = frozenset(
    [
        "+",
        "-",
        "*",
        "/",
        "%",
        "<",
        ">",
        "<=",
        ">=",
        "==",
        "!=",
        "&&",
        "||",
        "=",
        "!",
        "~",
        "&",
        "|",
        "^",
        "<<",
        ">>",
        "++",
        "--",
        ",",
        "+=",
        "-=",
        "*=",
        "/=",
        "%=",
        "<<=",
        ">>=",
        "&=",
        "|=",
        "^=",
    ]
)
_CAST_KINDS: Final = frozenset(
    {
        "LValueToRValue",
        "ArrayToPointerDecay",
        "FunctionToPointerDecay",
        "BitCast",
        "NoOp",
        "IntegralCast",
        "IntegralToBoolean",
        "ToVoid",
        "NullToPointer",
        "IntegralToPointer",
        "PointerToIntegral",
        "PointerToBoolean",
        "BuiltinFnToFnPtr",
    }
)
_VOCABULARIES: Final[dict[str, frozenset[str]]] = {
    "opcode": _OPCODES,
    "castKind": _CAST_KINDS,
    "valueCategory": frozenset({"lvalue", "prvalue", "xvalue"}),
    "storageClass": frozenset({"extern", "static", "auto", "register"}),
    "init": frozenset({"c", "call", "list"}),
}
_IDENTIFIER: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DECIMAL: Final = re.compile(r"-?[0-9]+")
# The characters of a C type as clang spells it: `int (*)[5]`, `void (int, ...)`, and the
# size expressions of arrays whose dimensions name constants: `int[N / 2 % 5][L + 1]`,
# `int (*)[N - 1]` (SysY's ConstExp: + - * / % and unary + - !).
_QUAL_TYPE: Final = re.compile(r"[A-Za-z0-9_ *()\[\],.+\-/%!]+")

AST_FIELDS: Final = (
    "id",
    "kind",
    "name",
    "value",
    "opcode",
    "castKind",
    "valueCategory",
    "storageClass",
    "init",
    "hasElse",
    "type",
    "referencedDecl",
    "previousDecl",
    "inner",
    "array_filler",
)
"""Every field a canonical node may have, in the order it is written."""

# Fields the T2 scorer compares: an ill-formed value stays (as null) so it still differs.
_SCORED: Final = frozenset({"kind", "name", "value", "opcode"})
_CHILDREN: Final = ("inner", "array_filler")


def _form(field: str, value: object) -> bool:
    if not isinstance(value, str):
        return False
    if field == "kind":
        return value in NODE_KINDS
    if field == "name":
        return _IDENTIFIER.fullmatch(value) is not None
    if field == "value":
        return _DECIMAL.fullmatch(value) is not None
    return value in _VOCABULARIES[field]


def _qual_type(holder: object) -> dict[str, str | None] | None:
    """``{"qualType": ...}`` from a ``type`` object; None when there is no qualType."""
    if not isinstance(holder, dict) or "qualType" not in holder:
        return None
    spelled = holder["qualType"]
    ok = isinstance(spelled, str) and _QUAL_TYPE.fullmatch(spelled) is not None
    return {"qualType": spelled if ok else None}


def _is_decl(node: dict[str, Any]) -> bool:
    kind = node.get("kind")
    return isinstance(kind, str) and kind in NODE_KINDS and kind.endswith("Decl")


def _walk(root: dict[str, Any]) -> list[dict[str, Any]]:
    """Every node in pre-order (children of ``inner``, then ``array_filler``)."""
    order, stack = [], [root]
    while stack:
        node = stack.pop()
        order.append(node)
        kids = [k for key in _CHILDREN for k in _kids(node, key) if isinstance(k, dict)]
        stack.extend(reversed(kids))
    return order


def _kids(node: dict[str, Any], key: str) -> list[Any]:
    value = node.get(key)
    return value if isinstance(value, list) else []


def _declaration_ids(order: list[dict[str, Any]]) -> tuple[dict[int, str], dict[str, str]]:
    """Canonical ids of the declarations (by node identity), and the produced ids they had."""
    by_node: dict[int, str] = {}
    by_old: dict[str, str] = {}
    for node in order:
        if not _is_decl(node):
            continue
        new = f"0x{len(by_node) + 1:x}"
        by_node[id(node)] = new
        old = node.get("id")
        if isinstance(old, str) and old not in by_old:
            by_old[old] = new
    return by_node, by_old


def _reference(value: object, by_old: dict[str, str]) -> dict[str, Any] | None:
    """A ``referencedDecl``: its id renumbered, kind, name and type checked."""
    if not isinstance(value, dict):
        return None
    out: dict[str, Any] = {}
    old = value.get("id")
    if isinstance(old, str) and old in by_old:
        out["id"] = by_old[old]
    for field in ("kind", "name"):
        if _form(field, value.get(field)):
            out[field] = value[field]
    typed = _qual_type(value.get("type"))
    if typed is not None and typed["qualType"] is not None:
        out["type"] = typed
    return out or None


def _fields(node: dict[str, Any], ids: tuple[dict[int, str], dict[str, str]]) -> dict[str, Any]:
    """The node's whitelisted fields (children left empty for the caller to fill)."""
    by_node, by_old = ids
    out: dict[str, Any] = {}
    for field in AST_FIELDS:
        if field == "id":
            if id(node) in by_node:
                out["id"] = by_node[id(node)]
            continue
        if field not in node or field in _CHILDREN:
            continue
        value = node[field]
        if field == "type":
            typed = _qual_type(value)
            if typed is not None:
                out["type"] = typed
        elif field == "referencedDecl":
            reference = _reference(value, by_old)
            if reference is not None:
                out[field] = reference
        elif field == "previousDecl":
            if isinstance(value, str) and value in by_old:
                out[field] = by_old[value]
        elif field == "hasElse":
            if isinstance(value, bool):
                out[field] = value
        elif _form(field, value):
            out[field] = value
        elif field in _SCORED:
            out[field] = None
    return out


def _top(tree: dict[str, Any]) -> dict[str, Any]:
    """The tree with clang's implicit top-level declarations left out, as the scorer does."""
    inner = tree.get("inner")
    if tree.get("kind") != "TranslationUnitDecl" or not isinstance(inner, list):
        return tree
    kept = [c for c in inner if not (isinstance(c, dict) and c.get("isImplicit") is True)]
    return {**tree, "inner": kept}


def _project(root: dict[str, Any]) -> dict[str, Any]:
    ids = _declaration_ids(_walk(root))
    top = _fields(root, ids)
    stack: list[tuple[dict[str, Any], dict[str, Any]]] = [(root, top)]
    while stack:
        source, target = stack.pop()
        for key in _CHILDREN:
            if not isinstance(source.get(key), list):
                continue
            children: list[dict[str, Any] | None] = []
            for kid in source[key]:
                if isinstance(kid, dict):
                    made = _fields(kid, ids)
                    children.append(made)
                    stack.append((kid, made))
                else:
                    children.append(None)
            target[key] = children
    return top


class _Text(str):
    """Already-serialised JSON text on the serialiser's stack."""


def _dump(root: dict[str, Any]) -> str:
    """Compact JSON, without recursion (trees of long expressions nest thousands deep)."""
    out: list[str] = []
    stack: list[object] = [root]
    while stack:
        item = stack.pop()
        if isinstance(item, _Text):
            out.append(item)
        elif isinstance(item, dict):
            parts: list[object] = [_Text("{")]
            for index, (key, value) in enumerate(item.items()):
                parts += [_Text(("," if index else "") + json.dumps(key) + ":"), value]
            stack.extend(reversed([*parts, _Text("}")]))
        elif isinstance(item, list):
            parts = [_Text("[")]
            for index, value in enumerate(item):
                parts += [_Text(",")] if index else []
                parts.append(value)
            stack.extend(reversed([*parts, _Text("]")]))
        else:
            out.append(json.dumps(item))
    return "".join(out) + "\n"


def canonical_tree(tree: object) -> dict[str, Any] | None:
    """A parsed AST reduced to its canonical form (a new tree), or None for a non-object."""
    if not isinstance(tree, dict):
        return None
    return _project(_top(tree))


def canonical_ast(text: str | bytes) -> str | None:
    """The AST as the scorer and T3 read it, or None when it is not a JSON object."""
    tree = canonical_tree(load_ast(text))
    return None if tree is None else _dump(tree)
