"""Stage T1 of the reference solution (bin/t1: preprocessed text -> clang's token dump).

Public cases must come out byte-identical to clang's dump (score 100); so must programs
written here, lexed by the host's clang-19 for the reference.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from golden import CaseArtifacts, Stage  # noqa: E402
from golden.scoring import score_t1  # noqa: E402
from tests.golden.solution.support import build_public, run_stage  # noqa: E402

WORKSPACE = REPO / "golden" / "solution"
T1 = WORKSPACE / "bin" / "t1"
CLANG = "clang-19"
PUBLIC_SAMPLE = (
    "algo_brackets",
    "decl_local_const_dims",
    "init_mixed_nested_flat",
    "lit_three_bases",
    "stress_big",
)
TIME_LIMIT_S = 10.0

# Comments (line and block, one spanning lines), tabs, CRLF, a line marker in the middle,
# hex/octal literals and no newline at the end: the lexer's flags and columns all matter.
OWN_PROGRAM = (
    "// leading comment\n"
    "const int N = 0x1F, M = 017;\n"
    "int a[N][2] /* block\n   spans */ = {};\r\n"
    "\tint  f(int x[], int n) {\n"
    "  return x[0] /**/+ n;   // trailing\n"
    "}\n"
    '# 40 "/ramp/case/moved.sy"\n'
    "int main() { if (!(N <= M) && 1 != 2 || 3 >= 4) putint(-N % 5 / 1); return 0; }"
)


def _run_t1(source: Path, output: Path) -> float:
    return run_stage(T1, source, output)


@pytest.fixture(scope="module")
def public_cases() -> dict[str, CaseArtifacts]:
    return build_public(PUBLIC_SAMPLE)


@pytest.mark.parametrize("name", PUBLIC_SAMPLE)
def test_public_case_matches_clang_exactly(
    name: str, public_cases: dict[str, CaseArtifacts], tmp_path: Path
) -> None:
    case = public_cases[name]
    output = tmp_path / "T1.tokens"
    elapsed = _run_t1(case.artifacts[Stage.T0], output)
    golden = case.artifacts[Stage.T1].read_bytes()
    produced = output.read_bytes()
    assert score_t1(golden, produced).score == 100.0
    assert produced == golden
    assert elapsed < TIME_LIMIT_S


@pytest.mark.skipif(shutil.which(CLANG) is None, reason="clang-19 is not installed")
def test_own_program_matches_clang(tmp_path: Path) -> None:
    source = tmp_path / "own.i"
    source.write_bytes(OWN_PROGRAM.encode())
    reference = subprocess.run(
        [CLANG, "-cc1", "-dump-tokens", str(source)], capture_output=True, text=True
    )
    assert reference.returncode == 0, reference.stderr
    output = tmp_path / "own.tokens"
    _run_t1(source, output)
    golden = "".join(line + "\n" for line in reference.stderr.splitlines() if "\tLoc=<" in line)
    produced = output.read_text()
    assert score_t1(golden, produced).score == 100.0
    assert produced == golden


def test_a_wrong_dump_loses_points(public_cases: dict[str, CaseArtifacts], tmp_path: Path) -> None:
    """The check above can fail: a dump with shifted columns does not score 100."""
    case = public_cases["algo_brackets"]
    golden = case.artifacts[Stage.T1].read_text()
    shifted = golden.replace(":1>", ":2>")
    assert score_t1(golden, shifted).score < 100.0
