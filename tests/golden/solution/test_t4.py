"""Stage T4 of the reference solution (optimiser): bin/t4 IR-FILE IR-FILE.

Public performance cases are judged for real (llc, static link, callgrind against the -O2
reference); public functional cases must keep their exact behaviour; a hand-written program
exercising every pass must behave like its unoptimised self and lose what the passes
remove; the largest stress program must stay well inside the time limit.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from golden import Stage
from golden._builder import RUNTIME_DIR, CaseArtifacts
from golden._judge import Judge
from golden.solution.sysyc.ir import parse_module
from tests.golden.solution.support import SOLUTION, build_public_with, run_stage

T4 = SOLUTION / "bin" / "t4"
BACKEND = "bwrap"
PERFORMANCE = {"perf_points": 95.0, "perf_tailrec": 95.0, "perf_floyd": 85.0}
FUNCTIONAL = ("algo_bst", "ctrl_nested_break_continue", "exit_from_recursion", "prog_life_torus")
STRESS = "stress_big"


@pytest.fixture(scope="module")
def golden() -> Iterator[tuple[list, dict[str, CaseArtifacts]]]:  # type: ignore[type-arg]
    yield build_public_with((*PERFORMANCE, *FUNCTIONAL, STRESS), BACKEND)


def _run_t4(source: Path, target: Path) -> float:
    return run_stage(T4, source, target, timeout=60)


def test_cases_behave_and_performance_scores(golden, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cases, artifacts = golden
    failures: list[str] = []
    with Judge([c for c in cases if c.name != STRESS], backend=BACKEND) as judge:
        for case in cases:
            if case.name == STRESS:
                continue
            produced = tmp_path / f"{case.name}.ll"
            _run_t4(artifacts[case.name].artifacts[Stage.T3], produced)
            result = judge.judge(Stage.T4, artifacts[case.name], produced)
            floor = PERFORMANCE.get(case.name, 0.0)
            if result.score <= floor:
                failures.append(f"{case.name}: {result.score:.1f} ({result.diagnosis})")
    assert failures == []


def test_stress_program_is_fast(golden, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, artifacts = golden
    seconds = _run_t4(artifacts[STRESS].artifacts[Stage.T3], tmp_path / "stress.ll")
    assert seconds < 15.0


PROGRAM = r"""
const int N = 8;
int table[N][N];
int counter;

int gcd(int a, int b) {
  if (b == 0) return a;
  return gcd(b, a % b);
}

int clamp(int v, int lo, int hi) {
  if (v < lo) return lo;
  if (v > hi) return hi;
  return v;
}

void bump() { counter = counter + 1; }

int main() {
  int i = 0;
  while (i < N) {
    int j = 0;
    while (j < N) {
      table[i][j] = gcd(i * 12 + 6, j * 18 + 4) + clamp(i - j, -2, 3);
      j = j + 1;
    }
    i = i + 1;
  }
  int sum = 0;
  int k = 0;
  while (k < 4) {
    sum = sum + table[k][k] * 3;
    bump();
    k = k + 1;
  }
  int n = getint();
  int acc = 1;
  while (n > 0) {
    if (n % 2 == 1 && acc < 1000000) acc = acc * 3;
    else if (!(n > 5)) acc = acc + n;
    n = n - 1;
  }
  putint(sum); putch(32); putint(acc); putch(32); putint(counter); putch(10);
  return table[N - 1][N - 1] + counter;
}
"""


def _compile_and_run(ir: Path, program: Path) -> subprocess.CompletedProcess[bytes]:
    subprocess.run(
        ["clang-19", "-w", str(ir), str(RUNTIME_DIR / "sylib.c"), "-o", str(program)], check=True
    )
    return subprocess.run([str(program)], input=b"23\n", capture_output=True, timeout=30)


def test_hand_written_program_is_optimised_and_unchanged(tmp_path: Path) -> None:
    if shutil.which("clang-19") is None:
        pytest.skip("clang-19 is not installed")
    source = tmp_path / "prog.c"
    source.write_text('#include "sylib.h"\n' + PROGRAM)
    original = tmp_path / "prog.O0.ll"
    subprocess.run(
        [
            "clang-19",
            "-S",
            "-emit-llvm",
            "-O0",
            "-Xclang",
            "-disable-O0-optnone",
            "-w",
            "-I",
            str(RUNTIME_DIR),
            str(source),
            "-o",
            str(original),
        ],
        check=True,
    )
    optimised = tmp_path / "prog.T4.ll"
    _run_t4(original, optimised)
    expected = _compile_and_run(original, tmp_path / "before")
    got = _compile_and_run(optimised, tmp_path / "after")
    assert got.stdout == expected.stdout and got.stdout.endswith(b"\n")
    assert got.returncode == expected.returncode
    module = parse_module(optimised.read_text())
    functions = {f.name: f for f in module.functions}
    instrs = [i for f in module.functions for b in f.blocks for i in b.instrs]
    # mem2reg: no scalar stack slots remain
    assert not [i for i in instrs if i.op == "alloca"]
    # tail recursion became a loop
    assert not [i for b in functions["gcd"].blocks for i in b.instrs if i.op == "call"]
    # small helpers are inlined into main, and the constant 4-trip loop is unrolled
    calls = {i.callee for b in functions["main"].blocks for i in b.instrs if i.op == "call"}
    assert calls.isdisjoint({"gcd", "clamp", "bump"})
    # the clamp became selects
    assert any(i.op == "select" for b in functions["main"].blocks for i in b.instrs)
