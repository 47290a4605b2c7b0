"""The T4 measured run on real docker and real bwrap: the program cannot touch its count.

Callgrind runs in the measured program's own process, so whatever the dump file is, the
program could name it; what it must not do is replace it, keep callgrind from writing it,
or outlive the dump. Each hostile program below makes raw system calls on the dump (with
inline assembly, built by hand: the interface check would refuse it before the kernel
layer is reached), then does the case's real work. Run through the judge's own run step
(``Judge._run``), each either dies (SIGSYS: a solitary program may not fork, chmod, make
FIFOs or links, or lower its file-size limit; the case scores 0) or leaves a genuine dump
(at least the real work's count, nothing forged), or one that callgrind appended to the
forged text, which the judge reads as tampering (no count, an integrity finding). The same calls all succeed when the
program runs without the policy, so every assertion can fail.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from golden import Stage, build_golden, builtin_corpus
from golden._builder import CaseArtifacts
from golden._elf import read_elf
from golden._judge import Judge, _measured
from golden._measure import layout_of
from golden._reference import LIB_DIR, LLC_X86_MEASURE, MEASURED_BINARY, RUNTIME_OBJECTS
from golden._reference import link_command as link
from tests.support import backend_missing
from toolchain._image import SANDBOX_GID, SANDBOX_UID
from toolchain.sandbox import Outcome

CASE = "perf_collatz"
SIGSYS_EXIT = 128 + 31
FORGED = "version: 1\npositions: instr\nevents: Ir\nfn=x\n0x401000 1\n"
# Each attack: (system call number, arguments); an argument is an int or the name of a
# global (@dump, @target, @tiny, @forged) or %prev (the previous call's result).
ATTACKS: dict[str, list[tuple[int, tuple[int | str, ...]]]] = {
    # the red team's route: a FIFO in the dump's place, a child to swallow the real dump
    "fifo": [(87, ("@dump",)), (133, ("@dump", 0o10600, 0)), (57, ())],
    "read_only": [(90, ("@dump", 0o444))],
    "recreated_read_only": [(87, ("@dump",)), (2, ("@dump", 0o1101, 0o444))],
    "symlinked": [(87, ("@dump",)), (88, ("@target", "@dump"))],
    "forked_child": [(57, ())],
    "lowered_file_size_limit": [(160, (1, "@tiny"))],
    "direct_write": [(2, ("@dump", 0o1001, 0)), (1, ("%prev", "@forged", len(FORGED)))],
}
KILLED = {"fifo", "read_only", "symlinked", "forked_child", "lowered_file_size_limit"}
PREFIXED = {"direct_write"}  # the dump is genuine, after the forged text: no count
LIB = f"../{LIB_DIR}"


def _string(name: str, text: str) -> str:
    body = "".join(c if c.isalnum() or c in "/._- " else f"\\{ord(c):02X}" for c in text)
    return f'@{name} = private constant [{len(text) + 1} x i8] c"{body}\\00"\n'


def _attack_ir(attack: str, dump: str) -> str:
    """@ramp.attack: every call of the attack, in order, whatever each returns; its result
    is 0, or 1 + the index of the first call that failed."""
    lines, previous, status = [], "0", "0"
    for index, (number, arguments) in enumerate(ATTACKS[attack]):
        values = [
            previous if a == "%prev" else f"ptrtoint (ptr {a} to i64)" if isinstance(a, str) else a
            for a in arguments
        ]
        values += [0] * (3 - len(values))
        lines.append(
            f"  %r{index} = call i64 @ramp.sys(i64 {number}, "
            + ", ".join(f"i64 {v}" for v in values)
            + f")\n  %bad{index} = icmp slt i64 %r{index}, 0\n"
            f"  %first{index} = icmp eq i32 {status}, 0\n"
            f"  %new{index} = and i1 %bad{index}, %first{index}\n"
            f"  %s{index} = select i1 %new{index}, i32 {index + 1}, i32 {status}\n"
        )
        previous, status = f"%r{index}", f"%s{index}"
    return (
        _string("dump", dump)
        + _string("target", "/ramp/case/forged")
        + _string("forged", FORGED)
        + "@tiny = private constant [2 x i64] [i64 1, i64 1]\n"
        + """define internal i64 @ramp.sys(i64 %n, i64 %a, i64 %b, i64 %c) {
  %r = call i64 asm sideeffect "syscall", "={rax},{rax},{rdi},{rsi},{rdx},~{rcx},~{r11},~{memory}"(i64 %n, i64 %a, i64 %b, i64 %c)
  ret i64 %r
}
define internal i32 @ramp.attack() {
"""
        + "".join(lines)
        + f"  ret i32 {status}\n}}\n"
    )


def _hostile(golden: CaseArtifacts, attack: str, dump: str) -> str:
    """The case's reference T4 IR, whose main first runs the attack."""
    ir = golden.artifacts[Stage.T4].read_text()
    ir, renamed = re.subn(r"define (.*)@main\(", r"define \1@ramp.real_main(", ir, count=1)
    assert renamed == 1
    return (
        ir
        + _attack_ir(attack, dump)
        + "define i32 @main() {\n  %a = call i32 @ramp.attack()\n"
        + "  %r = call i32 @ramp.real_main()\n  ret i32 %r\n}\n"
    )


def _alone(attack: str, dump: str) -> str:
    """The attack as a whole program: its exit status says which call failed (0: none)."""
    return _attack_ir(attack, dump) + (
        "define i32 @main() {\n  %a = call i32 @ramp.attack()\n  ret i32 %a\n}\n"
    )


@pytest.fixture(params=["docker", "bwrap"], scope="module")
def judged(request: pytest.FixtureRequest) -> Iterator[tuple[Judge, CaseArtifacts]]:
    backend: str = request.param
    if reason := backend_missing(backend):
        pytest.skip(f"{backend}: {reason}")
    cases = [c for c in builtin_corpus() if c.name == CASE]
    build = build_golden(cases, backend=backend)
    assert build.failures == {}
    with Judge(cases, backend=backend) as judge:
        yield judge, build.cases[0]


def _work(judge: Judge, name: str, ir: str) -> Path:
    root = judge._root
    assert root is not None
    work = root / "work" / name
    work.mkdir()
    (work / "out.ll").write_text(ir)
    (root / "out" / name).mkdir()
    for path in (work, work / "out.ll", root / "out" / name):
        os.chown(path, SANDBOX_UID, SANDBOX_GID)
    return work


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_the_calls_work_without_the_policy(
    judged: tuple[Judge, CaseArtifacts], attack: str
) -> None:
    judge, _ = judged
    assert judge._box is not None
    name = f"free-{attack}"[:20]
    work = _work(judge, name, _alone(attack, f"/workspace/{name}/dump"))
    (work / "dump").write_text("")
    os.chown(work / "dump", SANDBOX_UID, SANDBOX_GID)
    ran = judge._box.exec("clang-19 -static out.ll -o prog && ./prog", cwd=name)
    assert ran.exit_code == 0, (attack, ran)


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_the_dump_stays_callgrinds(judged: tuple[Judge, CaseArtifacts], attack: str) -> None:
    judge, golden = judged
    assert judge._box is not None and judge._root is not None
    name = f"T4-sealed-{attack}"[:20]
    dump = f"/ramp/out/{name}/run.callgrind"
    _work(judge, name, _hostile(golden, attack, dump))
    built = judge._box.exec(
        f"{LLC_X86_MEASURE} out.ll -o out.o && "
        + link("out.o", f"{LIB}/{RUNTIME_OBJECTS['x86-measure']}", MEASURED_BINARY, static=True),
        cwd=name,
    )
    assert built.outcome is Outcome.OK, built.stderr
    layout = layout_of(read_elf(judge._root / "work" / name / MEASURED_BINARY))
    case = next(iter(judge._cases.values()))
    ran = judge._run(Stage.T4, judge._how(Stage.T4, case.name), case, name, 0)
    out = judge._root / "out" / name
    written = (out / "run.callgrind").read_text(errors="replace")
    measurement = _measured(out, layout)
    if attack in KILLED:
        assert ran.exit_code == SIGSYS_EXIT and measurement is None, (attack, ran)
        assert "fn=x" not in written, (attack, written[:300])
        return
    assert ran.exit_code == golden.expected_exit, (attack, ran)
    assert (out / "run.out").read_bytes() == golden.expected_stdout.read_bytes()
    if attack in PREFIXED:
        # callgrind appended its dump to the forgery: the judge reads no count from that
        assert written.startswith(FORGED) and "\n# callgrind format\n" in written
        assert measurement is not None and measurement.counted == 0
        assert measurement.escapes == (
            "the measured program wrote into callgrind's output file (text before its dump)",
        )
        return
    assert "fn=x" not in written, (attack, written[:300])
    assert measurement is not None and measurement.counted >= golden.reference_instructions
