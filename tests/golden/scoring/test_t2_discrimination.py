"""T2 discrimination: known errors on real golden trees cost a visible share of the score.

The mutations (``t2_mutations``) are applied to golden T2 artifacts of public and hidden
cases from about 200 to about 2800 nodes; the published table (docs/t2-scoring.md) is
made of the same mutations. The reference solution's own T2 must still score 100.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from golden import CaseArtifacts, Split, Stage, build_golden, builtin_corpus
from golden.scoring import load_ast, score_t2
from tests.golden.scoring.t2_mutations import MUTATIONS, score_row, walk
from tests.golden.solution.support import SOLUTION, run_stage

CASES = (
    "lit_three_bases",
    "func_shadow_param_global",
    "algo_pascal",
    "prog_stack_machine",
    "algo_bst",
    "init_4d_arrays",
    "prog_matrix_toolkit",
    "stress_parens",
)
MID_SIZE = 500
"""Cases up to this many reference nodes are "mid-size": a single error costs >= 1 point."""
SINGLE = (
    "one operator flipped",
    "one literal changed",
    "one statement removed",
    "one extra statement",
    "one DeclRefExpr retargeted",
    "two statements swapped",
)


@pytest.fixture(scope="module")
def goldens() -> dict[str, CaseArtifacts]:
    wanted = [case for case in builtin_corpus() if case.name in CASES]
    assert sorted(case.name for case in wanted) == sorted(CASES)
    assert {case.split for case in wanted} == {Split.PUBLIC, Split.HIDDEN}
    build = build_golden(wanted)
    assert build.failures == {}
    return {case.name: case for case in build.cases}


def _golden(goldens: dict[str, CaseArtifacts], name: str) -> tuple[bytes, int]:
    text = goldens[name].artifacts[Stage.T2].read_bytes()
    tree = load_ast(text)
    assert isinstance(tree, dict)
    return text, len(walk(tree))


def _cost(golden: bytes, label: str) -> float:
    row = score_row(golden, MUTATIONS[label], score_t2)
    assert row is not None, f"{label} found no place in this tree"
    return 100.0 - row[1][0]


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("label", SINGLE)
def test_a_single_error_costs_a_visible_share(
    goldens: dict[str, CaseArtifacts], name: str, label: str
) -> None:
    golden, n = _golden(goldens, name)
    cost = _cost(golden, label)
    # At least the node, its function and the translation unit (3 of n nodes).
    assert cost >= 300 / n - 1e-4
    if n <= MID_SIZE:
        assert cost >= 1.0


@pytest.mark.parametrize("name", CASES)
def test_a_wrong_type_costs_level_2_of_its_chain(
    goldens: dict[str, CaseArtifacts], name: str
) -> None:
    golden, n = _golden(goldens, name)
    cost = _cost(golden, "one type changed")
    assert cost >= 0.4 * 300 / n - 1e-4
    if n <= MID_SIZE:
        assert cost >= 0.4


@pytest.mark.parametrize("name", CASES)
def test_systematic_errors_cost_far_more(goldens: dict[str, CaseArtifacts], name: str) -> None:
    golden, n = _golden(goldens, name)
    every_plus, one = _cost(golden, "every `+` -> `-`"), _cost(golden, "one operator flipped")
    assert every_plus >= 2.0 and every_plus > one
    assert _cost(golden, "every ImplicitCastExpr removed") >= 60
    assert _cost(golden, "every child list reversed") >= 75
    tree = load_ast(golden)
    assert isinstance(tree, dict)
    main = next(n for n in tree["inner"] if n.get("name") == "main")
    body = len(walk(main["inner"][-1]))
    # The body's nodes (all but the emptied block itself) and main's ancestors.
    assert _cost(golden, "main's body emptied") >= 100 * body / n - 1e-4


@pytest.mark.parametrize("name", CASES)
def test_reference_solution_still_scores_100(
    goldens: dict[str, CaseArtifacts], name: str, tmp_path: Path
) -> None:
    case = goldens[name]
    output = tmp_path / "T2.json"
    run_stage(SOLUTION / "bin" / "t2", case.artifacts[Stage.T1], output, timeout=120)
    result = score_t2(case.artifacts[Stage.T2].read_bytes(), output.read_bytes())
    assert result.score == 100.0, result.diagnosis


def test_every_mutation_changes_every_tree(goldens: dict[str, CaseArtifacts]) -> None:
    """The table has no empty cell: each mutation finds a place in each case."""
    missing: list[Any] = []
    for name in CASES:
        golden, _ = _golden(goldens, name)
        for label, mutation in MUTATIONS.items():
            row = score_row(golden, mutation, score_t2)
            if row is None or row[1][0] >= 100.0:
                missing.append((name, label))
    assert missing == []
