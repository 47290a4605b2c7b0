"""The T5 contract names everything a T5 input contains, each with a public case showing it.

A T5 input is the reference T4 IR (clang -O2 for x86-64) with its target lines removed:
whatever clang writes there, an agent's back end must translate, so the contract
(golden/contracts/T5.md) lists every construct in a table row with a public example.
This test makes the T5 input of every case with the reference commands in the development
sandbox, reads its constructs, and fails when one is not in the table, or when a row's
example is not public or does not show the construct (so a stale row fails too).

``python -m tests.golden.test_t5_contract`` prints the inventory (construct: cases).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from golden import CASE_MOUNT, INCLUDE_MOUNT, Split, Stage, builtin_corpus
from golden._builder import RUNTIME_DIR
from golden._reference import REFERENCE_COMMANDS, retarget_ir_for_rv64
from tests.support import backend_missing, reachable_temp_dir
from toolchain._image import SANDBOX_GID, SANDBOX_UID
from toolchain._manifest import Profile
from toolchain.sandbox import ExecLimits, Mount, Outcome, SandboxSpec, open_sandbox

CONTRACT = Path(__file__).parents[2] / "golden" / "contracts" / "T5.md"
BACKEND = "bwrap"
_ROW = re.compile(r"^\| `(?P<construct>[^`]+)` \| .+ \| `(?P<example>[a-z0-9_]+)` \|$")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
# A bare word: not a %local, @global, !metadata or #attribute reference, not inside one.
_WORD = re.compile(r"(?<![%@!#\w.$-])[A-Za-z_][\w.]*")
_INTRINSIC = re.compile(r"@(llvm\.[\w.]+)")
_ATTACHMENT = re.compile(r",\s*(![A-Za-z][\w.]*)\s+!")
_DECLARED = re.compile(r"^declare\b[^@]*@([\w.]+)\(")
# Constructs that are shapes rather than words.
_FORMS = {
    "[N x T]": re.compile(r"\[\d+ x "),
    "<N x T>": re.compile(r"<\d+ x "),
    "<{ T, ... }>": re.compile(r"<\{"),
    "{ T, ... }": re.compile(r"(?<![<\w])\{ (?:i\d|ptr|\[|<|\{)"),
    "[T v, ...]": re.compile(r"\[(?:i\d+ (?:-?\d|true|false|poison|undef)|\[\d+ x |<\{|ptr )"),
    "getelementptr (...)": re.compile(r"\bgetelementptr (?:\w+ )*\("),
    "(...)": re.compile(r"\(\.\.\.\)"),
    # An alloca with a run-time count (a C variable-length array): T5.md says none occurs.
    "alloca T, iN %n": re.compile(r"\balloca [^,]+, i\d+ %"),
}


def constructs_of(ir: str) -> set[str]:
    """Every construct of one T5 input, named as the contract's table names it."""
    found: set[str] = set()
    for raw in ir.splitlines():
        line = _STRING.sub('""', raw).split(";", 1)[0].rstrip()
        if not line:
            continue
        if line.startswith("attributes #"):
            found.add("attributes #N = { ... }")
        elif re.match(r"^!\d", line):
            found.add("!N = !{ ... }")
        elif line.startswith("!"):
            found.add(line.split()[0])
        elif line.startswith("source_filename"):
            found.add("source_filename")
        else:
            found |= _constructs_of_code(line)
    return found


def _constructs_of_code(line: str) -> set[str]:
    found = set(_WORD.findall(line))
    found |= set(_INTRINSIC.findall(line))
    found |= set(_ATTACHMENT.findall(line))
    declared = _DECLARED.match(line)
    if declared and not declared.group(1).startswith("llvm."):
        found.add("@" + declared.group(1))
    found |= {name for name, form in _FORMS.items() if form.search(line)}
    return found


def contract_rows(text: str | None = None) -> dict[str, str]:
    """The contract's table: construct -> the public case named as its example."""
    rows: dict[str, str] = {}
    for line in (CONTRACT.read_text(encoding="utf-8") if text is None else text).splitlines():
        match = _ROW.match(line.strip())
        if match:
            assert match["construct"] not in rows, f"T5.md lists {match['construct']} twice"
            rows[match["construct"]] = match["example"]
    return rows


def inventory(inputs: dict[str, str]) -> dict[str, set[str]]:
    """construct -> the cases whose T5 input contains it."""
    seen: dict[str, set[str]] = {}
    for name, ir in inputs.items():
        for construct in constructs_of(ir):
            seen.setdefault(construct, set()).add(name)
    return seen


def _script(names: list[str]) -> str:
    """T0 then T4 for every case, two loops at a time, each case in a directory of its own."""
    steps = " && ".join(
        [
            'mkdir -p "$n"',
            'cd "$n"',
            REFERENCE_COMMANDS[Stage.T0].format(source=f'"{CASE_MOUNT}/$n.sy"'),
            REFERENCE_COMMANDS[Stage.T4],
            "cd ..",
        ]
    )
    lines = ["set -u"]
    for index, half in enumerate((names[0::2], names[1::2])):
        listed = " ".join(map(shlex.quote, half))
        lines.append(f"(for n in {listed}; do {steps} || exit 1; done) & p{index}=$!")
    lines += ["fail=0", "wait $p0 || fail=1", "wait $p1 || fail=1", "exit $fail"]
    return "\n".join(lines)


def make_t5_inputs(backend: str = BACKEND) -> dict[str, str]:
    """The T5 input of every built-in case, made by the reference commands in the sandbox."""
    cases = builtin_corpus()
    root = reachable_temp_dir("ramp-t5-inputs-")
    try:
        case_dir, include_dir, work = root / "case", root / "include", root / "work"
        for directory in (case_dir, include_dir, work):
            directory.mkdir(mode=0o755)
        for case in cases:
            shutil.copyfile(case.source, case_dir / f"{case.name}.sy")
        shutil.copyfile(RUNTIME_DIR / "sylib.h", include_dir / "sylib.h")
        if os.geteuid() == 0:
            os.chown(work, SANDBOX_UID, SANDBOX_GID)
        spec = SandboxSpec(
            profile=Profile.DEV,
            limits=ExecLimits(timeout_s=900, memory_mb=4096, cpus=2.0),
            mounts=(
                Mount(source=case_dir, target=CASE_MOUNT),
                Mount(source=include_dir, target=INCLUDE_MOUNT),
            ),
        )
        with open_sandbox(work, backend, spec) as box:
            ran = box.exec(_script([c.name for c in cases]))
        assert ran.outcome is Outcome.OK, ran.stderr[-2000:]
        return {
            c.name: retarget_ir_for_rv64((work / c.name / "T4.ll").read_text(encoding="utf-8"))
            for c in cases
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def t5_inputs() -> Iterator[dict[str, str]]:
    if backend_missing(BACKEND):
        pytest.skip(f"{BACKEND} not ready")
    yield make_t5_inputs()


def test_every_construct_of_every_t5_input_is_in_the_contract(
    t5_inputs: dict[str, str],
) -> None:
    seen = inventory(t5_inputs)
    listed = contract_rows()
    missing = {c: sorted(cases)[:3] for c, cases in seen.items() if c not in listed}
    assert missing == {}, f"T5 inputs contain constructs T5.md does not list: {missing}"


def test_every_listed_construct_has_a_public_example_showing_it(
    t5_inputs: dict[str, str],
) -> None:
    seen = inventory(t5_inputs)
    split = {case.name: case.split for case in builtin_corpus()}
    wrong = []
    for construct, example in contract_rows().items():
        if split.get(example) is not Split.PUBLIC:
            wrong.append(f"{construct}: {example} is not a public case")
        elif example not in seen.get(construct, set()):
            public = sorted(n for n in seen.get(construct, set()) if split[n] is Split.PUBLIC)
            wrong.append(f"{construct}: {example} does not show it (public ones that do: {public})")
    assert wrong == []


def test_the_contract_names_the_constructs_an_o2_module_is_known_to_hold() -> None:
    listed = contract_rows()
    assert len(listed) >= 80
    for construct in (
        "phi",
        "select",
        "switch",
        "freeze",
        "llvm.smax.i32",
        "llvm.memset.p0.i64",
        "llvm.lifetime.start.p0",
        "getelementptr (...)",
        "<{ T, ... }>",
        "i64",
    ):
        assert construct in listed, construct


def test_the_scanner_reads_words_shapes_calls_and_metadata() -> None:
    ir = "\n".join(
        [
            'source_filename = "x.sy"',
            "@s = private unnamed_addr constant [2 x i32] [i32 1, i32 -2], align 4",
            "@p = global <{ i32, [3 x i32] }> <{ i32 9, [3 x i32] zeroinitializer }>",
            "define i32 @f(ptr %0) #0 {",
            "  %2 = load i32, ptr getelementptr inbounds (i8, ptr @s, i64 4), align 4, !tbaa !5",
            "  %3 = call <4 x i32> @llvm.foo.v4i32(i32 %2) ; a comment: fadd",
            "  %4 = tail call i32 (...) @getint() #2",
            "  %5 = alloca i32, i64 %2, align 16",
            "  ret i32 %2",
            "}",
            "declare i32 @getint(...) local_unnamed_addr #1",
            'attributes #0 = { nounwind "target-cpu"="x" }',
            "!llvm.ident = !{!0}",
            '!0 = !{!"clang"}',
        ]
    )
    found = constructs_of(ir)
    for construct in (
        "source_filename",
        "private",
        "[N x T]",
        "[T v, ...]",
        "<{ T, ... }>",
        "getelementptr (...)",
        "<N x T>",
        "llvm.foo.v4i32",
        "!tbaa",
        "(...)",
        "@getint",
        "tail",
        "alloca T, iN %n",
        "attributes #N = { ... }",
        "!llvm.ident",
        "!N = !{ ... }",
    ):
        assert construct in found, construct
    # Comments, strings, names and attribute contents are not constructs.
    for absent in ("fadd", "comment", "nounwind", "target", "clang", "f", "s", "x.sy"):
        assert absent not in found, absent


def test_a_row_needs_backquoted_construct_and_example() -> None:
    text = "| `phi` | merges | `algo_bases` |\n| phi | no quotes | `algo_bases` |\n"
    assert contract_rows(text) == {"phi": "algo_bases"}


if __name__ == "__main__":
    corpus = {case.name: case.split for case in builtin_corpus()}
    for construct, names in sorted(inventory(make_t5_inputs()).items()):
        public = sorted(n for n in names if corpus[n] is Split.PUBLIC)
        print(f"{construct!r:32} {len(names):4} cases, public: {', '.join(public[:4]) or '-'}")
