"""Judging a stage program's output for one case: compile, run, measure, score.

T0..T2 outputs are compared with the golden artifact as text. T3..T5 outputs are programs:
they are built and run in a development sandbox (no network, hard limits) against the
case's stdin, exactly as the stage contracts describe, and scored on behaviour: stdout, exit
code and the timer calls the runtime records (and, for T4, on instructions counted by
callgrind against the baseline and reference counts). On the cases T4 only checks
(functional ones, golden._stages.case_roles) a T4 output is built and run natively like a
T3 output: right, or a 0 in the stage's mean.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import uuid
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Self

from golden._builder import RUNTIME_DIR, CaseArtifacts
from golden._corpus import Case
from golden._elf import ElfError, read_elf
from golden._interface import (
    MAX_IR_CHARS,
    InterfaceProblem,
    check_ir_text,
    check_object,
    decode_ir,
    refused_score,
)
from golden._measure import (
    DumpTampered,
    Layout,
    MeasureError,
    Measurement,
    count_instructions,
    layout_of,
)
from golden._reference import (
    CALLGRIND_ENVIRONMENT,
    CALLGRIND_TOOL,
    CASE_MOUNT,
    INCLUDE_MOUNT,
    LIB_DIR,
    LLC_X86_MEASURE,
    MEASURE_DIR_CHARS,
    MEASURED_BINARY,
    QEMU_RV64,
    RUNTIME_OBJECTS,
    Stage,
    link_command,
    measure_argv,
    runtime_script,
)
from golden._stages import CaseRole, case_roles, stage_specs
from golden.scoring import (
    CaseScore,
    RunOutcome,
    read_timer_calls,
    score_program,
    score_t0,
    score_t1,
    score_t2,
    score_t4,
    score_t4_gate,
)
from toolchain import (
    SANDBOX_GID,
    SANDBOX_UID,
    WORKSPACE_MOUNT,
    Closing,
    Profile,
    RampError,
    hand_over,
    make_owned_dir,
    write_owned,
)
from toolchain.sandbox import (
    ExecLimits,
    ExecPolicy,
    ExecResult,
    Mount,
    Outcome,
    Sandbox,
    SandboxSpec,
    open_sandbox,
)

__all__ = ["MAX_OUTPUT_BYTES", "Judge", "JudgeError"]

MAX_OUTPUT_BYTES = 256 << 20
_LIB = f"../{LIB_DIR}"


class _How(StrEnum):
    """How a stage output is built and run."""

    NATIVE = "native"  # T3: clang, the x86 runtime, run natively
    CHECKED = "checked"  # T4 on a case it only checks: llc -O2, the x86 runtime, natively
    MEASURED = "measured"  # T4: llc -O2, the measurement runtime, under callgrind
    RV64 = "rv64"  # T5: the RV64 runtime, under qemu


_STAGE_HOW = {Stage.T3: _How.NATIVE, Stage.T4: _How.MEASURED, Stage.T5: _How.RV64}
# T3 and T4 outputs are IR text (golden._interface.decode_ir) assembled by llvm-as, which
# reads nothing else, so what is built is the text the interface check read; compiled to
# out.o (checked by the interface check) and linked statically with every symbol but main
# made local (golden._reference.link_command): no ELF loader runs them.
_ASSEMBLE = "llvm-as-19 out.ll -o out.bc"
_X86_LINK = link_command("out.o", f"{_LIB}/{RUNTIME_OBJECTS['x86']}", "prog", static=True)
_BUILD = {
    _How.NATIVE: f"{_ASSEMBLE} && clang-19 -c out.bc -o out.o && {_X86_LINK}",
    _How.CHECKED: f"{_ASSEMBLE} && {LLC_X86_MEASURE} out.bc -o out.o && {_X86_LINK}",
    _How.MEASURED: f"{_ASSEMBLE} && {LLC_X86_MEASURE} out.bc -o out.o && "
    + link_command(
        "out.o", f"{_LIB}/{RUNTIME_OBJECTS['x86-measure']}", MEASURED_BINARY, static=True
    ),
    _How.RV64: f"riscv64-linux-gnu-gcc -static out.s {_LIB}/{RUNTIME_OBJECTS['rv64']} -o prog",
}
# What a run leaves besides stdout: the count (T4 measured) and the runtime's timer record.
_Ran = tuple[RunOutcome, Measurement | None, str | None]
# The run step: a sandbox apart from the build, where exactly one static program may be
# executed (toolchain.sandbox.ExecPolicy): the built program itself, callgrind's tool or
# the static qemu, never an ELF loader, a compiler or an interpreter. Every command writes
# only its own files (the launcher opens them) and /tmp, and makes, renames or removes no
# other file. T3 runs natively in the minimal environment, which holds no LLVM or clang at
# all, statically linked, with no executable mapping allowed (no loader can run, not one
# the program carries); T4 and T5 need valgrind and qemu from the development environment,
# which translate code at run time (no W^X for them). T3 and T4 programs are solitary: one
# process that dies (SIGSYS) if it forks, signals another process, changes file modes,
# makes FIFOs or links, or restricts itself further; valgrind's tool cannot execve.
_RUN_MOUNT = "/ramp/out"
_QEMU = f"/usr/bin/{QEMU_RV64}"
_RUN_PROFILES = {
    _How.NATIVE: Profile.MINIMAL,
    _How.CHECKED: Profile.MINIMAL,
    _How.MEASURED: Profile.DEV,
    _How.RV64: Profile.DEV,
}
_NATIVE_POLICY = ExecPolicy(
    exec_paths=(WORKSPACE_MOUNT,),
    exec_command_only=True,
    static_command=True,
    own_files_only=True,
    solitary=True,
)
_RUN_POLICIES = {
    _How.NATIVE: _NATIVE_POLICY,
    _How.CHECKED: _NATIVE_POLICY,
    _How.MEASURED: ExecPolicy(
        exec_paths=(CALLGRIND_TOOL,),
        exec_command_only=True,
        deny_exec_memory=False,
        own_files_only=True,
        solitary=True,
        # valgrind's tool makes the measured program's system calls: none may be an execve
        no_exec_from=(CALLGRIND_TOOL,),
    ),
    _How.RV64: ExecPolicy(
        exec_paths=(_QEMU,), exec_command_only=True, deny_exec_memory=False, own_files_only=True
    ),
}
# Work directories have names of one length, so the measured program's working directory
# is as long as the golden build's (golden._reference.MEASURE_DIR_CHARS).
_WORK_NAME_CHARS = MEASURE_DIR_CHARS - len(WORKSPACE_MOUNT) - 1


class JudgeError(RampError):
    """The judging infrastructure itself failed (not the agent's output)."""


class RefusedOutput(RampError):
    """A T3/T4 output breaks the interface (golden._interface): it is not run."""

    def __init__(self, problems: list[InterfaceProblem]) -> None:
        super().__init__("; ".join(problem.message for problem in problems))
        self.problems = problems


def _checked_build(how: _How, work: Path) -> Layout | None:
    """Check the object llc made (raises RefusedOutput); the T4 executable's layout."""
    if how is _How.RV64 or not (work / "out.o").is_file():
        return None
    try:
        problems = check_object(read_elf(work / "out.o"))
        if problems:
            raise RefusedOutput(problems)
        if how is not _How.MEASURED or not (work / MEASURED_BINARY).is_file():
            return None
        return layout_of(read_elf(work / MEASURED_BINARY))
    except (ElfError, MeasureError) as exc:
        problem = InterfaceProblem(message=f"the built program is unusable: {exc}")
        raise RefusedOutput([problem]) from exc


def _measured(work: Path, layout: Layout | None) -> Measurement | None:
    """The count of a finished T4 run (None when there is no usable callgrind output; one
    with nothing counted and the reason as an escape, i.e. tampering, when the program wrote
    into the output callgrind appended its dump to)."""
    if layout is None:
        return None
    try:
        callgrind = _read_written(work / "run.callgrind").decode(errors="replace")
        return count_instructions(callgrind, layout)
    except DumpTampered as exc:
        return Measurement(counted=0, agent=0, memory=0, total=0, escapes=(str(exc),))
    except MeasureError:
        return None


def _score_t4(expected: bytes, golden: CaseArtifacts, ran: _Ran) -> CaseScore:
    """T4's score under golden._measure's count; an escape from the counted code is tampering."""
    run, measurement, calls = ran
    if measurement is not None and measurement.escapes:
        problems = [InterfaceProblem(message=e, tamper=True) for e in measurement.escapes[:5]]
        return refused_score(problems)
    result = score_t4(
        expected,
        golden.expected_exit,
        run,
        golden.reference_instructions,
        measurement.charged(golden.runtime_instructions) if measurement else None,
        baseline_instructions=golden.baseline_instructions,
        timer_calls=(golden.timer_calls, calls),
    )
    if measurement is None:
        return result
    parts = {
        "agent_own": measurement.agent,
        "agent_memory": measurement.memory,
        "charged_outside": measurement.charged(golden.runtime_instructions) - measurement.counted,
    }
    return result.model_copy(
        update={"details": result.details | parts | {"run_total": measurement.total}}
    )


def _read_output(path: Path) -> bytes | None:
    """A stage program's T3..T5 output (None if there is none); a larger one than any
    module may be is cut, which the checks then refuse or the build fails on."""
    try:
        with path.open("rb") as handle:
            return handle.read(MAX_IR_CHARS + 1)
    except (FileNotFoundError, IsADirectoryError):
        return None


def _read_text(path: Path) -> str:
    if not path.is_file():
        return ""
    if path.stat().st_size > MAX_OUTPUT_BYTES:
        return ""
    return path.read_text(encoding="utf-8", errors="replace")


def _read_written(path: Path) -> bytes:
    """A file the judged program could change: read only if it is a regular file there.

    The program runs in ``path``'s directory and may have replaced the file with a symlink
    to a host file (the expected output, say), which this process must not follow.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return b""
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return b""
        return handle.read(MAX_OUTPUT_BYTES)


class Judge(Closing):
    """One sandbox for judging many outputs; use as a context manager."""

    def __init__(self, cases: Sequence[Case], *, backend: str = "auto") -> None:
        self._cases = {case.name: case for case in cases}
        # T4 scores the performance cases and only checks the others (when there are any).
        self._t4_roles = case_roles(Stage.T4, cases)
        self._backend = backend
        self._root: Path | None = None
        self._box: Sandbox | None = None
        self._run_boxes: dict[_How, Sandbox] = {}

    def __enter__(self) -> Self:
        root = Path(tempfile.mkdtemp(prefix="ramp-judge-", dir="/tmp"))
        root.chmod(0o755)
        self._root = root
        case_dir, include_dir, work = root / "case", root / "include", root / "work"
        (root / "out").mkdir(mode=0o755)
        for directory in (case_dir, include_dir, work):
            directory.mkdir(mode=0o755)
        for case in self._cases.values():
            if case.stdin is not None:
                shutil.copyfile(case.stdin, case_dir / f"{case.name}.in")
        for name in ("sylib.h", "sylib.c"):
            shutil.copyfile(RUNTIME_DIR / name, include_dir / name)
        spec = SandboxSpec(
            profile=Profile.DEV,
            limits=ExecLimits(
                timeout_s=60, memory_mb=4096, pids=512, cpus=float(os.cpu_count() or 1)
            ),
            mounts=(
                Mount(source=case_dir, target=CASE_MOUNT),
                Mount(source=include_dir, target=INCLUDE_MOUNT),
            ),
            labels={"io.ramp.purpose": "judge"},
        )
        try:
            self._box = open_sandbox(work, self._backend, spec)
            built = self._box.exec(runtime_script())
        except RampError:
            self.close()
            raise
        if built.outcome is not Outcome.OK:
            self.close()
            raise JudgeError(f"building the runtime for judging failed: {built.stderr[-2000:]}")
        return self

    def close(self) -> None:
        while self._run_boxes:
            self._run_boxes.popitem()[1].close()
        if self._box is not None:
            self._box.close()
            self._box = None
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None

    def judge(self, stage: Stage, golden: CaseArtifacts, produced: Path) -> CaseScore:
        """Score ``produced`` (the stage program's output file) for ``golden``'s case."""
        if stage is Stage.T0:
            return score_t0(_read_text(golden.artifacts[Stage.T0]), _read_text(produced))
        if stage is Stage.T1:
            return score_t1(_read_text(golden.artifacts[Stage.T1]), _read_text(produced))
        if stage is Stage.T2:
            return score_t2(_read_text(golden.artifacts[Stage.T2]), _read_text(produced))
        expected = golden.expected_stdout.read_bytes()
        source = _read_output(produced)
        if stage in (Stage.T3, Stage.T4) and source is not None:
            text, problems = decode_ir(source)
            problems = problems or check_ir_text(text)
            if problems:
                return refused_score(problems)
        how = self._how(stage, golden.name)
        try:
            ran = self._build_and_run(stage, how, golden, source, len(expected))
        except RefusedOutput as refused:
            return refused_score(refused.problems)
        calls = (golden.timer_calls, ran[2])
        if how is _How.MEASURED:
            return _score_t4(expected, golden, ran)
        if how is _How.CHECKED:
            return score_t4_gate(expected, golden.expected_exit, ran[0], timer_calls=calls)
        return score_program(expected, golden.expected_exit, ran[0], timer_calls=calls)

    def _how(self, stage: Stage, name: str) -> _How:
        if stage is Stage.T4 and self._t4_roles.get(name) is CaseRole.CHECKED:
            return _How.CHECKED
        return _STAGE_HOW[stage]

    def _build_and_run(
        self,
        stage: Stage,
        how: _How,
        golden: CaseArtifacts,
        source: bytes | None,
        expected_size: int,
    ) -> _Ran:
        """Build ``source`` (the output's bytes, as checked) and run it for ``golden``'s case."""
        box, root = self._box, self._root
        if box is None or root is None:
            raise JudgeError("the judge is not open; use it as a context manager")
        limits = stage_specs()[stage].limits
        case = self._cases[golden.name]
        work_name = f"{stage.value}-{uuid.uuid4().hex}"[:_WORK_NAME_CHARS]
        work = root / "work" / work_name
        work.mkdir()
        try:
            suffix = ".s" if stage is Stage.T5 else ".ll"
            if source is None:
                missing = RunOutcome(build_ok=False, build_diagnostic="no output file was written")
                return missing, None, None
            # The output is the sandbox user's from its creation; its directory becomes
            # theirs only once the output is in it.
            write_owned(work / f"out{suffix}", source, SANDBOX_UID, SANDBOX_GID, mode=0o666)
            hand_over(work, SANDBOX_UID, SANDBOX_GID)
            compiled = box.exec(
                _BUILD[how],
                cwd=work_name,
                limits=ExecLimits(timeout_s=limits.compile_timeout_s or 10, memory_mb=2048),
            )
            layout = _checked_build(how, work)
            if compiled.outcome is not Outcome.OK:
                diagnostic = compiled.stderr.strip() or compiled.detail
                return RunOutcome(build_ok=False, build_diagnostic=diagnostic[:2000]), None, None
            out = root / "out" / work_name
            make_owned_dir(out, SANDBOX_UID, SANDBOX_GID)
            ran = self._run(stage, how, case, work_name, expected_size)
            run = RunOutcome(
                stdout=_read_written(out / "run.out"),
                exit_code=ran.exit_code,
                timed_out=ran.outcome is Outcome.TIMEOUT,
                detail=ran.detail,
            )
            if how is _How.MEASURED:
                stderr = _read_written(out / "run.stderr").decode(errors="replace")
                return run, _measured(out, layout), read_timer_calls(stderr)
            return run, None, read_timer_calls(ran.stderr)
        finally:
            shutil.rmtree(work, ignore_errors=True)
            shutil.rmtree(root / "out" / work_name, ignore_errors=True)

    def _run(
        self, stage: Stage, how: _How, case: Case, work_name: str, expected_size: int
    ) -> ExecResult:
        """Run the program built in ``work_name`` in the stage's run sandbox.

        Its outputs go to /ramp/out/<work_name> (noexec, and written only through what the
        launcher opened); the built program is seen read-only under /workspace. No run needs
        a shell: the exec-policy launcher opens stdin, stdout (and for T4 stderr and the
        dump) itself and starts the one program allowed, with an empty environment. Native
        and RV64 stderr (the runtime's timer record) comes back in the result.
        """
        limits = stage_specs()[stage].limits
        stdin = f"{CASE_MOUNT}/{case.name}.in" if case.stdin is not None else "/dev/null"
        out = f"{_RUN_MOUNT}/{work_name}"
        file_mb = max(16, 2 * expected_size // (1 << 20) + 1)
        run_limits = ExecLimits(
            timeout_s=(limits.measure_timeout_s if how is _How.MEASURED else limits.run_timeout_s)
            or 10,
            memory_mb=2048,
            file_size_mb=file_mb,
        )
        box = self._run_box(how)
        if how is _How.MEASURED:
            # callgrind's tool itself, from the program's read-only directory, no shell: the
            # launcher makes the dump file (nothing in the run can make, replace or remove
            # a file there) and opens the others; the judge reads them when the run is over
            dump = f"{out}/run.callgrind"
            return box.exec(
                measure_argv(dump),
                cwd=work_name,
                env=CALLGRIND_ENVIRONMENT,
                clear_env=True,
                limits=run_limits,
                stdin_file=stdin,
                stdout_file=f"{out}/run.out",
                stderr_file=f"{out}/run.stderr",
                create_files=(dump,),
            )
        argv = [_QEMU, "./prog"] if how is _How.RV64 else ["./prog"]
        return box.exec(
            argv,
            cwd=work_name,
            clear_env=True,
            limits=run_limits,
            stdin_file=stdin,
            stdout_file=f"{out}/run.out",
        )

    def _run_box(self, how: _How) -> Sandbox:
        """The run sandbox for ``how``, opened at its first use (native runs share one)."""
        root = self._root
        if root is None:
            raise JudgeError("the judge is not open; use it as a context manager")
        how = _How.NATIVE if how is _How.CHECKED else how
        if how not in self._run_boxes:
            spec = SandboxSpec(
                profile=_RUN_PROFILES[how],
                workspace_writable=False,
                limits=ExecLimits(
                    timeout_s=60, memory_mb=4096, pids=512, cpus=float(os.cpu_count() or 1)
                ),
                mounts=(
                    Mount(source=root / "case", target=CASE_MOUNT),
                    Mount(source=root / "out", target=_RUN_MOUNT, writable=True),
                ),
                labels={"io.ramp.purpose": "judge-run"},
                exec_policy=_RUN_POLICIES[how],
            )
            self._run_boxes[how] = open_sandbox(root / "work", self._backend, spec)
        return self._run_boxes[how]
