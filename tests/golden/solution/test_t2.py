"""Stage T2 of the reference solution (bin/t2: token dump -> clang's JSON AST).

Public cases must score 100 against clang's AST; so must a program written here, compared
with the host's clang-19. For that program the unscored fields stage T3 reads (castKind,
valueCategory, referencedDecl, init, the contents of array_filler) must match clang too.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from golden import CaseArtifacts, Stage  # noqa: E402
from golden._builder import RUNTIME_DIR  # noqa: E402
from golden.scoring import score_t2  # noqa: E402
from tests.golden.solution.support import build_public, run_stage  # noqa: E402

WORKSPACE = REPO / "golden" / "solution"
T2 = WORKSPACE / "bin" / "t2"
CLANG = "clang-19"
PUBLIC_SAMPLE = (
    "algo_bst",
    "decl_local_const_dims",
    "init_mixed_nested_flat",
    "init_empty_braces",
    "lit_three_bases",
    "expr_unary_chains",
    "func_shadow_param_global",
    "stress_parens",
)
TIME_LIMIT_S = 10.0
JsonNode = dict[str, Any]

# Variable length arrays (printed sizes, folding with an initialiser, `[*]` prototypes),
# const arrays, brace elision, braces around scalars, literals wider than int, forward
# declarations, discarded expressions and shadowing.
OWN_PROGRAM = """
const int N = 3, M = N * 2;
const int A[3] = {1};
int b[A[2] + M];
int wide = 2147483648;
int g(int a[][N][2], int n) { return a[n][0][1]; }
void v(int p[]) { p[0] = 1; return; }
int k(int x);
int k(int y) { return y; }
int m[2][3][2] = {1, {2, 3}, 4, 5, {6}};
int main() {
  int x = 1, arr[4] = {{1}, 2};
  x;
  arr;
  (x) = 3;
  (arr)[1] = k(2);
  int c[N][N][2];
  g(c, 1);
  int d[2][N] = {1, 2, 3, 4};
  v(d[1]);
  v(A);
  if (x < 0xFFFFFFFF) x = - - !x; else { }
  while (x > 100) ;
  { int x = x; }
  const int L = 4;
  int w[L + 1][2];
  int q[L][2] = {};
  w[0][1] = wide;
  return -2147483647 - 1 < x || 2147483647 + 0 && q[1][1];
}
"""
UNSCORED_FIELDS = ("castKind", "valueCategory", "init", "hasElse")


def _run_t2(source: Path, output: Path) -> float:
    return run_stage(T2, source, output)


@pytest.fixture(scope="module")
def public_cases() -> dict[str, CaseArtifacts]:
    return build_public(PUBLIC_SAMPLE)


@pytest.mark.parametrize("name", PUBLIC_SAMPLE)
def test_public_case_scores_100(
    name: str, public_cases: dict[str, CaseArtifacts], tmp_path: Path
) -> None:
    case = public_cases[name]
    output = tmp_path / "T2.json"
    elapsed = _run_t2(case.artifacts[Stage.T1], output)
    score = score_t2(case.artifacts[Stage.T2].read_bytes(), output.read_bytes())
    assert score.score == 100.0, score
    assert elapsed < TIME_LIMIT_S


def _differences(want: JsonNode, got: JsonNode, path: str = "") -> list[str]:
    """Where two trees differ in the scored fields, the unscored ones T3 uses, or shape."""
    for field in ("kind", "name", "value", "opcode", "type", *UNSCORED_FIELDS):
        if want.get(field) != got.get(field):
            return [f"{path or '/'}: {field} {want.get(field)!r} != {got.get(field)!r}"]
    want_ref, got_ref = want.get("referencedDecl"), got.get("referencedDecl")
    if (want_ref is None) != (got_ref is None) or (
        want_ref and got_ref and want_ref["name"] != got_ref["name"]
    ):
        return [f"{path}: referencedDecl {want_ref!r} != {got_ref!r}"]
    found: list[str] = []
    for key in ("inner", "array_filler"):
        want_kids, got_kids = want.get(key, []), got.get(key, [])
        if len(want_kids) != len(got_kids):
            return [f"{path}/{key}: {len(want_kids)} children != {len(got_kids)}"]
        for index, (a, b) in enumerate(zip(want_kids, got_kids, strict=True)):
            found += _differences(a, b, f"{path}/{key}/{index}")
    return found


@pytest.mark.skipif(shutil.which(CLANG) is None, reason="clang-19 is not installed")
def test_own_program_matches_clang(tmp_path: Path) -> None:
    source = tmp_path / "own.sy"
    source.write_text(OWN_PROGRAM)
    preprocessed = tmp_path / "own.i"
    include = ["-isystem", str(RUNTIME_DIR), "-include", "sylib.h"]
    subprocess.run(
        [CLANG, "-E", "-x", "c", *include, str(source), "-o", str(preprocessed)], check=True
    )
    tokens = subprocess.run(
        [CLANG, "-cc1", "-dump-tokens", str(preprocessed)], capture_output=True, text=True
    )
    dump = tmp_path / "own.tokens"
    dump.write_text(
        "".join(line + "\n" for line in tokens.stderr.splitlines() if "\tLoc=<" in line)
    )
    reference = subprocess.run(
        [CLANG, "-cc1", "-ast-dump=json", str(preprocessed)], capture_output=True, text=True
    )
    assert reference.returncode == 0, reference.stderr
    output = tmp_path / "own.json"
    _run_t2(dump, output)
    assert score_t2(reference.stdout, output.read_text()).score == 100.0
    want = json.loads(reference.stdout)
    want["inner"] = [n for n in want["inner"] if not n.get("isImplicit")]
    assert _differences(want, json.loads(output.read_text())) == []


def test_a_wrong_tree_loses_points(public_cases: dict[str, CaseArtifacts], tmp_path: Path) -> None:
    """The score check can fail: swapping an operator costs points."""
    case = public_cases["algo_bst"]
    output = tmp_path / "T2.json"
    _run_t2(case.artifacts[Stage.T1], output)
    spoiled = output.read_text().replace('"opcode":"<"', '"opcode":">"', 1)
    assert spoiled != output.read_text()
    assert score_t2(case.artifacts[Stage.T2].read_bytes(), spoiled).score < 100.0
