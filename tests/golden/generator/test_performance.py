"""Generated performance programs: deterministic, valid, UB-free, and worth optimising.

Determinism is checked in this process and in a fresh one (a str seed is hashed by
``random.Random`` itself, never by ``hash()``). A few programs are established by the real
differential run (golden._expected: native -O0/-O2, RV64 under qemu, UBSan+ASan, MSan), and
two go through a real golden build, whose counts must leave T4 room to spread: clang -O2's
IR between 2 and 10 times cheaper than the unchanged -O0 IR, as for the built-in cases.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from golden import Case, CaseKind, Split, build_golden
from golden._expected import establish
from golden.generator import FEATURES, GeneratedProgram, generate_performance
from tests.support import backend_missing, reachable_temp_dir

REPO = Path(__file__).resolve().parents[3]
SEED = 20240611
# Features a program claims that its text must show, by a pattern.
_VISIBLE = {
    "timer": r"starttime\(\);[\s\S]*stoptime\(\);",
    "recursion": r"int (\w+)\(int v\) \{[\s\S]*?\1\(v - 1\)",
    "multi_dim_array": r"int \w+\[\d+\]\[\d+\];",
    "array_param": r"\(int \w+\[\](\[\d+\])?,",
    "const_array": r"const int \w+\[\d+\] = \{",
    "short_circuit_and": r"&&",
    "logical_not": r"!\w",
    "void_function": r"^void \w+\(",
    "exit_code": r"return check % \d+;",
}


def _written(program: GeneratedProgram, where: Path) -> tuple[Path, Path]:
    source = where / f"{program.name}.sy"
    stdin = where / f"{program.name}.in"
    source.write_text(program.source, encoding="utf-8")
    stdin.write_text(program.stdin, encoding="utf-8")
    return source, stdin


def test_same_seed_same_program_in_a_fresh_process() -> None:
    here = [generate_performance(SEED, i) for i in range(3)]
    assert here == [generate_performance(SEED, i) for i in range(3)]
    script = (
        "import sys; from golden.generator import generate_performance as g; "
        f"sys.stdout.write(g({SEED}, 2).model_dump_json())"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert GeneratedProgram.model_validate_json(done.stdout) == here[2]


def test_seeds_and_indices_give_different_programs() -> None:
    sources = {generate_performance(seed, i).source for seed in (1, 2) for i in range(6)}
    assert len(sources) == 12
    assert generate_performance(1, 0).name == "gen_p0000"
    assert generate_performance(1, 17).name == "gen_p0017"


def test_features_are_known_and_visible() -> None:
    seen: set[str] = set()
    for index in range(24):
        program = generate_performance(SEED, index)
        assert program.kind == "performance"
        assert {"hot_loop", "timer"} <= program.features <= set(FEATURES)
        for feature in program.features & _VISIBLE.keys():
            assert re.search(_VISIBLE[feature], program.source, re.MULTILINE), (
                f"{program.name} claims {feature}"
            )
        seen |= program.features
    # the catalogue shows: arrays of rank 2, recursion, array parameters, constant tables
    assert {"multi_dim_array", "recursion", "array_param", "const_array"} <= seen


def test_a_sample_is_established_by_every_build(tmp_path: Path) -> None:
    for index in (0, 1, 2):
        program = generate_performance(SEED + 1, index)
        source, stdin = _written(program, tmp_path)
        expected = establish(source, stdin.read_bytes())
        assert re.fullmatch(rb"(\d+ )+\d+\n", expected.stdout), expected.stdout


@pytest.fixture
def cache_root() -> Iterator[Path]:
    path = reachable_temp_dir("ramp-test-gen-perf-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_clang_is_two_to_ten_times_cheaper(tmp_path: Path, cache_root: Path) -> None:
    if why := backend_missing("bwrap"):
        pytest.skip(why)
    cases = []
    for index in (3, 4):
        program = generate_performance(SEED + 2, index)
        source, stdin = _written(program, tmp_path)
        expected = establish(source, stdin.read_bytes(), sanitize=False)
        out = tmp_path / f"{program.name}.out"
        out.write_bytes(expected.stdout)
        cases.append(
            Case(
                name=program.name,
                split=Split.HIDDEN,
                kind=CaseKind.PERFORMANCE,
                source=source,
                stdin=stdin,
                expected_stdout=out,
                expected_exit=expected.exit_code,
            )
        )
    build = build_golden(cases, backend="bwrap", cache_root=cache_root)
    assert build.failures == {}
    for case in build.cases:
        assert case.timed and case.timer_calls
        ratio = case.baseline_instructions / case.reference_instructions
        assert 2.0 <= ratio <= 10.0, f"{case.name}: B/R {ratio:.2f}"
