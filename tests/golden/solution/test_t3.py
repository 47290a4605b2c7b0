"""Stage T3 of the reference solution (bin/t3: JSON AST -> LLVM IR), judged like the grader.

Each case: `bin/t3 T2.json OUT.ll`, then `clang-19 OUT.ll sylib.o -o program`, run it with
the case's stdin, and compare stdout (byte for byte) and the exit code (mod 256).

Run as a script to check every case of the corpus:

    .venv/bin/python tests/golden/solution/test_t3.py [--jobs 2] [NAME ...]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from golden import Case, CaseArtifacts, Split, Stage, build_golden, builtin_corpus  # noqa: E402
from golden._builder import RUNTIME_DIR  # noqa: E402

WORKSPACE = REPO / "golden" / "solution"
T3 = WORKSPACE / "bin" / "t3"
CLANG = "clang-19"
JsonNode = dict[str, Any]
PUBLIC_SAMPLE = (
    "algo_brackets",
    "arr_2d_param_modify",
    "decl_local_const_dims",
    "init_mixed_nested_flat",
    "init_empty_braces",
    "lit_in_conditions",
    "expr_unary_chains",
    "exit_int_min",
    "perf_hash",
    "stress_parens",
)


@dataclass(frozen=True)
class Verdict:
    name: str
    passed: bool
    why: str
    t3_seconds: float


def _runtime_object(directory: Path) -> Path:
    target = directory / "sylib.o"
    if not target.exists():
        subprocess.run(
            [CLANG, "-O2", "-c", str(RUNTIME_DIR / "sylib.c"), "-o", str(target)], check=True
        )
    return target


def judge_ir_file(
    ir: Path, stdin: bytes, expected_stdout: bytes, expected_exit: int, runtime: Path
) -> str | None:
    """None when the IR builds and behaves as expected, else why not."""
    program = ir.with_suffix(".bin")
    built = subprocess.run(
        [CLANG, str(ir), str(runtime), "-o", str(program)], capture_output=True, text=True
    )
    if built.returncode != 0:
        return "build failed: " + built.stderr.strip()[:300]
    try:
        ran = subprocess.run([str(program)], input=stdin, capture_output=True, timeout=10)
    except subprocess.TimeoutExpired:
        return "timed out"
    if ran.stdout != expected_stdout:
        return "stdout differs"
    if ran.returncode % 256 != expected_exit % 256:
        return f"exit code {ran.returncode}, expected {expected_exit}"
    return None


def judge_case(case: Case, artifacts: CaseArtifacts, scratch: Path, runtime: Path) -> Verdict:
    output = scratch / f"{case.name}.ll"
    started = time.perf_counter()
    stage = subprocess.run(
        [str(T3), str(artifacts.artifacts[Stage.T2]), str(output)],
        cwd=WORKSPACE,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    if stage.returncode != 0:
        return Verdict(case.name, False, "t3 failed: " + stage.stderr[-300:], seconds)
    assert artifacts.expected_exit is not None
    why = judge_ir_file(
        output,
        case.stdin_bytes(),
        artifacts.expected_stdout.read_bytes(),
        artifacts.expected_exit,
        runtime,
    )
    return Verdict(case.name, why is None, why or "ok", seconds)


def _golden(cases: list[Case]) -> dict[str, CaseArtifacts]:
    build = build_golden(cases)
    assert build.failures == {}
    return {artifacts.name: artifacts for artifacts in build.cases}


def _tools_missing() -> bool:
    return shutil.which(CLANG) is None


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="ramp-t3-test-"))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.mark.skipif(_tools_missing(), reason="clang-19 is needed to judge IR")
def test_public_cases_behave_like_the_reference(scratch: Path) -> None:
    cases = [c for c in builtin_corpus() if c.name in PUBLIC_SAMPLE]
    assert all(c.split is Split.PUBLIC for c in cases)
    assert len(cases) == len(PUBLIC_SAMPLE)
    golden = _golden(cases)
    runtime = _runtime_object(scratch)
    verdicts = [judge_case(c, golden[c.name], scratch, runtime) for c in cases]
    assert [v for v in verdicts if not v.passed] == []
    assert max(v.t3_seconds for v in verdicts) < 10


def _declaration(name: str, qual_type: str, *inner: JsonNode) -> JsonNode:
    node: JsonNode = {"kind": "VarDecl", "name": name, "type": {"qualType": qual_type}}
    if inner:
        node["inner"] = list(inner)
    return node


def _literal(value: int) -> JsonNode:
    return {"kind": "IntegerLiteral", "value": str(value), "type": {"qualType": "int"}}


def _ref(name: str, qual_type: str = "int") -> JsonNode:
    return {
        "kind": "DeclRefExpr",
        "type": {"qualType": qual_type},
        "referencedDecl": {"name": name},
    }


def _load(node: JsonNode) -> JsonNode:
    return {
        "kind": "ImplicitCastExpr",
        "castKind": "LValueToRValue",
        "type": {"qualType": "int"},
        "inner": [node],
    }


def _binary(opcode: str, left: JsonNode, right: JsonNode) -> JsonNode:
    return {"kind": "BinaryOperator", "opcode": opcode, "inner": [left, right]}


def _call(name: str, *arguments: JsonNode) -> JsonNode:
    callee = {
        "kind": "ImplicitCastExpr",
        "castKind": "FunctionToPointerDecay",
        "inner": [_ref(name)],
    }
    return {"kind": "CallExpr", "inner": [callee, *arguments]}


def _own_program() -> JsonNode:
    """A hand-written AST in the reduced shape our T2 may write (no ids, no castKind on the
    subscript's decay), exercising shadowing, a VLA-spelled local array, brace elision on
    the written (not semantic) form, short-circuit with side effects and wrap-around."""
    putint = {
        "kind": "FunctionDecl",
        "name": "putint",
        "type": {"qualType": "void (int)"},
        "inner": [{"kind": "ParmVarDecl", "name": "a", "type": {"qualType": "int"}}],
    }
    n = _declaration("N", "const int", _literal(3))
    flat = {"kind": "InitListExpr", "inner": [_literal(1), _literal(2), _literal(3), _literal(4)]}
    grid = _declaration("grid", "int[N][2]", flat)
    shadow = {
        "kind": "CompoundStmt",
        "inner": [
            {"kind": "DeclStmt", "inner": [_declaration("N", "int", _literal(40))]},
            _call("putint", _load(_ref("N"))),
        ],
    }
    element = {
        "kind": "ArraySubscriptExpr",
        "inner": [
            {
                "kind": "ImplicitCastExpr",
                "inner": [
                    {
                        "kind": "ArraySubscriptExpr",
                        "inner": [
                            {"kind": "ImplicitCastExpr", "inner": [_ref("grid")]},
                            _literal(1),
                        ],
                    }
                ],
            },
            _literal(1),
        ],
    }
    guarded = {
        "kind": "IfStmt",
        "inner": [
            _binary(
                "||", _binary("==", _load(_ref("N")), _literal(3)), _call("putint", _literal(99))
            ),
            _call("putint", _load(element)),
        ],
    }
    wrap = _binary("+", _literal(2147483647), _load(_ref("N")))
    body = {
        "kind": "CompoundStmt",
        "inner": [
            {"kind": "DeclStmt", "inner": [grid]},
            shadow,
            guarded,
            {"kind": "ReturnStmt", "inner": [wrap]},
        ],
    }
    main = {"kind": "FunctionDecl", "name": "main", "type": {"qualType": "int ()"}, "inner": [body]}
    return {"kind": "TranslationUnitDecl", "inner": [putint, n, main]}


@pytest.mark.skipif(_tools_missing(), reason="clang-19 is needed to judge IR")
def test_own_program_in_reduced_shape(scratch: Path) -> None:
    source = scratch / "own.json"
    source.write_text(json.dumps(_own_program()))
    output = scratch / "own.ll"
    subprocess.run([str(T3), str(source), str(output)], cwd=WORKSPACE, check=True)
    runtime = _runtime_object(scratch)
    # 40, then grid[1][1] = 4; the || short-circuits; exit (2^31 - 1 + 3) mod 256
    why = judge_ir_file(output, b"", b"404", (2147483647 + 3 - 2**32) % 256, runtime)
    assert why is None


@pytest.mark.skipif(_tools_missing(), reason="clang-19 is needed to judge IR")
def test_broken_ast_fails_the_stage(scratch: Path) -> None:
    source = scratch / "broken.json"
    source.write_text('{"kind": "TranslationUnitDecl", "inner": [{"kind": "FunctionDecl"')
    ran = subprocess.run([str(T3), str(source), str(scratch / "x.ll")], cwd=WORKSPACE)
    assert ran.returncode != 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help="cases to check (default: all)")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    cases = [c for c in builtin_corpus() if not args.names or c.name in args.names]
    golden = _golden(cases)
    scratch_dir = Path(tempfile.mkdtemp(prefix="ramp-t3-check-"))
    runtime = _runtime_object(scratch_dir)
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        verdicts = list(
            pool.map(lambda c: judge_case(c, golden[c.name], scratch_dir, runtime), cases)
        )
    for verdict in verdicts:
        if not verdict.passed:
            print(f"FAIL {verdict.name}: {verdict.why}")
    slowest = sorted(verdicts, key=lambda v: v.t3_seconds, reverse=True)[:6]
    print("slowest bin/t3:", ", ".join(f"{v.name} {v.t3_seconds:.2f}s" for v in slowest))
    passed = sum(v.passed for v in verdicts)
    print(f"T3: {passed}/{len(verdicts)} cases pass, score {100 * passed / len(verdicts):.2f}")
    shutil.rmtree(scratch_dir, ignore_errors=True)
    return 0 if passed == len(verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
