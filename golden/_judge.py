"""Judging a stage program's output for one case: compile, run, measure, score.

T0..T2 outputs are compared with the golden artifact as text. T3..T5 outputs are programs:
they are built and run in a development sandbox (no network, hard limits) against the
case's stdin, exactly as the stage contracts describe, and scored on behaviour (and, for
T4, on instructions counted by callgrind against the reference count).
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Self

from golden._builder import RUNTIME_DIR, CaseArtifacts
from golden._corpus import Case
from golden._elf import ElfError, read_elf
from golden._interface import (
    InterfaceProblem,
    check_ir_text,
    check_object,
    refused_score,
)
from golden._measure import Layout, MeasureError, Measurement, count_instructions, layout_of
from golden._measure import timer_calls as read_timer_calls
from golden._reference import (
    CASE_MOUNT,
    INCLUDE_MOUNT,
    LIB_DIR,
    LLC_X86_MEASURE,
    MEASURED_BINARY,
    RUNTIME_OBJECTS,
    Stage,
    link_command,
    measure_command,
    runtime_script,
)
from golden._stages import stage_specs
from golden.scoring import (
    CaseScore,
    RunOutcome,
    score_behaviour,
    score_t0,
    score_t1,
    score_t2,
    score_t4,
)
from toolchain._errors import RampError
from toolchain._image import SANDBOX_GID, SANDBOX_UID
from toolchain._lifecycle import Closing
from toolchain._manifest import Profile
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
# T3 and T4 outputs are compiled to out.o (checked by the interface check) and linked with
# every symbol but main made local (golden._reference.link_command).
_BUILD = {
    Stage.T3: "clang-19 -c out.ll -o out.o && "
    + link_command("out.o", f"{_LIB}/{RUNTIME_OBJECTS['x86']}", "prog", static=False),
    Stage.T4: f"{LLC_X86_MEASURE} out.ll -o out.o && "
    + link_command(
        "out.o", f"{_LIB}/{RUNTIME_OBJECTS['x86-measure']}", MEASURED_BINARY, static=True
    ),
    Stage.T5: f"riscv64-linux-gnu-gcc -static out.s {_LIB}/{RUNTIME_OBJECTS['rv64']} -o prog",
}
_Measured = tuple[Measurement | None, str | None]
# The run step: a sandbox apart from the build, where only the built program and what runs
# it can be executed (toolchain.sandbox.ExecPolicy), never a compiler or an interpreter.
# T3 runs natively in the minimal environment, which holds no LLVM or clang at all (so the
# program cannot even map their libraries), under W^X; T4 and T5 need valgrind and qemu
# from the development environment, which translate code at run time (no W^X for them).
_RUN_MOUNT = "/ramp/out"
_LOADER = "/lib64/ld-linux-x86-64.so.2"
_RUN_PROFILES = {Stage.T3: Profile.MINIMAL, Stage.T4: Profile.DEV, Stage.T5: Profile.DEV}
_RUN_POLICIES = {
    Stage.T3: ExecPolicy(exec_paths=("/workspace", _LOADER)),
    Stage.T4: ExecPolicy(
        # measure_command's shell and tools, valgrind's launcher (a script), its binary
        # and tools; valgrind maps its client from the measuring directory under /tmp.
        exec_paths=(
            "/usr/bin/dash",
            "/usr/bin/mktemp",
            "/usr/bin/cp",
            "/usr/bin/rm",
            "/usr/bin/env",
            "/usr/bin/valgrind",
            "/usr/bin/valgrind.bin",
            "/usr/libexec/valgrind",
            _LOADER,
        ),
        deny_exec_memory=False,
        exec_tmp=True,
        # valgrind's tool makes the measured program's system calls: none may be an execve
        no_exec_from=("/usr/libexec/valgrind/callgrind-amd64-linux",),
    ),
    Stage.T5: ExecPolicy(exec_paths=("/usr/bin/qemu-riscv64", _LOADER), deny_exec_memory=False),
}


class JudgeError(RampError):
    """The judging infrastructure itself failed (not the agent's output)."""


class RefusedOutput(RampError):
    """A T3/T4 output breaks the interface (golden._interface): it is not run."""

    def __init__(self, problems: list[InterfaceProblem]) -> None:
        super().__init__("; ".join(problem.message for problem in problems))
        self.problems = problems


def _checked_build(stage: Stage, work: Path) -> Layout | None:
    """Check the object llc made (raises RefusedOutput); the T4 executable's layout."""
    if stage is Stage.T5 or not (work / "out.o").is_file():
        return None
    try:
        problems = check_object(read_elf(work / "out.o"))
        if problems:
            raise RefusedOutput(problems)
        if stage is Stage.T3 or not (work / MEASURED_BINARY).is_file():
            return None
        return layout_of(read_elf(work / MEASURED_BINARY))
    except (ElfError, MeasureError) as exc:
        problem = InterfaceProblem(message=f"the built program is unusable: {exc}")
        raise RefusedOutput([problem]) from exc


def _measured(work: Path, layout: Layout) -> _Measured:
    """The count of a finished T4 run and the runtime's record of its timer calls."""
    stderr = _read_written(work / "run.stderr").decode(errors="replace")
    try:
        callgrind = _read_written(work / "run.callgrind").decode(errors="replace")
        measurement = count_instructions(callgrind, layout)
    except MeasureError:
        measurement = None
    return measurement, read_timer_calls(stderr)


def _score_t4(
    expected: bytes, golden: CaseArtifacts, run: RunOutcome, measured: _Measured | None
) -> CaseScore:
    """T4's score under golden._measure's count; an escape from the counted code is tampering."""
    measurement, calls = measured or (None, None)
    if measurement is not None and measurement.escapes:
        problems = [InterfaceProblem(message=e, tamper=True) for e in measurement.escapes[:5]]
        return refused_score(problems)
    result = score_t4(
        expected,
        golden.expected_exit,
        run,
        golden.reference_instructions,
        measurement.counted if measurement else None,
        timer_calls=(golden.timer_calls, calls),
    )
    if measurement is None:
        return result
    parts = {"agent_own": measurement.agent, "agent_memory": measurement.memory}
    return result.model_copy(
        update={"details": result.details | parts | {"run_total": measurement.total}}
    )


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
        self._backend = backend
        self._root: Path | None = None
        self._box: Sandbox | None = None
        self._run_boxes: dict[Stage, Sandbox] = {}

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
        if stage in (Stage.T3, Stage.T4):
            problems = check_ir_text(_read_text(produced))
            if problems:
                return refused_score(problems)
        try:
            run, measured = self._build_and_run(stage, golden, produced, len(expected))
        except RefusedOutput as refused:
            return refused_score(refused.problems)
        if stage is Stage.T4:
            return _score_t4(expected, golden, run, measured)
        return score_behaviour(expected, golden.expected_exit, run)

    def _build_and_run(
        self, stage: Stage, golden: CaseArtifacts, produced: Path, expected_size: int
    ) -> tuple[RunOutcome, _Measured | None]:
        box, root = self._box, self._root
        if box is None or root is None:
            raise JudgeError("the judge is not open; use it as a context manager")
        limits = stage_specs()[stage].limits
        case = self._cases[golden.name]
        work_name = f"{golden.name}-{stage.value}-{uuid.uuid4().hex[:8]}"
        work = root / "work" / work_name
        work.mkdir()
        try:
            suffix = ".s" if stage is Stage.T5 else ".ll"
            if not produced.is_file():
                return RunOutcome(
                    build_ok=False, build_diagnostic="no output file was written"
                ), None
            shutil.copyfile(produced, work / f"out{suffix}")
            if os.geteuid() == 0:
                for path in (work, *work.iterdir()):
                    os.chown(path, SANDBOX_UID, SANDBOX_GID)
            compiled = box.exec(
                _BUILD[stage],
                cwd=work_name,
                limits=ExecLimits(timeout_s=limits.compile_timeout_s or 10, memory_mb=2048),
            )
            layout = _checked_build(stage, work)
            if compiled.outcome is not Outcome.OK:
                diagnostic = compiled.stderr.strip() or compiled.detail
                return RunOutcome(build_ok=False, build_diagnostic=diagnostic[:2000]), None
            out = root / "out" / work_name
            out.mkdir()
            if os.geteuid() == 0:
                os.chown(out, SANDBOX_UID, SANDBOX_GID)
            ran = self._run(stage, case, work_name, expected_size)
            stdout = _read_written(out / "run.out")
            instructions = _measured(out, layout) if layout is not None else None
            return (
                RunOutcome(
                    stdout=stdout,
                    exit_code=ran.exit_code,
                    timed_out=ran.outcome is Outcome.TIMEOUT,
                    detail=ran.detail,
                ),
                instructions,
            )
        finally:
            shutil.rmtree(work, ignore_errors=True)
            shutil.rmtree(root / "out" / work_name, ignore_errors=True)

    def _run(self, stage: Stage, case: Case, work_name: str, expected_size: int) -> ExecResult:
        """Run the program built in ``work_name`` in the stage's run sandbox.

        Its outputs go to /ramp/out/<work_name> (writable, noexec); the built program is
        seen read-only under /workspace. T3 and T5 need no shell: the exec-policy launcher
        opens stdin and stdout itself, so the program can execute nothing but itself.
        """
        limits = stage_specs()[stage].limits
        stdin = f"{CASE_MOUNT}/{case.name}.in" if case.stdin is not None else "/dev/null"
        out = f"{_RUN_MOUNT}/{work_name}"
        file_mb = max(16, 2 * expected_size // (1 << 20) + 1)
        run_limits = ExecLimits(
            timeout_s=(limits.measure_timeout_s if stage is Stage.T4 else limits.run_timeout_s)
            or 10,
            memory_mb=2048,
            file_size_mb=file_mb,
        )
        box = self._run_box(stage)
        if stage is Stage.T4:
            files = (f"{out}/run.out", f"{out}/run.callgrind", f"{out}/run.stderr")
            command = measure_command(MEASURED_BINARY, stdin, *files) + "; exit $status"
            return box.exec(command, cwd=work_name, limits=run_limits)
        argv = ["qemu-riscv64", "./prog"] if stage is Stage.T5 else ["./prog"]
        return box.exec(
            argv,
            cwd=work_name,
            limits=run_limits,
            stdin_file=stdin,
            stdout_file=f"{out}/run.out",
        )

    def _run_box(self, stage: Stage) -> Sandbox:
        """The stage's run sandbox, opened at its first use."""
        root = self._root
        if root is None:
            raise JudgeError("the judge is not open; use it as a context manager")
        if stage not in self._run_boxes:
            spec = SandboxSpec(
                profile=_RUN_PROFILES[stage],
                workspace_writable=False,
                limits=ExecLimits(
                    timeout_s=60, memory_mb=4096, pids=512, cpus=float(os.cpu_count() or 1)
                ),
                mounts=(
                    Mount(source=root / "case", target=CASE_MOUNT),
                    Mount(source=root / "out", target=_RUN_MOUNT, writable=True),
                ),
                labels={"io.ramp.purpose": "judge-run"},
                exec_policy=_RUN_POLICIES[stage],
            )
            self._run_boxes[stage] = open_sandbox(root / "work", self._backend, spec)
        return self._run_boxes[stage]
