"""Known errors applied to a golden T2 tree: what the T2 discrimination table is made of.

Each mutation takes a freshly parsed canonical tree, changes it in place the way a faulty
parser would, and says what it changed (or returns None when the tree offers no place for
it). Choices are deterministic: the middle one of the candidates in pre-order.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from golden.scoring import load_ast

Node = dict[str, Any]
Mutation = Callable[[Node], str | None]
_FLIP = {"+": "-", "-": "+", "*": "/", "/": "*", "%": "*", "<": ">=", ">": "<=", "<=": ">"}
_FLIP |= {">=": "<", "==": "!=", "!=": "==", "&&": "||", "||": "&&", "=": "=="}


def walk(tree: Node) -> list[tuple[Node, Node | None, str, int]]:
    """(node, parent, list name, index) of every node in pre-order, without recursion."""
    found: list[tuple[Node, Node | None, str, int]] = []
    stack: list[tuple[Node, Node | None, str, int]] = [(tree, None, "", 0)]
    while stack:
        entry = stack.pop()
        found.append(entry)
        node = entry[0]
        kids = [
            (kid, node, key, index)
            for key in ("inner", "array_filler")
            for index, kid in enumerate(node.get(key) or [])
            if isinstance(kid, dict)
        ]
        stack.extend(reversed(kids))
    return found


def _middle(items: list[Any]) -> Any:
    return items[len(items) // 2] if items else None


def _statements(tree: Node) -> list[tuple[Node, Node | None, str, int]]:
    """Statements directly in a block that declare nothing (removing one leaves no dangling
    reference)."""
    return [
        entry
        for entry in walk(tree)
        if entry[1] is not None
        and entry[1].get("kind") == "CompoundStmt"
        and entry[0].get("kind") != "DeclStmt"
    ]


def every_plus_to_minus(tree: Node) -> str | None:
    nodes = [n for n, *_ in walk(tree) if n.get("opcode") == "+"]
    for node in nodes:
        node["opcode"] = "-"
    return f"{len(nodes)} operators" if nodes else None


def one_operator(tree: Node) -> str | None:
    node = _middle([n for n, *_ in walk(tree) if n.get("opcode") in _FLIP])
    if node is None:
        return None
    before, node["opcode"] = node["opcode"], _FLIP[node["opcode"]]
    return f"'{before}' -> '{node['opcode']}'"


def one_literal(tree: Node) -> str | None:
    node = _middle([n for n, *_ in walk(tree) if n.get("kind") == "IntegerLiteral"])
    if node is None:
        return None
    before, node["value"] = node["value"], str(int(node["value"]) + 1)
    return f"{before} -> {node['value']}"


def statement_removed(tree: Node) -> str | None:
    entry = _middle(_statements(tree))
    if entry is None:
        return None
    node, parent, key, index = entry
    del parent[key][index]
    return str(node["kind"])


def statement_added(tree: Node) -> str | None:
    entry = _middle(_statements(tree))
    if entry is None:
        return None
    node, parent, key, index = entry
    parent[key].insert(index + 1, json.loads(json.dumps(node)))  # the same statement twice
    return f"{node['kind']} repeated"


def one_type(tree: Node) -> str | None:
    typed = [n for n, *_ in walk(tree) if n.get("type", {}).get("qualType") == "int"]
    node = _middle([n for n in typed if n.get("kind") != "FunctionDecl"])
    if node is None:
        return None
    node["type"] = {"qualType": "long"}
    return f"{node['kind']}: 'int' -> 'long'"


def _declarations(tree: Node) -> list[Node]:
    return [n for n, *_ in walk(tree) if n.get("kind") in ("VarDecl", "ParmVarDecl")]


def _retarget_candidates(tree: Node) -> tuple[list[tuple[Node, Node]], str]:
    """(use, other declaration) pairs, the closest kind of look-alike the tree offers."""
    decls = _declarations(tree)
    by_id = {d["id"]: d for d in decls}
    uses = [
        n
        for n, *_ in walk(tree)
        if n.get("kind") == "DeclRefExpr" and n.get("referencedDecl", {}).get("id") in by_id
    ]
    rules: list[tuple[str, Callable[[Node, Node], bool]]] = [
        ("same name and type", lambda a, b: a["name"] == b["name"] and a["type"] == b["type"]),
        ("same name", lambda a, b: a["name"] == b["name"]),
        ("same type", lambda a, b: a["type"] == b["type"]),
    ]
    for label, alike in rules:
        found = []
        for use in uses:
            mine = by_id[use["referencedDecl"]["id"]]
            others = [d for d in decls if d is not mine and alike(mine, d)]
            if others:
                found.append((use, others[0]))
        if found:
            return found, label
    return [], ""


def reference_retargeted(tree: Node) -> str | None:
    candidates, label = _retarget_candidates(tree)
    chosen = _middle(candidates)
    if chosen is None:
        return None
    use, other = chosen
    use["referencedDecl"] = {
        "id": other["id"],
        "kind": other["kind"],
        "name": other["name"],
        "type": other["type"],
    }
    return f"'{other['name']}', {label}"


def implicit_casts_removed(tree: Node) -> str | None:
    removed = 0
    for node, *_ in walk(tree):
        for key in ("inner", "array_filler"):
            kids = node.get(key)
            if not isinstance(kids, list):
                continue
            for index, kid in enumerate(kids):
                while isinstance(kid, dict) and kid.get("kind") == "ImplicitCastExpr":
                    kid, removed = kid["inner"][0], removed + 1
                kids[index] = kid
    return f"{removed} casts" if removed else None


def statements_swapped(tree: Node) -> str | None:
    blocks = [
        n
        for n, *_ in walk(tree)
        if n.get("kind") == "CompoundStmt"
        and len(n.get("inner", [])) >= 2
        and n["inner"][0] != n["inner"][1]
    ]
    block = _middle(blocks)
    if block is None:
        return None
    block["inner"][0], block["inner"][1] = block["inner"][1], block["inner"][0]
    return f"{block['inner'][1]['kind']} <-> {block['inner'][0]['kind']}"


def every_list_reversed(tree: Node) -> str | None:
    lists = 0
    for node, *_ in walk(tree):
        kids = node.get("inner")
        if isinstance(kids, list) and len(kids) > 1 and node.get("kind") != "TranslationUnitDecl":
            kids.reverse()
            lists += 1
    return f"{lists} lists" if lists else None


def body_emptied(tree: Node) -> str | None:
    functions = [n for n in tree.get("inner", []) if n.get("kind") == "FunctionDecl"]
    bodies = [f for f in functions if f.get("inner") and f["inner"][-1]["kind"] == "CompoundStmt"]
    if not bodies:
        return None
    chosen = next((f for f in bodies if f.get("name") == "main"), bodies[-1])
    chosen["inner"][-1] = {"kind": "CompoundStmt"}
    return f"{chosen['name']}()"


MUTATIONS: dict[str, Mutation] = {
    "every `+` -> `-`": every_plus_to_minus,
    "one operator flipped": one_operator,
    "one literal changed": one_literal,
    "one statement removed": statement_removed,
    "one extra statement": statement_added,
    "one type changed": one_type,
    "one DeclRefExpr retargeted": reference_retargeted,
    "every ImplicitCastExpr removed": implicit_casts_removed,
    "two statements swapped": statements_swapped,
    "every child list reversed": every_list_reversed,
    "main's body emptied": body_emptied,
}
"""Every mutation of the table, by the name it is published under."""


def score_row(golden: bytes, mutation: Mutation, *scorers: Any) -> tuple[str, list[float]] | None:
    """What ``mutation`` changed in the golden tree, and each scorer's score for the result."""
    tree = load_ast(golden)
    assert isinstance(tree, dict)
    note = mutation(tree)
    if note is None:
        return None
    return note, [scorer(golden, tree).score for scorer in scorers]
