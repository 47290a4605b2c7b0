"""The judge's run step executes nothing but the judged program (docker and bwrap).

The development sandbox the judge builds in has clang, lli and python3, so a "compiler"
could hand in a program that, when run, execs them on its source. Here such programs are
built by hand (inline-asm syscalls in IR, an ``ecall`` in RV64 assembly: the interface
check would refuse them before the kernel layer is reached, so they skip it) and run
through the judge's own run step (``Judge._run``): every execve fails there, and each
program is first shown to escape when run without the policy, so the test can fail.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import pytest

from golden import Stage, builtin_corpus
from golden._judge import Judge
from golden._reference import LIB_DIR, MEASURED_BINARY, RUNTIME_OBJECTS
from tests.support import backend_missing
from toolchain._image import SANDBOX_GID, SANDBOX_UID, find_rootfs
from toolchain._manifest import Profile
from toolchain.sandbox import Outcome

TARGETS = {  # what a cheat would run; each prints ESCAPED or a version line when it runs
    "python3": ("/usr/bin/python3", "-c", "print('ESCAPED')"),
    "sh": ("/bin/sh", "-c", "echo ESCAPED"),
    "clang": ("/usr/bin/clang-19", "--version"),
    "lli": ("/usr/bin/lli-19", "--version"),
}
ESCAPED = re.compile(r"ESCAPED|version", re.IGNORECASE)


def _ir_string(name: str, text: str) -> str:
    return f'@{name} = private constant [{len(text) + 1} x i8] c"{text}\\00"\n'


def _x86_ir() -> str:
    """main: execve each target (inline syscall), then mmap RWX, memfd_create, and map
    python3's file executable (what a loader the program carried would do); prints each
    system call's result (a negative errno when refused)."""
    globals_, calls = "", ""
    for index, (name, argv) in enumerate(TARGETS.items()):
        for position, arg in enumerate(argv):
            globals_ += _ir_string(f"{name}{position}", arg)
        pointers = ", ".join(f"ptr @{name}{p}" for p in range(len(argv)))
        globals_ += (
            f"@{name}.argv = private constant [{len(argv) + 1} x ptr] [{pointers}, ptr null]\n"
        )
        calls += (
            f"  %e{index} = call i64 @sys3(i64 59, ptr @{name}0, ptr @{name}.argv, ptr null)\n"
            f"  call void @show(i64 %e{index})\n"
        )
    return (
        globals_
        + _ir_string("memfd.name", "x")
        + _ir_string("loaded", "/usr/bin/python3")
        + """declare void @putint(i32)
declare void @putch(i32)
define i64 @sys3(i64 %n, ptr %a, ptr %b, ptr %c) {
  %r = call i64 asm sideeffect "syscall", "={rax},{rax},{rdi},{rsi},{rdx},~{rcx},~{r11},~{memory}"(i64 %n, ptr %a, ptr %b, ptr %c)
  ret i64 %r
}
define void @show(i64 %r) {
  %negative = icmp slt i64 %r, 0
  %shown = select i1 %negative, i64 %r, i64 1
  %t = trunc i64 %shown to i32
  call void @putint(i32 %t)
  call void @putch(i32 10)
  ret void
}
define i32 @main() {
"""
        + calls
        + """  %m = call i64 asm sideeffect "syscall", "={rax},{rax},{rdi},{rsi},{rdx},{r10},{r8},{r9},~{rcx},~{r11},~{memory}"(i64 9, i64 0, i64 4096, i64 7, i64 34, i64 -1, i64 0)
  call void @show(i64 %m)
  %f = call i64 @sys3(i64 319, ptr @memfd.name, ptr null, ptr null)
  call void @show(i64 %f)
  %fd = call i64 @sys3(i64 2, ptr @loaded, ptr null, ptr null)
  %x = call i64 asm sideeffect "syscall", "={rax},{rax},{rdi},{rsi},{rdx},{r10},{r8},{r9},~{rcx},~{r11},~{memory}"(i64 9, i64 0, i64 4096, i64 5, i64 2, i64 %fd, i64 0)
  call void @show(i64 %x)
  ret i32 0
}
"""
    )


def _rv64_assembly() -> str:
    """main: an ``ecall`` execve of each target; prints each result."""
    data, text = "", ""
    for name, argv in TARGETS.items():
        for position, arg in enumerate(argv):
            data += f'{name}{position}: .string "{arg}"\n'
        pointers = ", ".join(f"{name}{p}" for p in range(len(argv)))
        data += f"  .align 3\n{name}_argv: .dword {pointers}, 0\n"
        text += f"  la a0, {name}0\n  la a1, {name}_argv\n  call try\n"
    return f"""  .section .data
{data}
  .text
  .globl main
  .type main, @function
main:
  addi sp, sp, -16
  sd ra, 8(sp)
{text}  li a0, 0
  ld ra, 8(sp)
  addi sp, sp, 16
  ret
try:
  addi sp, sp, -16
  sd ra, 8(sp)
  li a2, 0
  li a7, 221
  ecall
  call putint
  li a0, 10
  call putch
  ld ra, 8(sp)
  addi sp, sp, 16
  ret
"""


LIB = f"../{LIB_DIR}"
PROGRAMS = {
    Stage.T3: (
        "out.ll",
        _x86_ir,
        f"clang-19 -static out.ll {LIB}/{RUNTIME_OBJECTS['x86']} -o prog",
    ),
    Stage.T4: (
        "out.ll",
        _x86_ir,
        f"clang-19 -static out.ll {LIB}/{RUNTIME_OBJECTS['x86-measure']} -o {MEASURED_BINARY}",
    ),
    Stage.T5: (
        "out.s",
        _rv64_assembly,
        f"riscv64-linux-gnu-gcc -static out.s {LIB}/{RUNTIME_OBJECTS['rv64']} -o prog",
    ),
}
UNRESTRICTED = {  # the same program run in the build sandbox, where nothing is restricted
    Stage.T3: "./prog",
    Stage.T4: f"valgrind --tool=none -q ./{MEASURED_BINARY}",
    Stage.T5: "qemu-riscv64 ./prog",
}


@pytest.fixture(params=["docker", "bwrap"], scope="module")
def judge(request: pytest.FixtureRequest) -> Iterator[Judge]:
    backend: str = request.param
    reason = backend_missing(backend) or backend_missing(backend, Profile.MINIMAL)
    if reason:
        pytest.skip(f"{backend}: {reason}")
    case = next(c for c in builtin_corpus() if c.stdin is None)
    with Judge([case], backend=backend) as opened:
        yield opened


def _built(judge: Judge, stage: Stage) -> str:
    """Build the stage's hostile program in the judge's build sandbox; its work dir name."""
    root, box = judge._root, judge._box
    assert root is not None and box is not None
    name, make, build = PROGRAMS[stage]
    work_name = f"hostile-{stage.value}-{os.getpid()}"
    work = root / "work" / work_name
    work.mkdir()
    (work / name).write_text(make())
    out = root / "out" / work_name
    out.mkdir()
    for path in (work, work / name, out):
        os.chown(path, SANDBOX_UID, SANDBOX_GID)
    built = box.exec(build, cwd=work_name)
    assert built.outcome is Outcome.OK, built.stderr
    return work_name


@pytest.mark.parametrize("stage", [Stage.T3, Stage.T4, Stage.T5])
def test_judged_programs_cannot_execute_anything(judge: Judge, stage: Stage) -> None:
    work_name = _built(judge, stage)
    assert judge._box is not None and judge._root is not None
    free = judge._box.exec(UNRESTRICTED[stage], cwd=work_name)
    assert ESCAPED.search(free.stdout), ("the program must escape without a policy", free)

    case = next(iter(judge._cases.values()))
    ran = judge._run(stage, judge._how(stage, case.name), case, work_name, 0)
    out = judge._root / "out" / work_name
    printed = (out / "run.out").read_text() if (out / "run.out").is_file() else ""
    assert not ESCAPED.search(printed + ran.stderr), (printed, ran)
    if stage is Stage.T4:
        # valgrind's tool makes the guest's system calls and seccomp refuses its execve
        # (EPERM); valgrind cannot go on after a failed execve, so the measured run dies.
        report = (out / "run.stderr").read_text()
        assert "execve(0x" in report and "(/usr/bin/python3)" in report, report
        assert "failed, errno 1" in report, report
        assert ran.outcome is Outcome.NONZERO
        return
    results = [int(line) for line in printed.split()]
    executed = results[: len(TARGETS)]
    assert len(executed) == len(TARGETS), (printed, ran)
    assert all(code < 0 for code in executed), printed
    assert executed[:2] == [-13, -13], printed  # python3, sh: Landlock, EACCES
    if stage is Stage.T3:
        mmap_rwx, memfd, mapped_code = results[len(TARGETS) :]
        assert (mmap_rwx, memfd) == (-1, -1), printed  # seccomp: W^X, no memfd (EPERM)
        # a static program may map no code at all: no loader can run, not even its own
        assert mapped_code == -1, printed


def test_the_run_sandbox_for_native_code_has_no_compiler(judge: Judge) -> None:
    """T3 programs run in the minimal environment: no LLVM library to dlopen either, and
    not even a shell to start (the run step needs none: the launcher redirects)."""
    box = judge._run_box(judge._how(Stage.T3, ""))
    assert box.spec.profile is Profile.MINIMAL
    rootfs = find_rootfs(Profile.MINIMAL)
    assert rootfs is not None
    assert not (rootfs.path / "usr/lib/llvm-19").exists()
    assert not list((rootfs.path / "usr/lib/x86_64-linux-gnu").glob("libLLVM*"))
    shell = box.exec("echo started")
    assert shell.exit_code == 126 and "Permission denied" in shell.stderr, shell


def test_honest_programs_are_judged_normally(judge: Judge) -> None:
    """The reference outputs still score 100 through the restricted run step."""
    from golden import build_golden

    case = next(iter(judge._cases.values()))
    golden = build_golden([case]).cases[0]
    for stage in (Stage.T3, Stage.T4, Stage.T5):
        scored = judge.judge(stage, golden, golden.artifacts[stage])
        assert scored.score == 100.0, (stage, scored.diagnosis)
