"""The T3/T4 interface check: the IR text layer on hand-written modules, the object layer on
objects the real llc-19 makes (including ones the text layer would already refuse, to show
the second layer holds on its own), and the measurement's reading of callgrind output."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from golden._elf import read_elf
from golden._interface import TAMPER, check_ir_text, check_object, decode_ir, refused_score
from golden._measure import DumpTampered, Layout, MeasureError, count_instructions, timer_calls

MAIN = "define i32 @main() {\n  ret i32 0\n}\n"
CLIENT_REQUEST = (
    'call i64 asm sideeffect "rolq $$3, %rdi ; rolq $$13, %rdi ; rolq $$61, %rdi ; '
    'rolq $$51, %rdi ; xchgq %rbx, %rbx", "={dx},{ax},0,~{memory}"(ptr null, i64 0)'
)


def _messages(text: str) -> list[tuple[str, bool]]:
    return [(p.message, p.tamper) for p in check_ir_text(text)]


def test_runtime_declarations_and_allowed_intrinsics_pass() -> None:
    text = (
        "declare i32 @getint(...)\ndeclare void @putint(i32 noundef)\n"
        'declare void @"_sysy_starttime"(i32)\ndeclare i32 @llvm.smax.i32(i32, i32)\n'
        "declare void @llvm.memset.p0.i64(ptr, i8, i64, i1)\n"
        '@asm = global i32 0 ; a comment naming asm and declare @printf\n@s = constant [4 x i8] c"asm\\00"\n'
        "define i32 @f(i32 %asm) {\nasm:\n  ret i32 %asm\n}\n" + MAIN
    )
    assert _messages(text) == []


@pytest.mark.parametrize(
    ("text", "needle", "tamper"),
    [
        ('module asm ".globl x"\n' + MAIN, "assembly", True),
        ("define i32 @main() {\n  " + CLIENT_REQUEST + "\n  ret i32 0\n}\n", "assembly", True),
        ("declare i32 @printf(ptr, ...)\n" + MAIN, "@printf", False),
        ("declare i64 @syscall(i64, ...)\n" + MAIN, "@syscall", False),
        ("declare i64 @write(i32, ptr, i64)\n" + MAIN, "@write", False),
        ("declare ptr @memcpy(ptr, ptr, i64)\n" + MAIN, "use llvm.memcpy", False),
        ("declare ptr @llvm.returnaddress(i32)\n" + MAIN, "llvm.returnaddress", False),
        ("declare i64 @llvm.x86.rdtsc()\n" + MAIN, "llvm.x86.rdtsc", False),
        ("define void @_sysy_stoptime(i32 %l) {\n  ret void\n}\n" + MAIN, "_sysy_stoptime", True),
        ('define i32 @"\\67etint"() {\n  ret i32 7\n}\n' + MAIN, "@getint", True),
        ("define ptr @memcpy(ptr %d, ptr %s, i64 %n) {\n  ret ptr %d\n}\n" + MAIN, "memcpy", True),
        ("@putch = alias i32 (), ptr @main\n" + MAIN, "alias named @putch", True),
        ("@getint = global i32 0\n" + MAIN, "global named @getint", True),
        ("@f = ifunc i32 (), ptr @main\n" + MAIN, "ifunc", False),
    ],
)
def test_refused_modules(text: str, needle: str, tamper: bool) -> None:
    problems = check_ir_text(text)
    assert problems, text
    assert any(needle in p.message for p in problems), problems
    assert any(p.tamper for p in problems) is tamper
    score = refused_score(problems)
    assert score.score == 0.0 and score.diagnosis.startswith("refused: ")
    assert (score.details.get("integrity") == TAMPER) is tamper


def _llc(tmp_path: Path, text: str) -> Path:
    if shutil.which("llc-19") is None:
        pytest.skip("llc-19 is not installed")
    source, obj = tmp_path / "m.ll", tmp_path / "m.o"
    source.write_text(text)
    subprocess.run(
        ["llc-19", "-O2", "-relocation-model=pic", "-filetype=obj", str(source), "-o", str(obj)],
        check=True,
    )
    return obj


def test_object_layer_passes_a_plain_module(tmp_path: Path) -> None:
    text = (
        "declare void @putint(i32)\ndeclare void @llvm.memset.p0.i64(ptr, i8, i64, i1)\n"
        "@a = global [4096 x i8] zeroinitializer\n"
        "define i32 @main() {\n  call void @llvm.memset.p0.i64(ptr @a, i8 1, i64 4096, i1 false)\n"
        "  call void @putint(i32 1)\n  ret i32 0\n}\n"
    )
    obj = read_elf(_llc(tmp_path, text))
    assert check_object(obj) == []
    assert {s.name for s in obj.symbols if s.undefined and s.name} == {"memset", "putint"}


@pytest.mark.parametrize(
    ("text", "needle", "tamper"),
    [
        # a libcall llc makes on its own: the text has no declaration to refuse
        (
            "define i32 @g(float %a, float %b) {\n  %r = frem float %a, %b\n"
            "  %i = fptosi float %r to i32\n  ret i32 %i\n}\n" + MAIN,
            "fmodf",
            False,
        ),
        (
            "@stdout = external global ptr\ndefine i32 @main() {\n  %p = load ptr, ptr @stdout\n"
            "  %i = ptrtoint ptr %p to i32\n  ret i32 %i\n}\n",
            "stdout",
            False,
        ),
        (
            "define i32 @main() {\n  " + CLIENT_REQUEST + "\n  ret i32 0\n}\n",
            "client request",
            True,
        ),
        ("define void @getch() {\n  ret void\n}\n" + MAIN, "getch", True),
        ('define i32 @f() section ".text.hot" {\n  ret i32 1\n}\n' + MAIN, ".text.hot", False),
        ('@x = global i32 1, section ".ramp.agent"\n' + MAIN, ".ramp.agent", True),
    ],
)
def test_object_layer_refuses_on_its_own(
    tmp_path: Path, text: str, needle: str, tamper: bool
) -> None:
    problems = check_object(read_elf(_llc(tmp_path, text)))
    assert any(needle in p.message for p in problems), problems
    assert any(p.tamper for p in problems) is tamper


LAYOUT = Layout(
    agent=(0x1000, 0x2000),
    memory={"memcpy": 0x500, "memset": 0x600, "memmove": 0x700},
    runtime={"getint": 0x300, "putint": 0x400},
)
CALLGRIND = """# callgrind format
version: 1
positions: instr
events: Ir
summary: 4315

fn=main
0x1000 10
0x1004 5
cfn=memset
calls=3 0x600
0x1008 300
cfn=putint
calls=2 0x400
0x100c 4000
fn=memset
0x600 300
fn=putint
0x400 80
cfn=memcpy
calls=2 0x500
0x410 40
fn=scanf
0x900 3920

totals: 4315
"""


def test_count_is_own_code_plus_memory_calls_from_it() -> None:
    measured = count_instructions(CALLGRIND, LAYOUT)
    # own code 15, memset called from it 300; the runtime's memcpy and scanf are not counted
    assert (measured.agent, measured.memory, measured.counted) == (15, 300, 315)
    assert measured.total == 10 + 5 + 300 + 80 + 3920
    assert measured.escapes == ()


def test_a_call_out_of_the_interface_is_an_escape() -> None:
    text = CALLGRIND.replace("calls=2 0x400\n0x100c", "calls=2 0x900\n0x100c")
    measured = count_instructions(text, LAYOUT)
    assert measured.escapes == ("a call from 0x100c to 0x900, outside the interface",)


def test_other_callgrind_formats_are_refused() -> None:
    with pytest.raises(MeasureError):
        count_instructions(CALLGRIND.replace("positions: instr", "positions: line"), LAYOUT)


def test_a_dump_cut_short_or_inconsistent_is_refused() -> None:
    """A dump that lost its tail (a full disk, a lowered file-size limit) would count less
    than was run: only a whole dump whose summary and totals match its costs is read."""
    whole = count_instructions(CALLGRIND, LAYOUT)
    assert whole.total == 4315
    cut = CALLGRIND[: CALLGRIND.index("fn=scanf")]
    with pytest.raises(MeasureError, match="incomplete"):
        count_instructions(cut, LAYOUT)
    with pytest.raises(MeasureError, match="inconsistent"):
        count_instructions(CALLGRIND.replace("0x900 3920", "0x900 20"), LAYOUT)
    with pytest.raises(MeasureError, match="inconsistent"):
        count_instructions(CALLGRIND.replace("totals: 4315", "totals: 15"), LAYOUT)


def test_only_callgrinds_one_dump_is_read() -> None:
    """Callgrind appends its dump to what the file holds: text before its header (with
    negative costs, or a dangling calls= line that would swallow a real cost) and a
    second part are refused, whatever their sums."""
    prefix = "fn=x\n0x1000 -300\n0x900 300\n"
    with pytest.raises(DumpTampered, match="wrote into callgrind's output file"):
        count_instructions(prefix + CALLGRIND, LAYOUT)
    with pytest.raises(MeasureError, match="starts the file"):
        count_instructions(CALLGRIND + CALLGRIND, LAYOUT)
    with pytest.raises(MeasureError, match="not a count"):
        count_instructions(CALLGRIND.replace("0x1004 5", "0x1004 -5"), LAYOUT)


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"BC\xc0\xde5\x14\x00\x00\x05", "is LLVM bitcode"),
        (b"\xde\xc0\x17\x0b\x00\x00\x00\x00", "is LLVM bitcode"),
        (b"define i32 @main() {\n  ret i32 0\n}\n\x00", "NUL byte"),
        (b"; \xff\xfe\ndefine i32 @main() {\n  ret i32 0\n}\n", "not UTF-8"),
    ],
)
def test_only_ir_text_is_read(data: bytes, needle: str) -> None:
    text, problems = decode_ir(data)
    assert text == "" and len(problems) == 1, problems
    assert needle in problems[0].message and "textual .ll form" in problems[0].message


def test_ir_text_is_read_as_it_is() -> None:
    source = "; caf\u00e9\ndefine i32 @main() {\n  ret i32 0\n}\n"
    assert decode_ir(source.encode()) == (source, [])


def test_timer_calls_are_read_from_stderr() -> None:
    stderr = "==1== Callgrind\nramp-timer: total 0.1 s\nramp-timer-calls: S3@2 T9@40\n==1== done\n"
    assert timer_calls(stderr) == "S3@2 T9@40"
    assert timer_calls("==1== nothing\n") is None
