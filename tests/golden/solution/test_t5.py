"""Stage T5 of the reference solution (RV64 back end): bin/t5 IR-FILE ASM-FILE.

Public cases are judged for real (assembled, linked with the RV64 runtime and run on qemu by
the judge); a hand-written IR program covering the corners the corpus touches lightly is
compared with the same IR compiled natively; small hand-built modules check the register
allocator and the copy sequencing directly.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from golden import Stage
from golden._builder import RUNTIME_DIR, CaseArtifacts
from golden._judge import Judge
from golden.solution.sysyc.ir import Block, Const, Function, Instr, Local, Module, Param
from golden.solution.sysyc.rv64_isel import sequence_parallel_copy
from golden.solution.sysyc.t5 import compile_module
from tests.golden.solution.support import SOLUTION, build_public_with, run_stage

T5 = SOLUTION / "bin" / "t5"
BACKEND = "bwrap"
# small and large, -O2 and -O0 input, >8 parameters, exit codes, packed-struct globals
PUBLIC = ("algo_bst", "func_params8", "decl_global_zero", "exit_int_min", "stress_params")
O0_PUBLIC = ("prog_matrix_toolkit",)
HOST_TOOLS = ("clang-19", "riscv64-linux-gnu-gcc", "qemu-riscv64")


@pytest.fixture(scope="module")
def golden() -> Iterator[tuple[list, dict[str, CaseArtifacts]]]:  # type: ignore[type-arg]
    yield build_public_with(PUBLIC + O0_PUBLIC, BACKEND)


def _run_t5(source: Path, target: Path) -> None:
    run_stage(T5, source, target, timeout=60)


def test_public_cases_score_100(golden, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cases, artifacts = golden
    failures: list[str] = []
    with Judge(cases, backend=BACKEND) as judge:
        for case in cases:
            inputs = [("T5.input.ll", artifacts[case.name].directory / "T5.input.ll")]
            if case.name in O0_PUBLIC:
                inputs.append(("T3.ll", artifacts[case.name].artifacts[Stage.T3]))
            for label, source in inputs:
                produced = tmp_path / f"{case.name}.{label}.s"
                _run_t5(source, produced)
                result = judge.judge(Stage.T5, artifacts[case.name], produced)
                if result.score != 100.0:
                    failures.append(f"{case.name} ({label}): {result.diagnosis}")
    assert failures == []


def test_edge_case_program_behaves_like_native(tmp_path: Path) -> None:
    missing = [tool for tool in HOST_TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"missing host tools: {missing}")
    source = tmp_path / "edge.ll"
    source.write_text(EDGE_CASES_IR)
    runtime = RUNTIME_DIR / "sylib.c"
    native = tmp_path / "native"
    subprocess.run(
        ["clang-19", "-O0", "-w", str(source), str(runtime), "-o", str(native)], check=True
    )
    expected = subprocess.run([str(native)], capture_output=True, timeout=30)
    assembly = tmp_path / "edge.s"
    _run_t5(source, assembly)
    runtime_object = tmp_path / "sylib.rv64.o"
    subprocess.run(
        [
            "clang-19",
            "--target=riscv64-unknown-linux-gnu",
            "-march=rv64gc",
            "-mabi=lp64d",
            "-O2",
            "-c",
            str(runtime),
            "-o",
            str(runtime_object),
        ],
        check=True,
    )
    program = tmp_path / "edge.rv64"
    subprocess.run(
        [
            "riscv64-linux-gnu-gcc",
            "-static",
            str(assembly),
            str(runtime_object),
            "-o",
            str(program),
        ],
        check=True,
    )
    got = subprocess.run(["qemu-riscv64", str(program)], capture_output=True, timeout=30)
    assert got.stdout == expected.stdout
    assert got.returncode == expected.returncode == 80


def _gcd_module() -> Module:
    """gcd(a, b) with a loop whose phis swap: built by hand, not parsed."""
    a, b = Local("i32", "a"), Local("i32", "b")
    x, y, r = Local("i32", "x"), Local("i32", "y"), Local("i32", "r")
    body = [
        Instr("phi", "x", "i32", incoming=[(a, "entry"), (y, "loop")]),
        Instr("phi", "y", "i32", incoming=[(b, "entry"), (r, "loop")]),
        Instr("srem", "r", "i32", [x, y]),
        Instr("icmp", "c", "i32", [r, Const("i32", 0)], pred="ne"),
        Instr("br", None, operands=[Local("i1", "c")], targets=["loop", "exit"]),
    ]
    gcd = Function(
        "gcd",
        "i32",
        [Param("i32", "a"), Param("i32", "b")],
        [
            Block("entry", [Instr("br", None, targets=["loop"])]),
            Block("loop", body),
            Block("exit", [Instr("ret", None, "i32", [y])]),
        ],
    )
    return Module(functions=[gcd])


def test_registers_are_allocated_without_spills() -> None:
    assembly = compile_module(_gcd_module())
    body = assembly.split("gcd:", 1)[1]
    assert "remw\t" in body
    assert not re.search(r"\b(sd|ld|sw|lw)\t", body), "a small function must not touch memory"
    assert "addi\tsp" not in body, "nothing to spill, no frame"


def test_parallel_copy_breaks_cycles() -> None:
    counter = iter(range(100, 200))
    moves = [(1, 2), (2, 1), (3, 1), (4, 4)]
    ordered = sequence_parallel_copy(moves, lambda: next(counter))
    regs = {1: "one", 2: "two", 3: "three", 4: "four"}
    for dst, src in ordered:
        regs[dst] = regs[src]
    assert (regs[1], regs[2], regs[3], regs[4]) == ("two", "one", "one", "four")


EDGE_CASES_IR = r"""
; Hand-written IR for the T5 back end: odd integer widths, unsigned arithmetic, >8
; arguments, big frames, register pressure across calls, switch trees, phi cycles, dynamic
; allocas, intrinsics and global initialisers. Prints through the SysY runtime.

@bytes = dso_local global [5 x i8] [i8 -1, i8 2, i8 -128, i8 127, i8 0], align 1
@halves = dso_local global [3 x i16] [i16 -2, i16 300, i16 -32768], align 2
@wide = dso_local global i64 -81985529216486895, align 8
@partial = dso_local global <{ i32, [3 x i32] }> <{ i32 9, [3 x i32] zeroinitializer }>, align 16
@table = private unnamed_addr constant [4 x i32] [i32 10, i32 20, i32 30, i32 40], align 16
@ptrs = dso_local global [2 x ptr] [ptr @table, ptr getelementptr inbounds (i8, ptr @table, i64 8)], align 8
@zeros = dso_local global [1000 x i32] zeroinitializer, align 16

declare void @putint(i32)
declare void @putch(i32)
declare void @llvm.memset.p0.i64(ptr, i8, i64, i1)
declare void @llvm.memcpy.p0.p0.i64(ptr, ptr, i64, i1)
declare i32 @llvm.smax.i32(i32, i32)
declare i32 @llvm.smin.i32(i32, i32)
declare i32 @llvm.umax.i32(i32, i32)
declare i32 @llvm.umin.i32(i32, i32)
declare i32 @llvm.abs.i32(i32, i1)
declare ptr @llvm.stacksave.p0()
declare void @llvm.stackrestore.p0(ptr)

define void @show(i32 %x) {
  call void @putint(i32 %x)
  call void @putch(i32 32)
  ret void
}

define void @show64(i64 %x) {
  %hi = ashr i64 %x, 32
  %hi32 = trunc i64 %hi to i32
  %lo32 = trunc i64 %x to i32
  call void @show(i32 %hi32)
  call void @show(i32 %lo32)
  ret void
}

define i32 @many(i32 %a, i32 %b, i32 %c, i32 %d, i32 %e, i32 %f, i32 %g, i32 %h, i32 %i, i32 %j, i32 %k) {
  %1 = mul i32 %a, 1
  %2 = mul i32 %b, 2
  %3 = mul i32 %c, 3
  %4 = mul i32 %i, 9
  %5 = mul i32 %j, 10
  %6 = mul i32 %k, 11
  %s1 = add i32 %1, %2
  %s2 = add i32 %s1, %3
  %s3 = add i32 %s2, %d
  %s4 = sub i32 %s3, %e
  %s5 = add i32 %s4, %f
  %s6 = sub i32 %s5, %g
  %s7 = add i32 %s6, %h
  %s8 = add i32 %s7, %4
  %s9 = add i32 %s8, %5
  %s10 = sub i32 %s9, %6
  ret i32 %s10
}

define i32 @widths(i32 %x) {
  %t8 = trunc i32 %x to i8
  %t16 = trunc i32 %x to i16
  %u8 = udiv i8 %t8, 7
  %r8 = urem i8 %t8, 7
  %s8 = sdiv i8 %t8, 7
  %l16 = lshr i16 %t16, 3
  %a16 = ashr i16 %t16, 3
  %m16 = mul i16 %t16, 1103
  %z1 = zext i8 %u8 to i32
  %z2 = zext i8 %r8 to i32
  %z3 = sext i8 %s8 to i32
  %z4 = zext i16 %l16 to i32
  %z5 = sext i16 %a16 to i32
  %z6 = sext i16 %m16 to i32
  %z7 = zext i16 %m16 to i32
  call void @show(i32 %z1)
  call void @show(i32 %z2)
  call void @show(i32 %z3)
  call void @show(i32 %z4)
  call void @show(i32 %z5)
  call void @show(i32 %z6)
  call void @show(i32 %z7)
  %e1 = zext i32 %x to i33
  %e2 = mul i33 %e1, %e1
  %e3 = lshr i33 %e2, 1
  %e4 = trunc i33 %e3 to i32
  call void @show(i32 %e4)
  %w = zext i32 %x to i64
  %w2 = mul i64 %w, 4294967311
  call void @show64(i64 %w2)
  %ux = udiv i32 %x, 3
  %ur = urem i32 %x, 10
  %lx = lshr i32 %x, 4
  %ax = ashr i32 %x, 4
  %sh = shl i32 %x, 5
  call void @show(i32 %ux)
  call void @show(i32 %ur)
  call void @show(i32 %lx)
  call void @show(i32 %ax)
  call void @show(i32 %sh)
  %c1 = icmp ult i32 %x, -1
  %c2 = icmp ugt i32 %x, 5
  %c3 = icmp sle i32 %x, -7
  %c4 = icmp uge i32 %x, 2147483648
  %c5 = icmp ne i32 %x, 1234567
  %c6 = icmp slt i8 %t8, 0
  %b1 = zext i1 %c1 to i32
  %b2 = zext i1 %c2 to i32
  %b3 = zext i1 %c3 to i32
  %b4 = zext i1 %c4 to i32
  %b5 = zext i1 %c5 to i32
  %b6 = sext i1 %c6 to i32
  call void @show(i32 %b1)
  call void @show(i32 %b2)
  call void @show(i32 %b3)
  call void @show(i32 %b4)
  call void @show(i32 %b5)
  call void @show(i32 %b6)
  %mx = call i32 @llvm.smax.i32(i32 %x, i32 -3)
  %mn = call i32 @llvm.smin.i32(i32 %x, i32 -3)
  %umx = call i32 @llvm.umax.i32(i32 %x, i32 3)
  %umn = call i32 @llvm.umin.i32(i32 %x, i32 3)
  %ab = call i32 @llvm.abs.i32(i32 %x, i1 true)
  %sel = select i1 %c3, i32 %mx, i32 %ab
  call void @show(i32 %mx)
  call void @show(i32 %mn)
  call void @show(i32 %umx)
  call void @show(i32 %umn)
  call void @show(i32 %ab)
  call void @show(i32 %sel)
  call void @putch(i32 10)
  ret i32 %e4
}

define i32 @classify(i32 %x) {
  switch i32 %x, label %other [
    i32 -5, label %neg
    i32 0, label %zero
    i32 1, label %small
    i32 2, label %small
    i32 3, label %small
    i32 100, label %big
    i32 4000, label %big
    i32 -100000, label %neg
  ]
neg:
  br label %done
zero:
  br label %done
small:
  br label %done
big:
  br label %done
other:
  br label %done
done:
  %r = phi i32 [ -1, %neg ], [ 0, %zero ], [ 1, %small ], [ 2, %big ], [ %x, %other ]
  ret i32 %r
}

define i32 @fib_swap(i32 %n) {
entry:
  br label %loop
loop:
  %a = phi i32 [ 0, %entry ], [ %b, %loop ]
  %b = phi i32 [ 1, %entry ], [ %c, %loop ]
  %i = phi i32 [ 0, %entry ], [ %i1, %loop ]
  %p = phi i32 [ 7, %entry ], [ %q, %loop ]
  %q = phi i32 [ 8, %entry ], [ %p, %loop ]
  %c = add i32 %a, %b
  %i1 = add i32 %i, 1
  %cmp = icmp slt i32 %i1, %n
  br i1 %cmp, label %loop, label %exit
exit:
  %r = mul i32 %a, 100
  %r2 = add i32 %r, %p
  %r3 = mul i32 %r2, 10
  %r4 = add i32 %r3, %q
  ret i32 %r4
}

define i32 @pressure(i32 %seed) {
entry:
  %big = alloca [70000 x i32], align 16
  %v0 = add i32 %seed, 1
  %v1 = mul i32 %v0, 3
  %v2 = add i32 %v1, 7
  %v3 = mul i32 %v2, 5
  %v4 = add i32 %v3, 11
  %v5 = mul i32 %v4, 7
  %v6 = add i32 %v5, 13
  %v7 = mul i32 %v6, 9
  %v8 = add i32 %v7, 17
  %v9 = mul i32 %v8, 11
  %v10 = add i32 %v9, 19
  %v11 = mul i32 %v10, 13
  %v12 = add i32 %v11, 23
  %v13 = mul i32 %v12, 15
  %v14 = add i32 %v13, 29
  %v15 = mul i32 %v14, 17
  %v16 = add i32 %v15, 31
  %v17 = mul i32 %v16, 19
  %v18 = add i32 %v17, 37
  %v19 = mul i32 %v18, 21
  %v20 = add i32 %v19, 41
  %v21 = mul i32 %v20, 23
  %v22 = add i32 %v21, 43
  %v23 = mul i32 %v22, 25
  %v24 = add i32 %v23, 47
  %v25 = mul i32 %v24, 27
  %v26 = add i32 %v25, 53
  %v27 = mul i32 %v26, 29
  %v28 = add i32 %v27, 59
  %v29 = mul i32 %v28, 31
  call void @llvm.memset.p0.i64(ptr %big, i8 0, i64 280000, i1 false)
  %far = getelementptr inbounds [70000 x i32], ptr %big, i64 0, i64 69999
  store i32 %v29, ptr %far, align 4
  %idx = srem i32 %seed, 1000
  %idx64 = sext i32 %idx to i64
  %mid = getelementptr inbounds [70000 x i32], ptr %big, i64 0, i64 %idx64
  store i32 %v13, ptr %mid, align 4
  call void @show(i32 %v0)
  %k = call i32 @many(i32 %v1, i32 %v2, i32 %v3, i32 %v4, i32 %v5, i32 %v6, i32 %v7, i32 %v8, i32 %v9, i32 %v10, i32 %v11)
  call void @show(i32 %k)
  %x0 = add i32 %v0, %v1
  %x1 = add i32 %x0, %v2
  %x2 = add i32 %x1, %v3
  %x3 = add i32 %x2, %v4
  %x4 = add i32 %x3, %v5
  %x5 = add i32 %x4, %v6
  %x6 = add i32 %x5, %v7
  %x7 = add i32 %x6, %v8
  %x8 = add i32 %x7, %v9
  %x9 = add i32 %x8, %v10
  %x10 = add i32 %x9, %v11
  %x11 = add i32 %x10, %v12
  %x12 = add i32 %x11, %v13
  %x13 = add i32 %x12, %v14
  %x14 = add i32 %x13, %v15
  %x15 = add i32 %x14, %v16
  %x16 = add i32 %x15, %v17
  %x17 = add i32 %x16, %v18
  %x18 = add i32 %x17, %v19
  %x19 = add i32 %x18, %v20
  %x20 = add i32 %x19, %v21
  %x21 = add i32 %x20, %v22
  %x22 = add i32 %x21, %v23
  %x23 = add i32 %x22, %v24
  %x24 = add i32 %x23, %v25
  %x25 = add i32 %x24, %v26
  %x26 = add i32 %x25, %v27
  %x27 = add i32 %x26, %v28
  %x28 = add i32 %x27, %v29
  %back = load i32, ptr %far, align 4
  %back2 = load i32, ptr %mid, align 4
  %y = add i32 %x28, %back
  %y2 = add i32 %y, %back2
  %y3 = add i32 %y2, %k
  ret i32 %y3
}

define i32 @dynamic(i32 %n) {
  %saved = call ptr @llvm.stacksave.p0()
  %n64 = zext i32 %n to i64
  %buf = alloca i32, i64 %n64, align 16
  br label %fill
fill:
  %i = phi i64 [ 0, %0 ], [ %i1, %fill ]
  %acc = phi i32 [ 0, %0 ], [ %acc1, %fill ]
  %slot = getelementptr inbounds i32, ptr %buf, i64 %i
  %v = trunc i64 %i to i32
  %sq = mul i32 %v, %v
  store i32 %sq, ptr %slot, align 4
  %got = load i32, ptr %slot, align 4
  %acc1 = add i32 %acc, %got
  %i1 = add i64 %i, 1
  %more = icmp ult i64 %i1, %n64
  br i1 %more, label %fill, label %done
done:
  call void @llvm.stackrestore.p0(ptr %saved)
  ret i32 %acc1
}

define i32 @main() {
  %w1 = call i32 @widths(i32 -1000)
  %w2 = call i32 @widths(i32 77777)
  %w3 = call i32 @widths(i32 2147483647)
  %c1 = call i32 @classify(i32 -5)
  %c2 = call i32 @classify(i32 0)
  %c3 = call i32 @classify(i32 3)
  %c4 = call i32 @classify(i32 4000)
  %c5 = call i32 @classify(i32 -100000)
  %c6 = call i32 @classify(i32 99)
  call void @show(i32 %c1)
  call void @show(i32 %c2)
  call void @show(i32 %c3)
  call void @show(i32 %c4)
  call void @show(i32 %c5)
  call void @show(i32 %c6)
  %f = call i32 @fib_swap(i32 10)
  call void @show(i32 %f)
  %f2 = call i32 @fib_swap(i32 11)
  call void @show(i32 %f2)
  %p = call i32 @pressure(i32 12345)
  call void @show(i32 %p)
  %d = call i32 @dynamic(i32 100)
  call void @show(i32 %d)
  call void @putch(i32 10)
  %b0 = load i8, ptr @bytes, align 1
  %b2 = load i8, ptr getelementptr inbounds (i8, ptr @bytes, i64 2), align 1
  %h0 = load i16, ptr @halves, align 2
  %h2 = load i16, ptr getelementptr inbounds ([3 x i16], ptr @halves, i64 0, i64 2), align 2
  %bz = zext i8 %b0 to i32
  %bs = sext i8 %b2 to i32
  %hs = sext i16 %h0 to i32
  %hz = zext i16 %h2 to i32
  call void @show(i32 %bz)
  call void @show(i32 %bs)
  call void @show(i32 %hs)
  call void @show(i32 %hz)
  %wv = load i64, ptr @wide, align 8
  call void @show64(i64 %wv)
  %pp = load ptr, ptr getelementptr inbounds (i8, ptr @ptrs, i64 8), align 8
  %pv = load i32, ptr %pp, align 4
  call void @show(i32 %pv)
  %pa = load i32, ptr @partial, align 16
  %pb = load i32, ptr getelementptr inbounds (i8, ptr @partial, i64 12), align 4
  call void @show(i32 %pa)
  call void @show(i32 %pb)
  call void @llvm.memcpy.p0.p0.i64(ptr @zeros, ptr @table, i64 16, i1 false)
  %z3 = load i32, ptr getelementptr inbounds ([1000 x i32], ptr @zeros, i64 0, i64 3), align 4
  %z4 = load i32, ptr getelementptr inbounds ([1000 x i32], ptr @zeros, i64 0, i64 4), align 4
  call void @show(i32 %z3)
  call void @show(i32 %z4)
  call void @putch(i32 10)
  %r = and i32 %w2, 127
  ret i32 %r
}
"""
