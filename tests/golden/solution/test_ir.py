"""The textual LLVM IR parser and printer shared by T4 and T5 (golden/solution/sysyc/ir.py).

Every IR flavour of some public cases (clang -O0, -O2 and T5's input) must round-trip into
IR that LLVM 19 accepts, and the -O0 round trip must behave like the original; a
hand-written module checks what the model records; malformed text fails with a line number.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from golden import Stage, build_golden, builtin_corpus
from golden._builder import RUNTIME_DIR, CaseArtifacts
from golden.solution.sysyc.ir import (
    ArrayInit,
    Const,
    ConstGEP,
    GlobalRef,
    IRParseError,
    Local,
    parse_module,
    print_module,
)
from tests.support import backend_missing

BACKEND = "bwrap"
# -O0 and -O2 shapes: switch tables, constant GEPs, memset/memcpy, packed structs, phis
PUBLIC = ("algo_bst", "prog_matrix_toolkit", "init_mixed_nested_flat", "perf_hash", "stress_params")


@pytest.fixture(scope="module")
def golden() -> Iterator[dict[str, CaseArtifacts]]:
    if backend_missing(BACKEND):
        pytest.skip(f"{BACKEND} not ready")
    cases = [c for c in builtin_corpus() if c.name in PUBLIC]
    assert all(c.split.value == "public" for c in cases)
    build = build_golden(cases, backend=BACKEND)
    assert build.failures == {}
    yield {c.name: c for c in build.cases}


def _needs(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.skip(f"missing host tools: {missing}")


def test_round_trip_is_accepted_by_llvm(golden: dict[str, CaseArtifacts], tmp_path: Path) -> None:
    _needs("llvm-as-19")
    failures = []
    for name, case in golden.items():
        for source in (
            case.artifacts[Stage.T3],
            case.artifacts[Stage.T4],
            case.directory / "T5.input.ll",
        ):
            printed = tmp_path / f"{name}.{source.name}"
            printed.write_text(print_module(parse_module(source.read_text())))
            checked = subprocess.run(
                ["llvm-as-19", str(printed), "-o", "/dev/null"], capture_output=True, text=True
            )
            if checked.returncode != 0:
                failures.append(f"{name}/{source.name}: {checked.stderr[:300]}")
    assert failures == []


def test_round_trip_behaves_like_the_original(
    golden: dict[str, CaseArtifacts], tmp_path: Path
) -> None:
    _needs("clang-19")
    corpus = {c.name: c for c in builtin_corpus()}
    for name in ("algo_bst", "prog_matrix_toolkit"):
        case = golden[name]
        printed = tmp_path / f"{name}.ll"
        printed.write_text(print_module(parse_module(case.artifacts[Stage.T3].read_text())))
        program = tmp_path / name
        subprocess.run(
            ["clang-19", "-w", str(printed), str(RUNTIME_DIR / "sylib.c"), "-o", str(program)],
            check=True,
        )
        stdin = corpus[name].stdin
        ran = subprocess.run(
            [str(program)],
            input=stdin.read_bytes() if stdin is not None else b"",
            capture_output=True,
            timeout=30,
        )
        assert ran.stdout == case.expected_stdout.read_bytes()
        assert ran.returncode == case.expected_exit


HAND_WRITTEN = """\
target triple = "x86_64-pc-linux-gnu"

@cube = dso_local global [2 x [2 x [3 x i32]]] zeroinitializer, align 16
@partial = dso_local global <{ i32, [3 x i32] }> <{ i32 9, [3 x i32] zeroinitializer }>, align 16
@table = private unnamed_addr constant [2 x i32] [i32 -1, i32 7], align 4

; Function Attrs: nounwind
define dso_local range(i32 0, 3) i32 @pick(i32 noundef %0, ptr nocapture noundef %1) #0 {
entry:
  switch i32 %0, label %other [
    i32 1, label %one
    i32 -5, label %one
  ]

one:                                              ; preds = %entry, %entry
  %v = load i32, ptr getelementptr inbounds ([2 x [3 x i32]], ptr getelementptr inbounds \
([2 x [2 x [3 x i32]]], ptr @cube, i64 0, i64 1), i64 0, i64 1), align 4, !tbaa !5
  br label %other

other:
  %r = phi i32 [ %v, %one ], [ 2, %entry ]
  %c = tail call i32 (...) @getint() #2
  %m = call i32 @llvm.smax.i32(i32 %r, i32 %c)
  store i32 %m, ptr %1, align 4
  ret i32 %m
}

declare i32 @getint(...) local_unnamed_addr #1
declare i32 @llvm.smax.i32(i32, i32) #3

attributes #0 = { nounwind "target-cpu"="x86-64" }
!5 = !{!"int", !6, i64 0}
"""


def test_hand_written_module_is_modelled() -> None:
    module = parse_module(HAND_WRITTEN.replace("\\\n", ""))
    assert module.triple == "x86_64-pc-linux-gnu"
    partial = module.globals[1]
    assert isinstance(partial.init, ArrayInit) and partial.init.ty == "<{ i32, [3 x i32] }>"
    assert module.globals[2].constant and module.globals[2].linkage == "private"
    pick = module.functions[0]
    assert [p.name for p in pick.params] == ["0", "1"]
    switch = pick.blocks[0].instrs[-1]
    assert switch.op == "switch" and switch.cases == [(1, "one"), (-5, "one")]
    load = pick.blocks[1].instrs[0]
    # the nested constant GEP folds into one on @cube: &cube[1][1]
    assert load.operands[0] == ConstGEP(
        "[2 x [2 x [3 x i32]]]",
        GlobalRef("cube"),
        (Const("i64", 0), Const("i64", 1), Const("i64", 1)),
    )
    phi, call, smax, store, ret = pick.blocks[2].instrs
    assert ret.op == "ret" and ret.operands == [Local("i32", "m")]
    assert phi.incoming == [(Local("i32", "v"), "one"), (Const("i32", 2), "entry")]
    assert call.callee == "getint" and call.varargs and call.ty == "i32"
    assert smax.callee == "llvm.smax.i32" and not smax.varargs
    assert store.operands == [Local("i32", "m"), Local("ptr", "1")]
    printed = print_module(module)
    assert "call i32 (...) @getint()" in printed
    assert print_module(parse_module(printed)) == printed


def test_parse_errors_name_the_line() -> None:
    text = "define i32 @f() {\n  %1 = add i32 1, 2\n  %2 = frobnicate i32 %1\n  ret i32 %2\n}\n"
    with pytest.raises(IRParseError) as raised:
        parse_module(text)
    assert raised.value.line == 3
    assert isinstance(raised.value, ValueError)
    with pytest.raises(IRParseError, match="line 1"):
        parse_module("this is not IR\n")
