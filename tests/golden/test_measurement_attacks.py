"""T4's measurement against an agent that writes the IR (issue G1): attacks at the judge.

Every attack starts from the unchanged input (the case's golden T3 IR, a legitimate if lazy
T4 output) and tries to lower the count without optimising: move or drop the timer calls,
talk to callgrind, replace the runtime or the memory functions, call libc directly or
through a computed address. Each must score no more than the unchanged input, and the ones
that reach for the measurement carry the integrity marker. The count itself must not move
with glibc's CPU-dependent choices. Run on both sandbox backends, judged for real.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from golden import CASE_MOUNT, INCLUDE_MOUNT, CaseArtifacts, Stage, build_golden, builtin_corpus
from golden._builder import RUNTIME_DIR
from golden._elf import read_elf
from golden._interface import TAMPER
from golden._judge import Judge
from golden._measure import count_instructions, layout_of
from golden._reference import (
    LIB_DIR,
    LLC_X86_MEASURE,
    MEASURED_BINARY,
    RUNTIME_OBJECTS,
    link_command,
    measure_command,
    runtime_script,
)
from golden.scoring import CaseScore
from tests.support import backend_missing, reachable_temp_dir
from toolchain._image import SANDBOX_GID, SANDBOX_UID
from toolchain._manifest import Profile
from toolchain.sandbox import Mount, Outcome, Sandbox, SandboxSpec, open_sandbox

TIMED = "perf_nqueens"  # times a region that prints, reads two ints before it
MEMORY = "perf_life"  # its -O2 IR copies and clears arrays with llvm.memcpy / llvm.memset
CPU_TUNABLES = (
    "glibc.cpu.hwcaps=-AVX2,-AVX_Fast_Unaligned_Load,-ERMS,-FSRM,-AVX512F,-AVX512VL,-EVEX,"
    "-Prefer_No_VZEROUPPER"
)
_START = re.compile(r"^\s*call void @_sysy_starttime\(i32 noundef (\d+)\)$", re.MULTILINE)
_STOP = re.compile(r"^\s*call void @_sysy_stoptime\(i32 noundef (\d+)\)$", re.MULTILINE)


@pytest.fixture(scope="module", params=["bwrap", "docker"])
def judged(request: pytest.FixtureRequest) -> Iterator[tuple[str, dict[str, CaseArtifacts], Judge]]:
    backend = str(request.param)
    if why := backend_missing(backend):
        pytest.skip(why)
    cases = [c for c in builtin_corpus() if c.name in (TIMED, MEMORY)]
    build = build_golden(cases, backend=backend)
    assert build.failures == {}
    with Judge(cases, backend=backend) as judge:
        yield backend, {c.name: c for c in build.cases}, judge


def _judge(judged: tuple[str, dict[str, CaseArtifacts], Judge], ir: str, tmp: Path) -> CaseScore:
    _, golden, judge = judged
    produced = tmp / f"attack-{abs(hash(ir))}.ll"
    produced.write_text(ir)
    return judge.judge(Stage.T4, golden[TIMED], produced)


def _input(judged: tuple[str, dict[str, CaseArtifacts], Judge]) -> str:
    return judged[1][TIMED].artifacts[Stage.T3].read_text()


def _unchanged(judged: tuple[str, dict[str, CaseArtifacts], Judge], tmp: Path) -> CaseScore:
    result = _judge(judged, _input(judged), tmp)
    # the input handed back is the score's base: 0, though correct and measured
    assert result.score == 0.0 and result.details["formula"] == "speedup-share", result
    assert result.details["agent_instructions"] == judged[1][TIMED].baseline_instructions
    return result


def test_moved_timers_change_neither_count_nor_score_upwards(judged, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    unchanged = _unchanged(judged, tmp_path)
    ir = _input(judged)
    start, stop = _START.search(ir), _STOP.search(ir)
    assert start and stop
    # the original attack: a stop right after the start, a start right before the stop
    bracketed = _START.sub(lambda m: f"{m.group(0)}\n  call void @_sysy_stoptime(i32 {m[1]})", ir)
    bracketed = _STOP.sub(
        lambda m: f"  call void @_sysy_starttime(i32 {m[1]})\n{m.group(0)}", bracketed
    )
    # the stop moved up to right after the start: nothing in between
    moved = _START.sub(lambda m: f"{m.group(0)}\n{stop.group(0)}", _STOP.sub("", ir))
    for attack in (bracketed, moved):
        result = _judge(judged, attack, tmp_path)
        assert result.score <= unchanged.score
        assert result.score == 0.0 and "timer calls differ" in result.diagnosis
        # the count does not care where the timers are (it once fell from 33 million to 94)
        counted, before = (
            result.details["agent_instructions"],
            unchanged.details["agent_instructions"],
        )
        assert abs(int(counted) - int(before)) < 100


def test_removed_timers_score_zero(judged, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = _judge(judged, _STOP.sub("", _START.sub("", _input(judged))), tmp_path)
    assert (
        result.score == 0.0 and "expected S" in result.diagnosis and "made none" in result.diagnosis
    )


def _tampered(result: CaseScore, needle: str) -> None:
    assert result.score == 0.0
    assert result.details.get("integrity") == TAMPER, result
    assert needle in result.diagnosis, result.diagnosis


def test_inline_asm_client_request_is_tampering(judged, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    toggle = (
        '  %cg = call i64 asm sideeffect "rolq $$3, %rdi ; rolq $$13, %rdi ; rolq $$61, %rdi ; '
        'rolq $$51, %rdi ; xchgq %rbx, %rbx", "={dx},{ax},0,~{memory}"(ptr %req, i64 0)'
    )
    request = "  %req = alloca [6 x i64], align 8\n  store i64 1129578498, ptr %req, align 8\n"
    ir = _START.sub(lambda m: f"{request}{toggle}\n{m.group(0)}", _input(judged), count=1)
    _tampered(_judge(judged, ir, tmp_path), "assembly")


@pytest.mark.parametrize("name", ["_sysy_stoptime", "getint"])
def test_redefined_runtime_functions_are_tampering(judged, tmp_path: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    ir = re.sub(rf"^declare .*@{name}\(.*$", "", _input(judged), flags=re.MULTILINE)
    body = "ret void" if name.startswith("_sysy") else "ret i32 7"
    kind = "void" if name.startswith("_sysy") else "i32"
    ir += f"\ndefine {kind} @{name}(...) {{\n  {body}\n}}\n"
    _tampered(_judge(judged, ir, tmp_path), f"@{name}")


def test_a_useless_memcpy_definition_is_tampering(judged, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ir = _input(judged) + "\ndefine ptr @memcpy(ptr %d, ptr %s, i64 %n) {\n  ret ptr %d\n}\n"
    _tampered(_judge(judged, ir, tmp_path), "@memcpy")


@pytest.mark.parametrize(
    "declaration",
    [
        "declare i64 @write(i32, ptr, i64)",
        "declare i64 @syscall(i64, ...)",
        "declare i32 @printf(ptr, ...)",
    ],
)
def test_libc_declarations_are_refused(judged, tmp_path: Path, declaration: str) -> None:  # type: ignore[no-untyped-def]
    name = re.search(r"@(\w+)", declaration)
    assert name
    result = _judge(judged, _input(judged) + "\n" + declaration + "\n", tmp_path)
    assert result.score == 0.0 and f"@{name[1]}" in result.diagnosis
    assert "integrity" not in result.details


def _probe_layout(backend: str, ir: str) -> dict[str, int]:
    """Addresses of the static executable's global functions, built as the judge builds."""
    work = _workspace("ramp-probe-")
    try:
        (work / "out.ll").write_text(ir)
        with open_sandbox(work, backend, _spec()) as box:
            _build(box)
        return {s.name: s.value for s in read_elf(work / MEASURED_BINARY).symbols if s.is_global}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _workspace(prefix: str) -> Path:
    """A directory the sandbox user may write (the judge and the builder do the same)."""
    path = reachable_temp_dir(prefix)
    if os.geteuid() == 0:
        os.chown(path, SANDBOX_UID, SANDBOX_GID)
    return path


def _spec() -> SandboxSpec:
    return SandboxSpec(
        profile=Profile.DEV, mounts=(Mount(source=RUNTIME_DIR, target=INCLUDE_MOUNT),)
    )


def _build(box: Sandbox) -> None:
    script = "\n".join(
        [
            runtime_script(),
            f"{LLC_X86_MEASURE} out.ll -o out.o",
            link_command(
                "out.o", f"{LIB_DIR}/{RUNTIME_OBJECTS['x86-measure']}", MEASURED_BINARY, static=True
            ),
        ]
    )
    built = box.exec(script)
    assert built.outcome is Outcome.OK, built.stderr[-2000:]


def test_a_call_through_a_computed_address_is_an_escape(judged, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The newlines printed by libc's printf, called by its address: that work is outside
    the counted code, so the judge calls it tampering (libc's code does not move with the
    module's: the module's code is a section placed after libc's)."""
    ir = _input(judged)
    printf = _probe_layout(judged[0], ir)["printf"]
    escaped = ir.replace(
        "call void @putch(i32 noundef 10)",
        f"%ramp.escaped = call i32 (ptr, ...) inttoptr (i64 {printf} to ptr)(ptr @ramp.newline)",
    )
    assert escaped != ir
    escaped += '\n@ramp.newline = private constant [2 x i8] c"\\0A\\00"\n'
    _tampered(_judge(judged, escaped, tmp_path), "outside the interface")


def test_the_count_is_the_same_whatever_glibc_picks(judged) -> None:  # type: ignore[no-untyped-def]
    """The same program measured with glibc's default CPU-feature selection and with AVX2,
    ERMS and friends masked off: the whole run's count moves (glibc's string functions
    change), the counted instructions do not."""
    if " avx2" not in Path("/proc/cpuinfo").read_text():
        pytest.skip("this CPU has no AVX2: glibc's tunables would mask nothing")
    backend, golden, _ = judged
    case = golden[MEMORY]
    stdin = next(c for c in builtin_corpus() if c.name == MEMORY).stdin
    assert stdin is not None
    work, cases = _workspace("ramp-tunables-"), reachable_temp_dir("ramp-tunables-in-")
    try:
        (work / "out.ll").write_text(case.artifacts[Stage.T4].read_text())
        shutil.copyfile(stdin, cases / "in")
        spec = _spec().model_copy(
            update={"mounts": (*_spec().mounts, Mount(source=cases, target=CASE_MOUNT))}
        )
        with open_sandbox(work, backend, spec) as box:
            _build(box)
            layout = layout_of(read_elf(work / MEASURED_BINARY))
            counts = []
            for environment in ({}, {"GLIBC_TUNABLES": CPU_TUNABLES}):
                ran = box.exec(
                    measure_command(
                        MEASURED_BINARY, f"{CASE_MOUNT}/in", "out", "cg", "err", environment
                    )
                    + "; exit $status"
                )
                assert ran.outcome is Outcome.OK, ran.stderr[-2000:]
                assert (work / "out").read_bytes() == case.expected_stdout.read_bytes()
                counts.append(count_instructions((work / "cg").read_text(), layout))
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(cases, ignore_errors=True)
    default, masked = counts
    assert default.memory > 0, "the case must exercise memcpy/memset"
    assert default.total != masked.total, "the tunables must change glibc's selection"
    assert (default.counted, default.memory) == (masked.counted, masked.memory)
    assert default.counted == case.reference_instructions
