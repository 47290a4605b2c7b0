"""T2: JSON ASTs, each known-bad variant losing exactly what the subtree rule says.

A reference node counts only when its whole subtree is right, so an error at one node
costs that node and every ancestor of it; a produced node with no counterpart costs one
node's share. Every expectation below is computed from the reference tree independently
of the scorer: the set of nodes with a fault at or below them.
"""

from __future__ import annotations

import copy
import gc
import json
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from golden.scoring import GoldenArtifactError, canonical_ast, load_ast, score_t2

Node = dict[str, Any]

SHADOWING = """\
int a = 3;
int main() {
  int a = 4;
  putint(a);
  return 0;
}
"""


def _reduced(text: str) -> Node:
    form = canonical_ast(text)
    assert form is not None
    tree: Node = json.loads(form)
    return tree


def _nodes(node: Node) -> list[Node]:
    """Every node of a (shallow enough) tree in pre-order."""
    found = [node]
    for key in ("inner", "array_filler"):
        for child in node.get(key, []):
            found.extend(_nodes(child))
    return found


def _tainted(node: Node, faulty: Callable[[Node], bool]) -> int:
    """How many nodes have a faulty node in their subtree (themselves included)."""

    def walk(at: Node) -> tuple[bool, int]:
        bad, count = faulty(at), 0
        for key in ("inner", "array_filler"):
            for child in at.get(key, []):
                child_bad, child_count = walk(child)
                bad, count = bad or child_bad, count + child_count
        return bad, count + int(bad)

    return walk(node)[1]


def _expected(n: int, wrong: int = 0, wrong_type: int = 0, extra: int = 0) -> float:
    """The formula: ``wrong`` subtrees lost at both levels, ``wrong_type`` at level 2 only."""
    right1, right2 = n - wrong, n - wrong - wrong_type
    return round(100 * max(0, 3 * right1 + 2 * right2 - 5 * extra) / (5 * n), 4)


def _main_body(tree: Node) -> Node:
    main = next(n for n in tree["inner"] if n.get("name") == "main")
    body: Node = main["inner"][-1]
    assert body["kind"] == "CompoundStmt"
    return body


def test_golden_against_itself_scores_100(clang: Any, program: str) -> None:
    golden = clang.ast(program)
    result = score_t2(golden, golden)
    n = len(_nodes(_reduced(golden)))
    assert result.score == 100.0
    assert result.details == {
        "golden_nodes": n,
        "produced_nodes": n,
        "paired_nodes": n,
        "extra_nodes": 0,
        "l1_subtrees": n,
        "l2_subtrees": n,
    }
    assert score_t2(json.loads(golden), load_ast(golden)).score == 100.0


def test_implicit_top_level_nodes_are_dropped(clang: Any, program: str) -> None:
    golden = clang.ast(program)
    tree = json.loads(golden)
    assert any(n.get("isImplicit") for n in tree["inner"])
    tree["inner"] = [n for n in tree["inner"] if not n.get("isImplicit")]
    assert score_t2(golden, tree).score == 100.0


def test_wrong_operator_loses_its_node_and_every_ancestor(clang: Any, program: str) -> None:
    golden = clang.ast(program)
    reference = _reduced(golden)
    # TranslationUnitDecl, main, its body, the DeclStmt, VarDecl b, the operator.
    wrong = _tainted(reference, lambda n: n.get("opcode") == "+")
    assert wrong == 6
    result = score_t2(golden, clang.ast(program.replace("a + 4", "a - 4")))
    n = len(_nodes(reference))
    assert result.score == _expected(n, wrong) < 100 - 10
    assert (result.details["l1_subtrees"], result.details["l2_subtrees"]) == (n - 6, n - 6)
    assert "(BinaryOperator)" in result.diagnosis
    assert result.diagnosis.endswith("expected opcode '+', got '-'")


def test_wrong_type_loses_level_2_of_its_chain(clang: Any, program: str) -> None:
    golden = clang.ast(program)
    tree = json.loads(golden)
    literal = next(n for n in _nodes(_main_body(tree)) if n["kind"] == "IntegerLiteral")
    literal["type"]["qualType"] = "long"
    reference = _reduced(golden)
    first = next(n for n in _nodes(_main_body(reference)) if n["kind"] == "IntegerLiteral")
    chain = _tainted(reference, lambda n: n is first)
    assert chain == 7
    n = len(_nodes(reference))
    result = score_t2(golden, tree)
    assert result.score == _expected(n, wrong_type=chain)
    assert (result.details["l1_subtrees"], result.details["l2_subtrees"]) == (n, n - chain)
    assert result.diagnosis.endswith("expected qualType 'int', got 'long'")


def test_missing_statement_loses_its_subtree_and_ancestors(clang: Any, program: str) -> None:
    golden = clang.ast(program)
    reference = _reduced(golden)
    returned = _main_body(reference)["inner"][-1]
    assert returned["kind"] == "ReturnStmt"
    lost = len(_nodes(returned))
    n = len(_nodes(reference))
    result = score_t2(golden, clang.ast(program.replace("  return b - 1;\n", "")))
    assert result.score == _expected(n, lost + 3)  # + the body, main, the translation unit
    assert result.details["paired_nodes"] == n - lost
    assert f"(ReturnStmt, with {lost - 1} descendants) is missing" in result.diagnosis


def test_extra_statement_costs_its_nodes_and_ancestors(clang: Any, program: str) -> None:
    golden = clang.ast(program)
    reference = _reduced(golden)
    call = _main_body(reference)["inner"][1]
    assert call["kind"] == "CallExpr"
    size = len(_nodes(call))
    n = len(_nodes(reference))
    produced = clang.ast(program.replace("putint(b);", "putint(b);\n  putint(b);"))
    result = score_t2(golden, produced)
    assert result.score == _expected(n, 3, extra=size)
    assert result.details["extra_nodes"] == size
    assert "has an extra child at /inner/" in result.diagnosis
    assert result.diagnosis.endswith(f"(CallExpr, with {size - 1} descendants)")


def test_references_are_judged_through_the_pairing_not_the_numbers(
    clang: Any, program: str
) -> None:
    # An extra declaration first in main renumbers every declaration after it; the uses
    # of b still resolve to the twin of b, so only the extra statement costs.
    golden = clang.ast(program)
    n = len(_nodes(_reduced(golden)))
    produced = clang.ast(program.replace("int main() {\n", "int main() {\n  int z = 0;\n"))
    result = score_t2(golden, produced)
    assert result.score == _expected(n, 3, extra=3)  # DeclStmt, VarDecl z, its literal


def _retarget(tree: Node, use_name: str, to: Callable[[Node], bool]) -> Node:
    """``tree`` with the first use of ``use_name`` in main pointed at another declaration."""
    use = next(
        n
        for n in _nodes(_main_body(tree))
        if n["kind"] == "DeclRefExpr" and n["referencedDecl"]["name"] == use_name
    )
    target = next(n for n in _nodes(tree) if to(n))
    use["referencedDecl"]["id"] = target["id"]
    return use


def test_reference_to_a_shadowed_declaration_costs_its_chain(clang: Any) -> None:
    golden = clang.ast(SHADOWING)
    tree = json.loads(golden)
    glob = next(n for n in tree["inner"] if n.get("name") == "a")
    use = _retarget(tree, "a", lambda n: n is glob)
    assert use["referencedDecl"]["name"] == glob["name"]  # same name, same type: only identity
    reference = _reduced(golden)
    n = len(_nodes(reference))
    # TranslationUnitDecl, main, its body, the call, the cast, the DeclRefExpr.
    result = score_t2(golden, tree)
    assert result.score == _expected(n, 6)
    assert "(DeclRefExpr)" in result.diagnosis
    everything = _nodes(reference)
    outer = next(n for n in reference["inner"] if n.get("name") == "a")
    inner = _main_body(reference)["inner"][0]["inner"][0]
    numbers = [1 + next(i for i, x in enumerate(everything) if x is d) for d in (inner, outer)]
    assert result.diagnosis.endswith(
        f"expected it refers to the declaration at node {numbers[0]} (VarDecl 'a'), "
        f"got the declaration at node {numbers[1]} (VarDecl 'a')"
    )
    dangling = json.loads(golden)
    use = _retarget(dangling, "a", lambda n: n.get("kind") == "TranslationUnitDecl")
    use["referencedDecl"]["id"] = "0xdead"
    result = score_t2(golden, dangling)
    assert result.score == _expected(n, 6)
    assert result.diagnosis.endswith("got an id that names no declaration in the tree")


def test_a_redeclaration_must_follow_its_first_declaration(clang: Any) -> None:
    golden = clang.ast("int f(int x);\nint f(int y) { return y; }\nint main() { return f(1); }\n")
    tree = json.loads(golden)
    second = [n for n in tree["inner"] if n.get("name") == "f"][1]
    del second["previousDecl"]
    n = len(_nodes(_reduced(golden)))
    result = score_t2(golden, tree)
    assert result.score == _expected(n, 2)  # the definition and the translation unit
    assert result.diagnosis.endswith("(FunctionDecl 'f'), got none")


def test_renamed_variable_loses_its_declaration_and_uses(clang: Any, program: str) -> None:
    golden = clang.ast(program)
    produced = clang.ast(
        program.replace("int b", "int c").replace("(b)", "(c)").replace("b -", "c -")
    )
    reference = _reduced(golden)
    wrong = _tainted(
        reference,
        lambda n: n.get("name") == "b" or n.get("referencedDecl", {}).get("name") == "b",
    )
    n = len(_nodes(reference))
    result = score_t2(golden, produced)
    assert result.score == _expected(n, wrong)
    main = [m.get("name") for m in reference["inner"]].index("main")
    path = f"/inner/{main}/inner/0/inner/0/inner/0"
    assert result.diagnosis.endswith(f"(VarDecl) at {path}: expected name 'b', got 'c'")


def test_swapped_statements_cost_the_moved_one_and_ancestors(clang: Any, program: str) -> None:
    golden = clang.ast(program)
    produced = clang.ast(
        program.replace("  putint(b);\n  return b - 1;\n", "  return b - 1;\n  putint(b);\n")
    )
    reference = _reduced(golden)
    call = _main_body(reference)["inner"][1]
    moved = len(_nodes(call))
    n = len(_nodes(reference))
    result = score_t2(golden, produced)
    # The return keeps its place; the call, paired out of order, earns nothing (as if
    # compared by position) but is not extra either.
    assert result.score == _expected(n, moved + 3)
    assert (result.details["paired_nodes"], result.details["extra_nodes"]) == (n, 0)
    assert f"(CallExpr, with {moved - 1} descendants) is out of order" in result.diagnosis


def test_cast_kind_is_part_of_a_node(clang: Any, program: str) -> None:
    golden = clang.ast(program)
    tree = json.loads(golden)
    cast = next(n for n in _nodes(_main_body(tree)) if n["kind"] == "ImplicitCastExpr")
    cast["castKind"] = "IntegralCast"
    reference = _reduced(golden)
    first = next(n for n in _nodes(_main_body(reference)) if n["kind"] == "ImplicitCastExpr")
    result = score_t2(golden, tree)
    wrong = _tainted(reference, lambda n: n is first)
    assert result.score == _expected(len(_nodes(reference)), wrong)
    assert result.diagnosis.endswith("expected castKind 'LValueToRValue', got 'IntegralCast'")


def test_padding_only_ever_costs(clang: Any, program: str) -> None:
    golden = clang.ast(program)
    reference = _reduced(golden)
    n, size = len(_nodes(reference)), len(_nodes(_main_body(reference)["inner"][1]))
    scores = []
    for copies in range(1, 6):
        tree = json.loads(golden)
        body = _main_body(tree)
        body["inner"][1:1] = [copy.deepcopy(body["inner"][1]) for _ in range(copies)]
        result = score_t2(golden, tree)
        # Each copy of the call costs its own nodes; the block, main and the unit are wrong.
        assert result.score == _expected(n, 3, extra=copies * size)
        produced = result.details["produced_nodes"]
        assert isinstance(produced, int) and produced == n + copies * size
        assert result.score <= 100 * (2 * n - produced) / n
        scores.append(result.score)
    assert scores == sorted(scores, reverse=True) and len(set(scores)) == len(scores)


def test_hedging_a_guess_with_the_right_subtree_scores_less(clang: Any, program: str) -> None:
    # A nearly right guess (one operator off) and the right statement side by side: the
    # right one pairs, the guess is extra, so the hedge is worse than either alone.
    golden = clang.ast(program)
    wrong = clang.ast(program.replace("a + 4", "a - 4"))
    hedged = json.loads(wrong)
    right = _main_body(json.loads(golden))["inner"][0]
    _main_body(hedged)["inner"].insert(1, right)
    assert score_t2(golden, hedged).score < score_t2(golden, wrong).score < 100


_NEW_VALUES = {
    "opcode": "%",
    "value": "77",
    "name": "renamed",
    "castKind": "BitCast",
    "kind": "NullStmt",
}


def _structural_edit(tree: Node, draw: Any) -> None:
    """One edit the scorer must see: a child deleted, repeated or swapped, or a field."""
    parents = [n for n in _nodes(tree) if len(n.get("inner", [])) >= 1]
    node = parents[draw(st.integers(0, len(parents) - 1))]
    kids = node["inner"]
    at = draw(st.integers(0, len(kids) - 1))
    what = draw(st.sampled_from(["delete", "repeat", "swap", "field", "type"]))
    distinct = [i for i, k in enumerate(kids) if json.dumps(k)[:200] != json.dumps(kids[at])[:200]]
    if what == "swap" and distinct:
        other = distinct[0]
        kids[at], kids[other] = kids[other], kids[at]
    elif what == "delete":
        del kids[at]
    elif what == "repeat":
        kids.insert(at, copy.deepcopy(kids[at]))
    elif what == "type":
        kids[at]["type"] = {"qualType": "unsigned long"}
    else:
        field = draw(st.sampled_from(sorted(_NEW_VALUES)))
        kids[at][field] = _NEW_VALUES[field]


@pytest.fixture(scope="module")
def canonical_golden(clang: Any, program: str) -> str:
    """The fixture program's tree as golden artifacts are stored: the canonical form."""
    form = canonical_ast(clang.ast(program))
    assert form is not None
    return form


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_structural_edit_costs_and_unscored_ones_do_not(
    canonical_golden: str, data: Any
) -> None:
    golden = canonical_golden
    edited = json.loads(golden)
    _structural_edit(edited, data.draw)
    result = score_t2(golden, edited)
    assert 0 <= result.score < 100, result
    assert result == score_t2(golden, json.dumps(edited))
    # Fields scoring does not read, and ids renamed consistently: still 100.
    unscored = json.loads(golden)
    for node in _nodes(unscored):
        node["valueCategory"] = data.draw(st.sampled_from(["lvalue", "prvalue"]))
        node["loc"] = {"line": data.draw(st.integers(0, 9))}
        if "id" in node:
            node["id"] += "ff"
        if "referencedDecl" in node:
            node["referencedDecl"]["id"] += "ff"
        if "previousDecl" in node:
            node["previousDecl"] += "ff"
    assert score_t2(golden, unscored).score == 100.0


@pytest.mark.parametrize(
    ("produced", "reason"),
    [
        ("", "not valid JSON"),
        ('{"kind": ', "not valid JSON"),
        ("[1, 2, 3]", "top level is an array, not an object"),
        ("null", "top level is null, not an object"),
        ('"TranslationUnitDecl"', "top level is 'TranslationUnitDecl', not an object"),
        ("1" * 5000, "not valid JSON"),
        (b"\xff\xfe{}", "not valid JSON"),
    ],
)
def test_unusable_produced_json_scores_0(
    clang: Any, program: str, produced: Any, reason: str
) -> None:
    result = score_t2(clang.ast(program), produced)
    assert result.score == 0.0
    assert result.diagnosis.startswith("produced AST is unusable: ")
    assert reason.split(" (")[0] in result.diagnosis


def test_wrong_shapes_score_without_raising(clang: Any, program: str) -> None:
    golden = clang.ast(program)
    # The root pairs, but every child is missing: no subtree is right.
    empty = score_t2(golden, {"kind": "TranslationUnitDecl", "inner": 5})
    assert empty.score == 0.0 and "is missing from the produced AST" in empty.diagnosis
    shapeless = score_t2(golden, {"kind": "TranslationUnitDecl", "inner": [1, "x", None]})
    assert shapeless.score == 0.0 and shapeless.details["extra_nodes"] == 3
    tree = json.loads(golden)
    tree["type"] = {"qualType": ["deep", ["list"]]}
    tree["inner"][-1]["name"] = {"not": "a name"}
    assert 0 < score_t2(golden, tree).score < 100


def test_real_deep_ast_scores_exactly(clang: Any) -> None:
    # Pretty-printed JSON indents each level, so 700 chained terms already make ~45 MB.
    terms = 700
    golden = clang.ast("int main() {\n  return " + " + ".join(["1"] * terms) + ";\n}\n")
    with pytest.raises(RecursionError):
        json.loads(golden)
    assert score_t2(golden, golden).score == 100.0
    # The last operator is the root of the expression: it and its four ancestors are wrong.
    produced = clang.ast("int main() {\n  return " + " + ".join(["1"] * (terms - 1)) + " - 1;\n}\n")
    result = score_t2(golden, produced)
    n = result.details["golden_nodes"]
    assert isinstance(n, int) and n > 2 * terms
    assert result.score == _expected(n, 5)
    assert result.diagnosis.endswith("expected opcode '+', got '-'")


def _deep_ast(depth: int, last_opcode: str = "+", first_opcode: str = "+") -> str:
    head = '{"kind": "TranslationUnitDecl", "inner": ['
    top = f'{{"kind": "BinaryOperator", "opcode": "{first_opcode}", "inner": ['
    body = '{"kind": "BinaryOperator", "opcode": "+", "type": {"qualType": "int"}, "inner": [' * (
        depth - 2
    )
    leaf = f'{{"kind": "BinaryOperator", "opcode": "{last_opcode}"}}'
    return head + top + body + leaf + "]}" * (depth - 1) + "]}"


def test_synthetic_deep_tree_scores_exactly() -> None:
    depth = 20000
    golden = _deep_ast(depth)
    assert score_t2(golden, golden).score == 100.0
    # The deepest node is wrong: every node has it in its subtree.
    result = score_t2(golden, _deep_ast(depth, last_opcode="-"))
    assert result.score == 0.0
    assert result.diagnosis.startswith(f"node {depth + 1} (BinaryOperator) at /inner/0/inner/0")
    # The top operator is wrong: it and the translation unit.
    assert score_t2(golden, _deep_ast(depth, first_opcode="-")).score == _expected(depth + 1, 2)


def test_long_shuffled_lists_are_aligned_within_budget() -> None:
    def unit(values: list[int]) -> Node:
        leaves = [{"kind": "IntegerLiteral", "value": str(v)} for v in values]
        return {"kind": "TranslationUnitDecl", "inner": leaves}

    started = time.perf_counter()
    # 1000 x 1000 fits the budget: one leaf keeps its place, 999 are moved (no credit).
    short = list(range(1000))
    assert score_t2(unit(short), unit(short[::-1])).score == _expected(1001, 1000)
    # 3000 x 3000 does not: paired by position, every leaf but the middle one differs.
    long = list(range(3000))
    reversed_ = score_t2(unit(long), unit(long[::-1]))
    assert reversed_.score == 0.0 and reversed_.details["paired_nodes"] == 3001
    mixed = [(i * 7) % 3001 for i in range(3000)]
    first = score_t2(unit(long), unit(mixed))
    assert first == score_t2(unit(long), unit(mixed)) and 0 <= first.score < 100
    assert time.perf_counter() - started < 30


def test_load_ast_handles_20000_deep_arrays_and_restores_limits() -> None:
    limit, stack = sys.getrecursionlimit(), threading.stack_size()
    value = load_ast("[" * 20000 + "]" * 20000)
    depth = 0
    while isinstance(value, list) and value:
        value, depth = value[0], depth + 1
    assert value == [] and depth == 19999
    assert (sys.getrecursionlimit(), threading.stack_size()) == (limit, stack)
    assert load_ast("[" * 20000) is None
    assert load_ast("{not json") is None


def test_malformed_golden_raises() -> None:
    with pytest.raises(GoldenArtifactError):
        score_t2("[]", "{}")
    with pytest.raises(GoldenArtifactError):
        score_t2("{", "{}")


def test_inputs_are_not_mutated(clang: Any, program: str) -> None:
    tree = json.loads(clang.ast(program))
    before = copy.deepcopy(tree)
    score_t2(tree, tree)
    assert tree == before


def test_garbage_collector_state_is_restored(clang: Any, program: str) -> None:
    golden = clang.ast(program)
    assert gc.isenabled()
    score_t2(golden, golden)
    assert gc.isenabled()
    gc.disable()
    try:
        score_t2(golden, golden)
        assert not gc.isenabled()
    finally:
        gc.enable()
