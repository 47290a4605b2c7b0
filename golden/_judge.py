"""Judging a stage program's output for one case: compile, run, measure, score.

T0..T2 outputs are compared with the golden artifact as text. T3..T5 outputs are programs:
they are built and run in a development sandbox (no network, hard limits) against the
case's stdin, exactly as the stage contracts describe, and scored on behaviour (and, for
T4, on instructions counted by callgrind against the reference count).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import stat
import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Self

from golden._builder import RUNTIME_DIR, CaseArtifacts
from golden._corpus import Case
from golden._reference import (
    CASE_MOUNT,
    INCLUDE_MOUNT,
    LIB_DIR,
    LLC_X86_MEASURE,
    MEASURED_BINARY,
    RUNTIME_OBJECTS,
    Stage,
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
from toolchain.sandbox import ExecLimits, Mount, Outcome, Sandbox, SandboxSpec, open_sandbox

__all__ = ["MAX_OUTPUT_BYTES", "Judge", "JudgeError"]

MAX_OUTPUT_BYTES = 256 << 20
_COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


class JudgeError(RampError):
    """The judging infrastructure itself failed (not the agent's output)."""


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

    def __enter__(self) -> Self:
        root = Path(tempfile.mkdtemp(prefix="ramp-judge-", dir="/tmp"))
        root.chmod(0o755)
        self._root = root
        case_dir, include_dir, work = root / "case", root / "include", root / "work"
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
        run, instructions = self._build_and_run(stage, golden, produced, len(expected))
        if stage is Stage.T4:
            return score_t4(
                expected, golden.expected_exit, run, golden.reference_instructions, instructions
            )
        return score_behaviour(expected, golden.expected_exit, run)

    def _build_and_run(
        self, stage: Stage, golden: CaseArtifacts, produced: Path, expected_size: int
    ) -> tuple[RunOutcome, int | None]:
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
            lib = f"../{LIB_DIR}"
            build = {
                Stage.T3: f"clang-19 out.ll {lib}/{RUNTIME_OBJECTS['x86']} -o prog",
                Stage.T4: (
                    f"{LLC_X86_MEASURE} out.ll -o out.s && "
                    f"clang-19 -static out.s {lib}/{RUNTIME_OBJECTS['x86-callgrind']} "
                    f"-o {MEASURED_BINARY}"
                ),
                Stage.T5: f"riscv64-linux-gnu-gcc -static out.s {lib}/{RUNTIME_OBJECTS['rv64']} -o prog",
            }[stage]
            compiled = box.exec(
                build,
                cwd=work_name,
                limits=ExecLimits(timeout_s=limits.compile_timeout_s or 10, memory_mb=2048),
            )
            if compiled.outcome is not Outcome.OK:
                diagnostic = compiled.stderr.strip() or compiled.detail
                return RunOutcome(build_ok=False, build_diagnostic=diagnostic[:2000]), None
            stdin = f"{CASE_MOUNT}/{case.name}.in" if case.stdin is not None else "/dev/null"
            redirect = f"< {shlex.quote(stdin)} > run.out"
            if stage is Stage.T4:
                command = (
                    measure_command(
                        MEASURED_BINARY, stdin, "run.out", "run.callgrind", timed=golden.timed
                    )
                    + "; exit $status"
                )
                timeout = limits.measure_timeout_s
            elif stage is Stage.T5:
                command, timeout = f"exec qemu-riscv64 ./prog {redirect}", limits.run_timeout_s
            else:
                command, timeout = f"exec ./prog {redirect}", limits.run_timeout_s
            file_mb = max(16, 2 * expected_size // (1 << 20) + 1)
            ran = box.exec(
                command,
                cwd=work_name,
                limits=ExecLimits(timeout_s=timeout or 10, memory_mb=2048, file_size_mb=file_mb),
            )
            stdout = _read_written(work / "run.out")
            instructions = None
            if stage is Stage.T4:
                measured = _read_written(work / "run.callgrind").decode(errors="replace")
                counted = _COLLECTED.search(measured)
                instructions = int(counted.group(1)) if counted else None
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
