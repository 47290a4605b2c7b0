"""Grading a workspace: snapshot, build, run the chain on the hidden cases, judge, score.

For a stage k and a case, the **chained** input is what the agent's own stage k-1 program
produced from its own upstream chain, except where an earlier stage is resurrected: there
the golden artifact is used. The **isolated** input is always the golden artifact of stage
k-1. Stage programs run in the minimal environment (T0: the development environment, for
the preprocessor) with the snapshot read-only; the grader's own steps (compiling IR,
linking RV64, qemu, callgrind) run apart from them in the judge's sandbox.
"""

from __future__ import annotations

import os
import shutil
import stat
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pydantic import BaseModel, Field

from golden import (
    CASE_MOUNT,
    INCLUDE_MOUNT,
    PASS_THRESHOLD,
    Case,
    CaseArtifacts,
    Split,
    Stage,
    build_golden,
    builtin_corpus,
    stage_specs,
)
from golden._builder import RUNTIME_DIR
from golden._judge import Judge
from golden._stages import Environment
from grader._integrity import Finding, FindingKind, scan_workspace
from toolchain._errors import RampError
from toolchain._image import FINDINGS_MOUNT
from toolchain._manifest import Profile
from toolchain._paths import ramp_home
from toolchain.sandbox import ExecLimits, Mount, Outcome, SandboxSpec, open_sandbox

__all__ = [
    "CaseOutcome",
    "GradeReport",
    "GradingError",
    "StageGrade",
    "grade_workspace",
    "hidden_cases",
    "public_cases",
]

STAGES = tuple(Stage)
_BUILD_LIMITS = ExecLimits(timeout_s=600, memory_mb=4096, pids=512, output_bytes=256 << 10)
_OUTPUT_FILE_MB = 1024
# build.sh writes into the snapshot, on the host's disk: past this it is stopped.
_BUILD_DISK_MB = 2048
# Stage programs write to the host's disk too: what one stage's outputs may hold in all
# (the reference outputs of the whole corpus take well under 1 GB for any stage), and
# what the outputs being written at one time may hold.
_CHAIN_OUTPUT_BYTES = 4 << 30
_CHAIN_DISK_MB = 3072


class GradingError(RampError):
    """Grading could not be carried out (infrastructure, not the agent's work)."""


class CaseOutcome(BaseModel):
    case: str
    score: float
    diagnosis: str
    details: dict[str, float | int | str] = Field(default_factory=dict)


class StageGrade(BaseModel):
    stage: Stage
    chained_score: float
    isolated_score: float
    passed: bool
    resurrected: bool = False
    propagation_loss: float
    chained: list[CaseOutcome]
    isolated: list[CaseOutcome]
    duration_s: float


class GradeReport(BaseModel):
    stages: list[StageGrade]
    integrity_findings: list[Finding]
    build_ok: bool
    build_log_tail: str
    cases: int
    duration_s: float


def hidden_cases() -> tuple[Case, ...]:
    return tuple(c for c in builtin_corpus() if c.split is Split.HIDDEN)


def public_cases() -> tuple[Case, ...]:
    return tuple(c for c in builtin_corpus() if c.split is Split.PUBLIC)


def _scratch(parent: Path, name: str) -> Path:
    path = parent / name
    path.mkdir(parents=True, mode=0o755)
    path.chmod(0o755)
    return path


def _require_build_script(workspace: Path) -> None:
    if not (workspace / "build.sh").is_file():
        raise GradingError(
            f"{workspace} has no build.sh at its root; the workspace contract requires one"
        )


def _snapshot(workspace: Path, target: Path) -> None:
    """A private copy: the agent cannot change what is graded while it is graded."""
    _require_build_script(workspace)
    shutil.copytree(workspace, target, symlinks=True, dirs_exist_ok=True)


def _mean(outcomes: Iterable[CaseOutcome]) -> float:
    scores = [o.score for o in outcomes]
    return round(sum(scores) / len(scores), 4) if scores else 0.0


class _Chain:
    """Runs the agent's stage programs over all cases, one sandbox per stage and input set."""

    def __init__(
        self, snapshot: Path, work: Path, cases: Sequence[Case], backend: str, jobs: int
    ) -> None:
        self.snapshot = snapshot
        self.work = work
        self.cases = cases
        self.backend = backend
        self.jobs = jobs
        self.findings: list[Finding] = []
        self.sources = _scratch(work, "sources")
        for case in cases:
            shutil.copyfile(case.source, self.sources / f"{case.name}.sy")

    def run(self, stage: Stage, inputs: dict[str, Path], label: str) -> dict[str, Path | str]:
        """Run bin/tN for every case; an output path, or why there is none."""
        spec_stage = stage_specs()[stage]
        input_dir = _scratch(self.work, f"{label}-{stage.value}-in")
        output_dir = _scratch(self.work, f"{label}-{stage.value}-out")
        findings_dir = _scratch(self.work, f"{label}-{stage.value}-findings")
        # Outputs are moved here, out of the program's reach, before anything reads them.
        private = self.work / f"{label}-{stage.value}-claimed"
        private.mkdir(mode=0o700)
        suffix_in = spec_stage.input.suffix
        for name, path in inputs.items():
            if stage is not Stage.T0:
                shutil.copyfile(path, input_dir / f"{name}{suffix_in}")
        mounts = [
            Mount(source=RUNTIME_DIR, target=INCLUDE_MOUNT),
            Mount(source=output_dir, target="/ramp/output", writable=True),
            Mount(source=findings_dir, target=FINDINGS_MOUNT, writable=True),
        ]
        if stage is Stage.T0:
            mounts.append(Mount(source=self.sources, target=CASE_MOUNT))
        else:
            mounts.append(Mount(source=input_dir, target="/ramp/input"))
        profile = (
            Profile.DEV if spec_stage.environment is Environment.DEVELOPMENT else Profile.MINIMAL
        )
        limits = ExecLimits(
            timeout_s=spec_stage.limits.program_timeout_s,
            memory_mb=spec_stage.limits.program_memory_mb,
            file_size_mb=_OUTPUT_FILE_MB,
            output_bytes=64 << 10,
        )
        spec = SandboxSpec(
            profile=profile,
            workspace_writable=False,
            limits=limits.merged(cpus=float(self.jobs)),
            mounts=tuple(mounts),
            labels={"io.ramp.purpose": "grading"},
            disk_mb=_CHAIN_DISK_MB,
        )
        program = f"bin/{stage.value.lower()}"
        suffix_out = spec_stage.output.suffix
        results: dict[str, Path | str] = {}
        budget, budget_lock = [_CHAIN_OUTPUT_BYTES], threading.Lock()
        with open_sandbox(self.snapshot, self.backend, spec) as box:

            def one(name: str) -> tuple[str, Path | str]:
                source = (
                    f"{CASE_MOUNT}/{name}.sy"
                    if stage is Stage.T0
                    else f"/ramp/input/{name}{suffix_in}"
                )
                output = output_dir / f"{name}{suffix_out}"
                ran = box.exec([program, source, f"/ramp/output/{name}{suffix_out}"], limits=limits)
                if ran.outcome is not Outcome.OK:
                    output.unlink(missing_ok=True)
                    why = "timed out" if ran.outcome is Outcome.TIMEOUT else ran.detail
                    return name, f"{program} failed: {why}"
                claimed = _claim_output(output, private / output.name)
                if isinstance(claimed, Path):
                    size = claimed.stat().st_size
                    with budget_lock:
                        budget[0] -= size
                        over = budget[0] < 0
                    if over:
                        claimed.unlink()
                        return name, (
                            f"{program} failed: its outputs for this stage exceed "
                            f"{_CHAIN_OUTPUT_BYTES >> 20} MB in all"
                        )
                    return name, claimed
                return name, f"{program} wrote no output file" + (f": {claimed}" if claimed else "")

            with ThreadPoolExecutor(max_workers=self.jobs) as pool:
                results = dict(pool.map(one, inputs))
        calls = _claim_output(findings_dir / "toolchain-calls", private / "toolchain-calls")
        if isinstance(calls, str):
            self.findings.append(
                Finding(
                    kind=FindingKind.TOOLCHAIN_CALL,
                    stage=stage.value,
                    detail=f"{program} tampered with the record of toolchain calls ({calls})",
                )
            )
        elif isinstance(calls, Path):
            called = sorted(set(calls.read_text(errors="replace").split()))
            self.findings.append(
                Finding(
                    kind=FindingKind.TOOLCHAIN_CALL,
                    stage=stage.value,
                    detail=f"{program} tried to run the reference toolchain ({', '.join(called)[:200]})",
                )
            )
        return results


def _claim_output(written: Path, private: Path) -> Path | str | None:
    """Move a file the stage program wrote out of its reach: the private path, why it is
    not usable, or None when there is none.

    The program may leave a symlink (to any host file, which root would then read), a
    FIFO (which would block the reader) or a file it keeps writing to; only a regular
    file, renamed into a directory it cannot see, is taken.
    """
    try:
        written.rename(private)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"{written.name} could not be taken ({exc.strerror})"
    info = private.lstat()
    if not stat.S_ISREG(info.st_mode):
        kind = "a symlink" if stat.S_ISLNK(info.st_mode) else "not a regular file"
        return f"{written.name} is {kind}"
    return private


def _judge_all(
    judge: Judge,
    stage: Stage,
    golden: dict[str, CaseArtifacts],
    produced: dict[str, Path | str],
    jobs: int,
) -> list[CaseOutcome]:
    def one(name: str) -> CaseOutcome:
        result = produced[name]
        if isinstance(result, str):
            return CaseOutcome(case=name, score=0.0, diagnosis=result)
        scored = judge.judge(stage, golden[name], result)
        return CaseOutcome(
            case=name, score=scored.score, diagnosis=scored.diagnosis, details=scored.details
        )

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return sorted(pool.map(one, produced), key=lambda o: o.case)


def grade_workspace(
    workspace: Path,
    stages: Sequence[Stage] = STAGES,
    *,
    cases: Sequence[Case] | None = None,
    resurrected: Iterable[Stage] = (),
    auto_resurrect: bool = True,
    backend: str = "auto",
    jobs: int | None = None,
    pass_threshold: float = PASS_THRESHOLD,
    on_progress: Callable[[str], None] | None = None,
) -> GradeReport:
    """Grade ``stages`` of ``workspace`` on ``cases`` (default: the hidden set).

    ``resurrected`` stages use golden artifacts downstream; with ``auto_resurrect`` a stage
    graded here whose chained score is below the threshold is resurrected for the stages
    after it, as the protocol does.
    """
    started = time.monotonic()
    say = on_progress or (lambda _message: None)
    chosen = tuple(cases) if cases is not None else hidden_cases()
    jobs = jobs or os.cpu_count() or 2
    wanted = sorted(set(stages), key=STAGES.index)
    if not wanted:
        raise GradingError("no stage to grade; give at least one of T0..T5")
    _require_build_script(workspace)
    say("golden artifacts")
    golden_build = build_golden(chosen, backend=backend)
    if golden_build.failures:
        raise GradingError(f"golden artifacts could not be built: {golden_build.failures}")
    golden = {c.name: c for c in golden_build.cases}
    graded_kinds = {s: set(stage_specs()[s].graded_kinds) for s in wanted}
    root = ramp_home() / "grading" / uuid.uuid4().hex[:12]
    root.mkdir(parents=True)
    root.chmod(0o755)
    try:
        snapshot = _scratch(root, "snapshot")
        _snapshot(workspace, snapshot)
        findings = scan_workspace(snapshot)
        say("build.sh")
        build_spec = SandboxSpec(profile=Profile.DEV, limits=_BUILD_LIMITS, disk_mb=_BUILD_DISK_MB)
        with open_sandbox(snapshot, backend, build_spec) as box:
            built = box.exec(["./build.sh"])
        build_ok = built.outcome is Outcome.OK
        build_tail = (built.stdout + built.stderr)[-4000:]
        if build_ok:
            findings = _merge(findings, scan_workspace(snapshot))
        else:
            findings.append(
                Finding(kind=FindingKind.BUILD_FAILED, detail=f"build.sh: {built.detail}")
            )
        blocked = {f.kind for f in findings} & {
            FindingKind.TOOLCHAIN_COPY,
            FindingKind.WORKSPACE_TOO_LARGE,
        }
        chain = _Chain(snapshot, _scratch(root, "work"), chosen, backend, jobs)
        sources = {c.name: c.source for c in chosen}
        effective = set(resurrected)
        grades: list[StageGrade] = []
        previous_chain: dict[str, Path | str] = {}
        with Judge(chosen, backend=backend) as judge:
            for stage in STAGES[: STAGES.index(wanted[-1]) + 1]:
                stage_started = time.monotonic()
                index = STAGES.index(stage)
                before = STAGES[index - 1] if index else None
                golden_inputs: dict[str, Path | str] = (
                    dict(sources)
                    if before is None
                    else {n: g.artifacts[before] for n, g in golden.items()}
                )
                from_golden = before is None or before in effective
                chained_inputs = golden_inputs if from_golden else previous_chain
                runnable = {n: p for n, p in chained_inputs.items() if isinstance(p, Path)}
                say(f"{stage.value}: running the chain")
                if build_ok and not blocked:
                    outputs = chain.run(stage, runnable, "chained")
                else:
                    outputs = {
                        n: "the workspace was not graded (see the integrity findings)"
                        for n in sources
                    }
                for name, value in chained_inputs.items():
                    if isinstance(value, str):
                        outputs[name] = f"no input: the upstream stage failed ({value})"
                previous_chain = outputs
                if stage not in wanted:
                    continue
                in_scope = {c.name for c in chosen if c.kind in graded_kinds[stage]}
                if not in_scope:
                    # A case set without the stage's kinds (a user's --cases DIR, say):
                    # grade the stage on all of it rather than on nothing.
                    in_scope = {c.name for c in chosen}
                say(f"{stage.value}: judging")
                chained = _judge_all(judge, stage, golden, {n: outputs[n] for n in in_scope}, jobs)
                if from_golden:
                    isolated = chained
                else:
                    isolated_outputs: dict[str, Path | str]
                    if build_ok and not blocked:
                        isolated_outputs = chain.run(
                            stage,
                            {n: p for n in in_scope if isinstance(p := golden_inputs[n], Path)},
                            "isolated",
                        )
                    else:
                        isolated_outputs = {n: "the workspace was not graded" for n in in_scope}
                    isolated = _judge_all(judge, stage, golden, isolated_outputs, jobs)
                stage_findings = [f for f in chain.findings if f.stage == stage.value]
                chained_score, isolated_score = _mean(chained), _mean(isolated)
                if stage_findings:
                    chained_score = isolated_score = 0.0
                grade = StageGrade(
                    stage=stage,
                    chained_score=chained_score,
                    isolated_score=isolated_score,
                    passed=chained_score >= pass_threshold,
                    propagation_loss=round(isolated_score - chained_score, 4),
                    chained=chained,
                    isolated=isolated,
                    duration_s=round(time.monotonic() - stage_started, 3),
                )
                if auto_resurrect and not grade.passed:
                    effective.add(stage)
                    grade = grade.model_copy(update={"resurrected": True})
                grades.append(grade)
        findings = _merge(findings, chain.findings)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return GradeReport(
        stages=grades,
        integrity_findings=findings,
        build_ok=build_ok,
        build_log_tail=build_tail,
        cases=len(chosen),
        duration_s=round(time.monotonic() - started, 3),
    )


def _merge(first: list[Finding], second: list[Finding]) -> list[Finding]:
    seen = {(f.kind, f.detail, f.stage) for f in first}
    return first + [f for f in second if (f.kind, f.detail, f.stage) not in seen]
