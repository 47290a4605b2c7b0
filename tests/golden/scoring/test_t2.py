"""T2: JSON ASTs, each known-bad variant losing exactly what the formula says."""

from __future__ import annotations

import copy
import json
import sys
import threading
from typing import Any

import pytest

from golden.scoring import GoldenArtifactError, load_ast, score_t2


def _nodes(node: Any) -> list[dict[str, Any]]:
    """Every node of a (shallow enough) tree in pre-order."""
    found = [node]
    for child in node.get("inner", []):
        found.extend(_nodes(child))
    return found


def _golden_count(text: str) -> int:
    tree = json.loads(text)
    tree["inner"] = [c for c in tree["inner"] if not c.get("isImplicit")]
    return len(_nodes(tree))


def _main_body(tree: dict[str, Any]) -> dict[str, Any]:
    main = next(n for n in tree["inner"] if n.get("name") == "main")
    body: dict[str, Any] = main["inner"][-1]
    assert body["kind"] == "CompoundStmt"
    return body


def test_golden_against_itself_scores_100(clang: Any, program: str) -> None:
    golden = clang.ast(program)
    result = score_t2(golden, golden)
    assert result.score == 100.0
    assert result.details["golden_nodes"] == _golden_count(golden)
    assert score_t2(json.loads(golden), load_ast(golden)).score == 100.0


def test_implicit_top_level_nodes_are_dropped(clang: Any, program: str) -> None:
    golden = clang.ast(program)
    tree = json.loads(golden)
    assert any(n.get("isImplicit") for n in tree["inner"])
    tree["inner"] = [n for n in tree["inner"] if not n.get("isImplicit")]
    assert score_t2(golden, tree).score == 100.0


def test_wrong_operator_loses_one_node(clang: Any, program: str) -> None:
    golden = clang.ast(program)
    produced = clang.ast(program.replace("a + 4", "a - 4"))
    n = _golden_count(golden)
    result = score_t2(golden, produced)
    assert result.score == round(100 - 100 * (0.6 + 0.4) / n, 4)
    assert result.details["l1_matches"] == n - 1
    assert "(BinaryOperator)" in result.diagnosis
    assert result.diagnosis.endswith("expected opcode '+', got '-'")


def test_wrong_type_on_one_node_loses_its_l2(clang: Any, program: str) -> None:
    golden = clang.ast(program)
    tree = json.loads(golden)
    literal = next(n for n in _nodes(_main_body(tree)) if n["kind"] == "IntegerLiteral")
    literal["type"]["qualType"] = "long"
    n = _golden_count(golden)
    result = score_t2(golden, tree)
    assert result.score == round(100 - 100 * 0.4 / n, 4)
    assert result.details["l1_matches"] == n
    assert result.details["l2_matches"] == n - 1
    assert result.diagnosis.endswith("expected qualType 'int', got 'long'")


def test_missing_subtree_loses_every_node_in_it(clang: Any, program: str) -> None:
    golden = clang.ast(program)
    produced = clang.ast(program.replace("  return b - 1;\n", ""))
    returned = _main_body(json.loads(golden))["inner"][-1]
    assert returned["kind"] == "ReturnStmt"
    lost = len(_nodes(returned))
    n = _golden_count(golden)
    result = score_t2(golden, produced)
    assert result.score == round(100 * (n - lost) / n, 4)
    assert result.details["matched_nodes"] == n - lost
    assert f"missing from the produced AST (with its {lost - 1} descendants)" in result.diagnosis


def test_renamed_variable_loses_its_declaration(clang: Any, program: str) -> None:
    golden = clang.ast(program)
    produced = clang.ast(
        program.replace("int b", "int c").replace("(b)", "(c)").replace("b -", "c -")
    )
    n = _golden_count(golden)
    result = score_t2(golden, produced)
    assert result.score == round(100 - 100 / n, 4)
    tree = json.loads(golden)
    main = [n for n in tree["inner"] if not n.get("isImplicit")].index(
        next(n for n in tree["inner"] if n.get("name") == "main")
    )
    path = f"/inner/{main}/inner/0/inner/0/inner/0"
    assert result.diagnosis.endswith(f"(VarDecl) at {path}: expected name 'b', got 'c'")


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
    n = _golden_count(golden)
    # Only the root matches (it has no type, so both levels): 100 * 1 / N.
    assert score_t2(golden, {"kind": "TranslationUnitDecl", "inner": 5}).score == round(100 / n, 4)
    shapeless = {"kind": "TranslationUnitDecl", "inner": [1, "x", None]}
    assert score_t2(golden, shapeless).score == round(100 / n, 4)
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
    # The last operator is the root of the expression, so only that node differs.
    produced = clang.ast("int main() {\n  return " + " + ".join(["1"] * (terms - 1)) + " - 1;\n}\n")
    result = score_t2(golden, produced)
    n = result.details["golden_nodes"]
    assert isinstance(n, int) and n > 2 * terms
    assert result.score == round(100 - 100 / n, 4)
    assert result.diagnosis.endswith("expected opcode '+', got '-'")


def _deep_ast(depth: int, last_opcode: str = "+") -> str:
    head = '{"kind": "TranslationUnitDecl", "inner": ['
    body = '{"kind": "BinaryOperator", "opcode": "+", "type": {"qualType": "int"}, "inner": [' * (
        depth - 1
    )
    leaf = f'{{"kind": "BinaryOperator", "opcode": "{last_opcode}"}}'
    return head + body + leaf + "]}" * (depth - 1) + "]}"


def test_synthetic_deep_tree_scores_exactly(clang: Any) -> None:
    depth = 20000
    golden = _deep_ast(depth)
    assert score_t2(golden, golden).score == 100.0
    result = score_t2(golden, _deep_ast(depth, "-"))
    assert result.score == round(100 - 100 / (depth + 1), 4)
    assert result.diagnosis.startswith(f"node {depth + 1} (BinaryOperator) at /inner/0/inner/0")


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
