"""The reference pipeline: every command that makes a golden artifact, in one place.

Everything runs in the development sandbox (the pinned toolchain) at fixed paths, so the
artifacts are the same on every machine: the case at ``/ramp/case/NAME.sy`` (stdin at
``/ramp/case/NAME.in``), the runtime header at ``/ramp/include/sylib.h``, and the case's
build directory as the working directory. Stage contracts and the grader call agents'
stage programs with the same paths.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from enum import StrEnum

from golden._measure import AGENT_SECTION, CALLGRIND_OPTIONS

__all__ = [
    "ARTIFACT_FILES",
    "BASELINE_BINARY",
    "CALLGRIND_ENVIRONMENT",
    "CALLGRIND_TOOL",
    "CASE_MOUNT",
    "INCLUDE_MOUNT",
    "LIB_DIR",
    "LLC_X86_MEASURE",
    "MEASURED_BINARY",
    "MEASURE_DIR_CHARS",
    "QEMU_RV64",
    "RUNTIME_OBJECTS",
    "Stage",
    "case_script",
    "link_command",
    "measure_argv",
    "measure_command",
    "retarget_ir_for_rv64",
    "runtime_script",
    "t5_script",
]

CASE_MOUNT = "/ramp/case"
INCLUDE_MOUNT = "/ramp/include"
# Runtime objects are built once per golden build into this directory of the workspace.
LIB_DIR = "_lib"


class Stage(StrEnum):
    """The six stages, in the order they are built, graded and handed on (T0 first)."""

    T0 = "T0"
    T1 = "T1"
    T2 = "T2"
    T3 = "T3"
    T4 = "T4"
    T5 = "T5"

    @property
    def previous(self) -> Stage | None:
        """The stage whose output this one reads (None for T0, which reads the source)."""
        order = list(Stage)
        index = order.index(self)
        return order[index - 1] if index > 0 else None

    @property
    def next(self) -> Stage | None:
        """The stage that reads this one's output (None for T5, the last)."""
        order = list(Stage)
        index = order.index(self)
        return order[index + 1] if index + 1 < len(order) else None


ARTIFACT_FILES: dict[Stage, str] = {
    Stage.T0: "T0.i",
    Stage.T1: "T1.tokens",
    Stage.T2: "T2.json",
    Stage.T3: "T3.ll",
    Stage.T4: "T4.ll",
    Stage.T5: "T5.s",
}

RV64_FLAGS = "--target=riscv64-unknown-linux-gnu -march=rv64gc -mabi=lp64d -fno-addrsig"
LLC_RV64 = "llc-19 -mtriple=riscv64-unknown-linux-gnu -mattr=+m,+a,+f,+d,+c -O2"
# T4 performance is measured on the IR alone: one fixed back-end-only pipeline, a static
# link (no dynamic loader), and an empty environment, so the count is the same in every
# sandbox backend. What is counted is defined in golden/_measure.py.
LLC_X86_MEASURE = "llc-19 -O2 -relocation-model=pic -filetype=obj"
MEASURED_BINARY = "measured"
BASELINE_BINARY = "measured.t3"
_CALLGRIND_FILE = "callgrind.out"
# Callgrind's tool binary is run itself, not the `valgrind` script and its launcher: the
# judge's run step may execute that one static program and nothing else (no shell, no ELF
# loader). The tool wants the variable the launcher would set; it keeps it from the program.
CALLGRIND_TOOL = "/usr/libexec/valgrind/callgrind-amd64-linux"
CALLGRIND_ENVIRONMENT = {"VALGRIND_LAUNCHER": "/usr/bin/valgrind.bin"}
# The measuring directory's path length, the same in the golden build and in the judge:
# the program's start-up code sees the path (the count does not depend on it, its total does).
MEASURE_DIR_CHARS = len("/tmp/ramp-measure-XXXXXXXXXXXX")
# The statically linked qemu: T5 programs run with it alone, in the golden check and the judge.
QEMU_RV64 = "qemu-riscv64-static"


def link_command(obj: str, runtime: str, binary: str, *, static: bool) -> str:
    """Shell text linking a T3/T4 object with a runtime object into ``binary``.

    Every symbol of the module but ``main`` becomes local first, so nothing it defines can
    stand in for a symbol of the runtime or libc; its code moves to a section of its own
    (``AGENT_SECTION``), which is where the T4 measurement finds it.
    """
    own = shlex.quote(obj + ".own")
    return (
        f"llvm-objcopy-19 --keep-global-symbol=main --rename-section .text={AGENT_SECTION} "
        f"{shlex.quote(obj)} {own} && clang-19 {'-static ' if static else ''}{own} "
        f"{shlex.quote(runtime)} -o {shlex.quote(binary)}"
    )


def measure_argv(callgrind: str) -> list[str]:
    """The measuring command: callgrind runs ``./measured`` from the current directory, its
    output file ``callgrind``. Run it with ``CALLGRIND_ENVIRONMENT`` as its whole environment."""
    options = [*CALLGRIND_OPTIONS.split(), f"--callgrind-out-file={callgrind}"]
    return [CALLGRIND_TOOL, *options, f"./{MEASURED_BINARY}"]


def measure_command(
    binary: str,
    stdin: str,
    stdout: str,
    callgrind: str,
    stderr: str,
    environment: Mapping[str, str] | None = None,
) -> str:
    """Shell text that runs ``binary`` under callgrind; leaves its exit status in $status.

    Callgrind's per-instruction output lands in ``callgrind``, the program's and valgrind's
    stderr in ``stderr``. The program runs from a fresh directory whose path always has
    ``MEASURE_DIR_CHARS`` characters, under the same name and with the environment the
    judge gives it (``environment`` adds to it, for tests that vary glibc's tunables): its
    path and environment are on its stack, and their lengths change what the C start-up
    executes. The golden build uses this (trusted input, a shell); the judge runs
    ``measure_argv`` with no shell at all (golden._judge).
    """
    variables = {**CALLGRIND_ENVIRONMENT, **(environment or {})}
    assigned = " ".join(shlex.quote(f"{k}={v}") for k, v in variables.items())
    command = " ".join(shlex.quote(word) for word in measure_argv(_CALLGRIND_FILE))
    return (
        "d=$(mktemp -d /tmp/ramp-measure-XXXXXXXXXXXX) && cp "
        + shlex.quote(binary)
        + f' "$d/{MEASURED_BINARY}" && (cd "$d" && exec env -i {assigned} {command}) '
        + f"< {shlex.quote(stdin)} > {shlex.quote(stdout)} 2> {shlex.quote(stderr)}; status=$?; "
        + f'cp "$d/{_CALLGRIND_FILE}" {shlex.quote(callgrind)} 2> /dev/null; rm -rf "$d"'
    )


RUNTIME_OBJECTS = {
    "x86": "sylib.x86.o",
    "x86-measure": "sylib.measure.x86.o",
    "rv64": "sylib.rv64.o",
}

REFERENCE_COMMANDS: dict[Stage, str] = {
    Stage.T0: "clang-19 -E -x c -isystem /ramp/include -include sylib.h {source} -o T0.i",
    Stage.T1: "clang-19 -cc1 -dump-tokens T0.i 2> T1.tokens",
    Stage.T2: "clang-19 -cc1 -ast-dump=json T0.i > T2.raw.json",
    Stage.T3: "clang-19 -S -emit-llvm -O0 -Xclang -disable-O0-optnone T0.i -o T3.ll",
    Stage.T4: "clang-19 -S -emit-llvm -O2 -fno-vectorize -fno-slp-vectorize T0.i -o T4.ll",
    Stage.T5: f"{LLC_RV64} T5.input.ll -o T5.s",
}


def runtime_script() -> str:
    """Build the three runtime objects into ``_lib`` (run with the runtime at /ramp/include)."""
    src = f"{INCLUDE_MOUNT}/sylib.c"
    return "\n".join(
        [
            "set -eu",
            f"mkdir -p {LIB_DIR}",
            f"clang-19 -O2 -c {src} -o {LIB_DIR}/{RUNTIME_OBJECTS['x86']}",
            f"clang-19 -O2 -DRAMP_MEASURE -c {src} -o {LIB_DIR}/{RUNTIME_OBJECTS['x86-measure']}",
            f"clang-19 {RV64_FLAGS} -O2 -c {src} -o {LIB_DIR}/{RUNTIME_OBJECTS['rv64']}",
        ]
    )


def case_script(name: str, *, has_stdin: bool) -> str:
    """Make every artifact of one case in the current directory, then run the checks.

    The checks run the T3 and T4 artifacts natively and the T5 artifact under qemu, each
    with the case's stdin, recording stdout and exit code; the T4 artifact is built and run
    under callgrind exactly as an agent's T4 output is (``check.t4.o``, the executable and
    the callgrind output give the reference count, golden/_measure.py), and so is the T3
    artifact, unchanged: the baseline count T4's score starts from (``check.t3m.*``).
    """
    source = f"{CASE_MOUNT}/{name}.sy"
    stdin = f"{CASE_MOUNT}/{name}.in" if has_stdin else "/dev/null"
    lib = f"../{LIB_DIR}"
    quoted = shlex.quote
    lines = [
        "set -eu",
        REFERENCE_COMMANDS[Stage.T0].format(source=quoted(source)),
        REFERENCE_COMMANDS[Stage.T1],
        REFERENCE_COMMANDS[Stage.T2],
        REFERENCE_COMMANDS[Stage.T3],
        REFERENCE_COMMANDS[Stage.T4],
        f"clang-19 -static T3.ll {lib}/{RUNTIME_OBJECTS['x86']} -o check.t3",
        f"{LLC_X86_MEASURE} T4.ll -o check.t4.o",
        link_command(
            "check.t4.o", f"{lib}/{RUNTIME_OBJECTS['x86-measure']}", MEASURED_BINARY, static=True
        ),
        f"{LLC_X86_MEASURE} T3.ll -o check.t3m.o",
        link_command(
            "check.t3m.o", f"{lib}/{RUNTIME_OBJECTS['x86-measure']}", BASELINE_BINARY, static=True
        ),
        "set +e",
        f"./check.t3 < {quoted(stdin)} > check.t3.out 2> check.t3.stderr; echo $? > check.t3.exit",
        measure_command(
            MEASURED_BINARY, stdin, "check.t4.out", "check.t4.callgrind", "check.t4.stderr"
        )
        + "; echo $status > check.t4.exit",
        measure_command(
            BASELINE_BINARY, stdin, "check.t3m.out", "check.t3m.callgrind", "check.t3m.stderr"
        )
        + "; echo $status > check.t3m.exit",
    ]
    return "\n".join(lines)


def t5_script(name: str, *, has_stdin: bool) -> str:
    """Assemble the T5 artifact, link it with the RV64 runtime and run it under qemu."""
    stdin = f"{CASE_MOUNT}/{name}.in" if has_stdin else "/dev/null"
    return "\n".join(
        [
            "set -eu",
            REFERENCE_COMMANDS[Stage.T5],
            f"riscv64-linux-gnu-gcc -static T5.s ../{LIB_DIR}/{RUNTIME_OBJECTS['rv64']} -o check.t5",
            "set +e",
            f"{QEMU_RV64} ./check.t5 < {shlex.quote(stdin)} > check.t5.out 2> check.t5.stderr; "
            "echo $? > check.t5.exit",
        ]
    )


_TARGET_LINE = re.compile(r"^target (datalayout|triple) = .*\n", re.MULTILINE)
_TARGET_ATTRS = re.compile(r' ?"(target-cpu|target-features|tune-cpu)"="[^"]*"')


def retarget_ir_for_rv64(ir: str) -> str:
    """The chain's IR (x86-64 clang dialect) with its target-specific lines removed.

    The reference back end (llc for riscv64) then supplies RV64's own data layout; the IR
    is otherwise unchanged.
    """
    return _TARGET_ATTRS.sub("", _TARGET_LINE.sub("", ir))
