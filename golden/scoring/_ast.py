"""T2: clang's ``-ast-dump=json`` tree, compared node by node in golden pre-order."""

from __future__ import annotations

import json
import sys
import threading
from typing import Any

from ._models import CaseScore, GoldenArtifactError, make_score, shorten

__all__ = ["MAX_JSON_DEPTH", "load_ast", "score_t2"]

MAX_JSON_DEPTH = 400_000
"""JSON nesting :func:`load_ast` always accepts; much deeper input counts as unparseable."""

# json's C scanner uses roughly 100-150 bytes of C stack per nesting level (measured on
# CPython 3.11); 512 bytes per level leaves a wide margin against a segfault.
_STACK_BYTES = (16 * 1024 * 1024 + 512 * MAX_JSON_DEPTH) // 4096 * 4096
_DEEP_LOCK = threading.Lock()
_FIELDS = ("kind", "name", "value", "opcode")
_ABSENT = object()


def _parse(text: str | bytes) -> tuple[object, str]:
    """The parsed value and "" on success, else None and why parsing failed."""
    try:
        return json.loads(text), ""
    except RecursionError:
        return _parse_deep(text)
    except ValueError as exc:  # JSONDecodeError, bad UTF-8, over-long integer literals
        return None, f"not valid JSON ({shorten(str(exc), 80)})"


def _parse_deep(text: str | bytes) -> tuple[object, str]:
    # The C scanner recurses once per nesting level: run it on a thread with a big stack
    # and a recursion limit to match, then put both process-wide settings back.
    outcome: list[tuple[object, str]] = []

    def work() -> None:
        try:
            outcome.append((json.loads(text), ""))
        except RecursionError:
            outcome.append((None, f"JSON nested deeper than {MAX_JSON_DEPTH} levels"))
        except ValueError as exc:
            outcome.append((None, f"not valid JSON ({shorten(str(exc), 80)})"))

    with _DEEP_LOCK:
        old_limit = sys.getrecursionlimit()
        old_stack = threading.stack_size()
        try:
            threading.stack_size(_STACK_BYTES)
            sys.setrecursionlimit(MAX_JSON_DEPTH + 100)
            helper = threading.Thread(target=work, name="ramp-load-ast")
            helper.start()
            helper.join()
        except (RuntimeError, ValueError, MemoryError):
            pass  # no big-stack thread on this platform: the input counts as unparseable
        finally:
            sys.setrecursionlimit(old_limit)
            threading.stack_size(old_stack)
    return outcome[0] if outcome else (None, "JSON too deep to parse on this platform")


def load_ast(text: str | bytes) -> object | None:
    """Parse JSON of any nesting up to :data:`MAX_JSON_DEPTH`; None when it is not valid."""
    value, _ = _parse(text)
    return value


def _root(tree: object) -> dict[str, Any] | None:
    """The tree's root with clang's implicit top-level declarations dropped (a copy)."""
    if not isinstance(tree, dict):
        return None
    inner = tree.get("inner")
    if tree.get("kind") != "TranslationUnitDecl" or not isinstance(inner, list):
        return tree
    kept = [c for c in inner if not (isinstance(c, dict) and c.get("isImplicit") is True)]
    return {**tree, "inner": kept}


def _field(node: dict[str, Any], name: str) -> object:
    if name == "qualType":
        holder = node.get("type", _ABSENT)
        return holder.get("qualType", _ABSENT) if isinstance(holder, dict) else _ABSENT
    return node.get(name, _ABSENT)


def _same(a: object, b: object) -> bool:
    if a is _ABSENT or b is _ABSENT:
        return a is b
    if type(a) is not type(b):
        return False
    try:
        return bool(a == b)
    except RecursionError:
        return False


def _show(value: object) -> str:
    if value is _ABSENT:
        return "nothing"
    if isinstance(value, str):
        return f"'{shorten(value)}'"
    names = {dict: "an object", list: "an array", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def _children(node: dict[str, Any]) -> list[Any]:
    inner = node.get("inner")
    return inner if isinstance(inner, list) else []


# A path is a linked list (parent, index) so that only the first mismatch pays to spell it.
_Path = tuple[Any, int] | None


def _spell(path: _Path) -> str:
    parts: list[str] = []
    while path is not None:
        path, index = path
        parts.append(f"/inner/{index}")
    return "".join(reversed(parts)) or "/"


def _count(root: dict[str, Any]) -> int:
    total, stack = 0, [root]
    while stack:
        node = stack.pop()
        total += 1
        stack.extend(c for c in _children(node) if isinstance(c, dict))
    return total


def score_t2(golden: str | bytes | object, produced: str | bytes | object) -> CaseScore:
    """100 * (0.6 * sum L1 + 0.4 * sum L2) / N over the golden nodes, children by position."""
    want_tree, why = _parse(golden) if isinstance(golden, str | bytes) else (golden, "")
    want = _root(want_tree)
    if want is None:
        raise GoldenArtifactError(f"the golden AST is unusable: {why or 'not a JSON object'}")
    got_tree, why = _parse(produced) if isinstance(produced, str | bytes) else (produced, "")
    got = _root(got_tree)
    if got is None:
        reason = why or f"top level is {_show(got_tree)}, not an object"
        return make_score(
            0.0, f"produced AST is unusable: {reason}", {"golden_nodes": _count(want)}
        )

    total = matched = level1 = level2 = 0
    first = ""
    stack: list[tuple[dict[str, Any], dict[str, Any] | None, _Path]] = [(want, got, None)]
    while stack:
        node, twin, path = stack.pop()
        total += 1
        kids = _children(node)
        twin_kids = _children(twin) if twin is not None else []
        for index in range(len(kids) - 1, -1, -1):
            kid = kids[index]
            if isinstance(kid, dict):
                other = twin_kids[index] if index < len(twin_kids) else None
                stack.append((kid, other if isinstance(other, dict) else None, (path, index)))
        if twin is None:
            if not first:
                first = f"missing from the produced AST (with its {_count(node) - 1} descendants)"
                first = _where(total, node, path, first)
            continue
        matched += 1
        diff = next((f for f in _FIELDS if not _same(_field(node, f), _field(twin, f))), None)
        if diff is None:
            level1 += 1
            if _same(_field(node, "qualType"), _field(twin, "qualType")):
                level2 += 1
                continue
            diff = "qualType"
        if not first:
            want_value, got_value = _show(_field(node, diff)), _show(_field(twin, diff))
            first = _where(total, node, path, f"expected {diff} {want_value}, got {got_value}")

    details: dict[str, float | int | str] = {
        "golden_nodes": total,
        "produced_nodes": _count(got),
        "matched_nodes": matched,
        "l1_matches": level1,
        "l2_matches": level2,
    }
    if not first:
        return make_score(100.0, f"all {total} golden nodes match", details)
    # Integer weights (3:2 = 0.6:0.4) and one division keep the result reproducible.
    return make_score(100.0 * (3 * level1 + 2 * level2) / (5 * total), first, details)


def _where(number: int, node: dict[str, Any], path: _Path, what: str) -> str:
    kind = node.get("kind")
    label = f" ({shorten(kind)})" if isinstance(kind, str) else ""
    return f"node {number}{label} at {_spell(path)}: {what}"
