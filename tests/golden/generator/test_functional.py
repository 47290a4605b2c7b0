"""The functional-program generator: deterministic per (seed, index), varied across seeds,
covering the whole language over a modest sample, honest about the features it claims,
and UB-free by the same differential check the corpus passes (golden._expected)."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from golden._expected import establish
from golden.generator import FEATURES, GeneratedProgram, generate_functional
from golden.generator._fn_expr import E, binary, fit, tdiv

REPO = Path(__file__).resolve().parents[3]
PERFORMANCE_ONLY = {"hot_loop", "timer"}
SAMPLE = 40


def _digest(programs: list[GeneratedProgram]) -> str:
    blob = "\0".join(p.source + "\1" + p.stdin for p in programs)
    return hashlib.sha256(blob.encode()).hexdigest()


@pytest.fixture(scope="module")
def sample() -> list[GeneratedProgram]:
    return [generate_functional(1, i) for i in range(SAMPLE)]


def test_same_seed_gives_the_same_program_in_this_process() -> None:
    for index in (0, 7, 31):
        first, again = generate_functional(5, index), generate_functional(5, index)
        assert first == again
        assert first.name == f"gen_f{index:04d}" and first.kind == "functional"


def test_same_seed_gives_the_same_program_in_a_fresh_process() -> None:
    here = _digest([generate_functional(3, i) for i in range(5)])
    code = (
        "from golden.generator import generate_functional as g;"
        "import hashlib;"
        "ps=[g(3, i) for i in range(5)];"
        "print(hashlib.sha256('\\0'.join(p.source + '\\1' + p.stdin for p in ps).encode()).hexdigest())"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "12345", "PATH": "/usr/bin:/bin"},
    )
    assert done.stdout.strip() == here


def test_seeds_and_indices_give_different_programs() -> None:
    assert generate_functional(1, 0).source != generate_functional(2, 0).source
    sources = {generate_functional(1, i).source for i in range(10)}
    assert len(sources) == 10


def test_sample_covers_every_functional_feature(sample: list[GeneratedProgram]) -> None:
    seen = {name for program in sample for name in program.features}
    assert seen <= set(FEATURES)
    missing = set(FEATURES) - PERFORMANCE_ONLY - seen
    assert not missing, f"features no program of the sample uses: {sorted(missing)}"
    assert not seen & PERFORMANCE_ONLY


def _c_value(op: str, x: int, y: int) -> int:
    if op == "+":
        return x + y
    if op == "-":
        return x - y
    if op == "*":
        return x * y
    q = tdiv(x, y)
    return q if op == "/" else x - q * y


def test_intervals_hold_every_value_and_are_exact_for_constants() -> None:
    """The proof obligation of the generator: each operator's interval contains every
    value C computes from operands in theirs (and is that value for two constants, as
    constant initialisers rely on it)."""
    bounds = [(-7, -7), (-9, -2), (-5, 6), (0, 0), (0, 8), (3, 3), (1, 11)]
    for op in "+-*/%":
        for alo, ahi in bounds:
            for blo, bhi in bounds:
                if op in "/%" and blo < 1:
                    continue
                got = binary(op, E("a", alo, ahi), E("b", blo, bhi))
                values = {
                    _c_value(op, x, y) for x in range(alo, ahi + 1) for y in range(blo, bhi + 1)
                }
                assert got.lo <= min(values) and max(values) <= got.hi, (op, alo, ahi, blo, bhi)
                if alo == ahi and blo == bhi:
                    assert got.lo == got.hi == values.pop()
    for lo, hi in ((-100, 100), (0, 255)):
        reduced = fit(E("x", -5000, 7000), lo, hi)
        assert lo <= reduced.lo and reduced.hi <= hi


def _has(pattern: str) -> Callable[[str], bool]:
    return lambda source: re.search(pattern, source, re.MULTILINE) is not None


# What a claimed feature must show in the text (features not listed are not checkable
# by a pattern: intervals, sequencing, shadowing of a name).
TEXT_OF: dict[str, Callable[[str], bool]] = {
    "getint": _has(r"\bgetint\(\)"),
    "getch": _has(r"\bgetch\(\)"),
    "getarray": _has(r"\bgetarray\("),
    "putint": _has(r"\bputint\("),
    "putch": _has(r"\bputch\("),
    "putarray": _has(r"\bputarray\("),
    "break": _has(r"\bbreak;"),
    "continue": _has(r"\bcontinue;"),
    "if_else": _has(r"\belse\b"),
    "empty_statement": _has(r"^\s*;$"),
    "comments": _has(r"//|/\*"),
    "hex_octal_literal": _has(r"\b0[xX][0-9a-fA-F]+|\b0[0-7]+\b"),
    "short_circuit_and": _has(r"&&"),
    "short_circuit_or": _has(r"\|\|"),
    "logical_not": _has(r"!(?!=)"),
    "comparison": _has(r"<|>|==|!="),
    "division_modulo": _has(r"[^/*]\s[/%]\s"),
    "unary_minus": _has(r"(^|[(\[,=]|return)\s*-\s*[\w(]"),
    "const_scalar": _has(r"\bconst int \w+ ="),
    "const_array": _has(r"\bconst int \w+\["),
    "void_function": _has(r"^void \w+\("),
    "array_param": _has(r"^(int|void) \w+\(.*int \w+\[\]"),
    "array_init_empty": _has(r"= \{\}[,;]"),
    "array_init_nested": _has(r"= \{\{"),
    "multi_dim_array": _has(r"\w+\[[^\]]*\]\["),
    "recursion": _has(r"\brec\d+\("),
    "nested_loops": lambda s: "while" in s and s.count("while") >= 2,
}


def test_claimed_features_show_in_the_text(sample: list[GeneratedProgram]) -> None:
    for program in sample:
        for name in sorted(program.features):
            check = TEXT_OF.get(name)
            if check is not None:
                assert check(program.source), f"{program.name} claims {name}"


def test_reads_match_the_input(sample: list[GeneratedProgram]) -> None:
    """Every getint/getarray has its numbers in the input, and a program that reads
    nothing gets no input."""
    for program in sample:
        numbers = program.stdin.split()
        reads = program.source.count("getint()") + program.source.count("getarray(")
        if reads == 0 and "getch()" not in program.source:
            assert program.stdin == ""
        assert len(numbers) >= program.source.count("getint()")


def test_a_sample_runs_clean_under_every_build_and_sanitizer(tmp_path: Path) -> None:
    """Native -O0/-O2 and RV64 agree, and UBSan+ASan and MSan find nothing: the full
    check on a few programs, the agreement check on a few more (time)."""
    for index in range(10):
        program = generate_functional(11, index)
        source = tmp_path / f"{program.name}.sy"
        source.write_text(program.source)
        expected = establish(source, program.stdin.encode(), sanitize=index < 5)
        assert 0 <= expected.exit_code <= 255
        assert expected.stdout, f"{program.name} printed nothing"
