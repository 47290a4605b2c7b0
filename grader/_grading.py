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
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pydantic import BaseModel, Field

from golden import (
    CASE_MOUNT,
    INCLUDE_MOUNT,
    PASS_THRESHOLD,
    RUNTIME_DIR,
    Case,
    CaseArtifacts,
    Environment,
    Judge,
    Split,
    Stage,
    build_golden,
    builtin_corpus,
    case_roles,
    stage_specs,
)
from golden.scoring import CaseCategory, counts_in_mean
from grader._handoff import NOT_ACCEPTED, canonical_file, no_input
from grader._integrity import Finding, FindingKind, scan_workspace
from grader._snapshot import take_snapshot
from grader._store import OutputStore, StoredOutput
from toolchain import (
    FINDINGS_MOUNT,
    SANDBOX_UID,
    Profile,
    RampError,
    create_capped_dir,
    scratch_dir,
)
from toolchain.sandbox import ExecLimits, ExecPolicy, Mount, Outcome, SandboxSpec, open_sandbox

__all__ = [
    "NOT_GRADED",
    "CaseOutcome",
    "GradeReport",
    "GradingError",
    "NoBuildScriptError",
    "StageGrade",
    "grade_workspace",
    "hidden_cases",
    "public_cases",
    "require_build_script",
]

STAGES = tuple(Stage)
_BUILD_LIMITS = ExecLimits(timeout_s=600, memory_mb=4096, pids=512, output_bytes=256 << 10)
_OUTPUT_FILE_MB = 1024
# build.sh writes into the snapshot, which lives on a file system of its own
# (toolchain._capped): the kernel stops it at this many bytes (the snapshot included) and
# entries (a workspace may hold 100,000; what the build adds comes on top).
_BUILD_DISK_MB = 2048
_BUILD_ENTRIES = 200_000
# Each run of a stage's program over an input set writes into a file system of its own
# too: what its outputs may hold in all (the reference outputs of the whole corpus take
# well under 1 GB for any stage), and how many entries (a few per case are needed).
_CHAIN_OUTPUT_BYTES = 4 << 30
_CHAIN_MIN_ENTRIES = 4096
# Where nothing can be mounted (not root), the supervisor polls instead: what the outputs
# being written at one time may hold.
_CHAIN_DISK_MB = 3072
# How much of a finding's record is kept as evidence.
_EVIDENCE_BYTES = 4096


class GradingError(RampError):
    """Grading could not be carried out (infrastructure, not the agent's work)."""


class NoBuildScriptError(GradingError):
    """The workspace has no build.sh to run: the agent's to fix, nothing was graded."""


NO_BUILD_SCRIPT = (
    "there is no build.sh at the workspace root (a regular file: not a link, not a "
    "directory); the workspace contract requires one: write it, try it with the build tool, "
    "then submit again"
)


class CaseOutcome(BaseModel):
    case: str
    score: float
    diagnosis: str
    details: dict[str, float | int | str] = Field(default_factory=dict)
    # What the scorer determined (None: the grader's chain had no output to score, and
    # the diagnosis is the grader's own text; see grader._machine's categories).
    category: CaseCategory | None = None


class StageGrade(BaseModel):
    """One stage's grade in a :class:`GradeReport`: grading's result, read by the stage
    machine (which turns it into a ``SubmissionOutcome``, the one result the grader hands
    on) and by ``ramp-grade grade``; it never leaves the grader. ``resurrected``: grading
    fed golden inputs downstream of it (``auto_resurrect``), not the ledger's stage state."""

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
    """What :func:`grade_workspace` found: the grades of the stages asked for, the
    integrity findings and the build's result."""

    stages: list[StageGrade]
    integrity_findings: list[Finding]
    build_ok: bool
    build_log_tail: str
    cases: int
    duration_s: float
    # Per passed stage (but T5), each case's frozen chained output (None: none accepted).
    outputs: dict[Stage, dict[str, StoredOutput | None]] = Field(default_factory=dict)


def hidden_cases() -> tuple[Case, ...]:
    return tuple(c for c in builtin_corpus() if c.split is Split.HIDDEN)


def public_cases() -> tuple[Case, ...]:
    return tuple(c for c in builtin_corpus() if c.split is Split.PUBLIC)


def _scratch(parent: Path, name: str) -> Path:
    path = parent / name
    path.mkdir(parents=True, mode=0o755)
    path.chmod(0o755)
    return path


def require_build_script(directory: Path) -> None:
    """Refuse (:class:`NoBuildScriptError`) a tree without a regular file ``build.sh`` at
    its root. ``lstat``: a link is refused, never followed (as root it could point
    anywhere on the host, and the answer would tell whether that exists)."""
    try:
        info = os.lstat(directory / "build.sh")
    except OSError:
        info = None
    if info is None or not stat.S_ISREG(info.st_mode):
        raise NoBuildScriptError(NO_BUILD_SCRIPT)


def _mean(outcomes: Iterable[CaseOutcome]) -> float:
    """The stage score: the mean over the cases that count (T4 leaves out the functional
    cases it only checks and found right; a wrong one counts as a 0)."""
    scores = [o.score for o in outcomes if counts_in_mean(o.details)]
    return round(sum(scores) / len(scores), 4) if scores else 0.0


class _Chain:
    """Runs the agent's stage programs over all cases, one sandbox per stage and input set.

    Each run writes into a file system of its own under ``work`` (``toolchain._capped``):
    ``out`` (the program's /ramp/output), ``findings`` (/ramp/findings) and ``taken``
    (where outputs are moved out of the program's reach, to be read, judged and frozen).
    The kernel caps its bytes and entries, so a program filling it (with data or with
    empty files) is stopped by ENOSPC and the host's disk never notices. They are
    released with ``work``'s scratch directory (``toolchain._scratch``).
    """

    def __init__(
        self,
        snapshot: Path,
        work: Path,
        cases: Sequence[Case],
        backend: str,
        jobs: int,
        *,
        uid: int = SANDBOX_UID,
    ) -> None:
        self.uid = uid  # the run's own uid (gid: the same number) runs its programs
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
        place = self.work / f"{label}-{stage.value}"
        capped = create_capped_dir(
            place,
            max_bytes=_CHAIN_OUTPUT_BYTES,
            max_entries=max(_CHAIN_MIN_ENTRIES, 8 * len(inputs)),
            uid=os.geteuid(),
            gid=os.getegid(),
            mode=0o755,
        )
        output_dir = _scratch(place, "out")
        findings_dir = _scratch(place, "findings")
        # Outputs are moved here, out of the program's reach, before anything reads them.
        private = place / "taken"
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
            uid=self.uid,
            gid=self.uid,
            disk_mb=None if capped.enforced else _CHAIN_DISK_MB,
            # Executes only the read-only snapshot and /usr; nothing it writes can run.
            exec_policy=ExecPolicy(),
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
                taken = _take_output(output, private / output.name)
                if isinstance(taken, Path):
                    size = taken.stat().st_size
                    with budget_lock:
                        budget[0] -= size
                        over = budget[0] < 0
                    if over:
                        taken.unlink()
                        return name, (
                            f"{program} failed: its outputs for this stage exceed "
                            f"{_CHAIN_OUTPUT_BYTES >> 20} MB in all"
                        )
                    return name, taken
                return name, f"{program} wrote no output file" + (f": {taken}" if taken else "")

            with ThreadPoolExecutor(max_workers=self.jobs) as pool:
                results = dict(pool.map(one, inputs))
        self._record_calls(stage, findings_dir, private)
        return results

    def _record_calls(self, stage: Stage, findings_dir: Path, private: Path) -> None:
        """A finding for what the refusing toolchain stubs recorded in /ramp/findings.

        The record is written where stage programs can write too: its text is evidence for
        the ledger and the reports (cut to a few KB), never something shown to the agent.
        """
        program = f"bin/{stage.value.lower()}"
        calls = _take_output(findings_dir / "toolchain-calls", private / "toolchain-calls")
        if isinstance(calls, str):
            self.findings.append(
                Finding(
                    kind=FindingKind.FINDINGS_TAMPER,
                    stage=stage,
                    detail=f"{program} tampered with the record of toolchain calls ({calls})",
                )
            )
        elif isinstance(calls, Path):
            with calls.open("rb") as handle:
                recorded = handle.read(_EVIDENCE_BYTES).decode("utf-8", errors="replace")
            self.findings.append(
                Finding(
                    kind=FindingKind.TOOLCHAIN_CALL,
                    stage=stage,
                    detail=f"{program} tried to run the reference toolchain; the record "
                    f"says: {' '.join(recorded.split())}",
                )
            )


def _take_output(written: Path, private: Path) -> Path | str | None:
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
            case=name,
            score=scored.score,
            diagnosis=scored.diagnosis,
            details=scored.details,
            category=scored.category,
        )

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return sorted(pool.map(one, produced), key=lambda o: o.case)


NOT_GRADED = "the workspace was not graded (see the integrity findings)"


class _StageRunner:
    """Runs one stage's program over an input set and hands its outputs on canonically."""

    def __init__(
        self, chain: _Chain, golden: dict[str, CaseArtifacts], runnable: bool, work: Path
    ) -> None:
        self.chain, self.golden, self.runnable = chain, golden, runnable
        self.work = work

    def run(
        self, stage: Stage, inputs: Mapping[str, Path | str], label: str
    ) -> tuple[dict[str, Path | str], dict[str, Path | str]]:
        """What the next stage receives and what is judged, per case (a path or why not).

        T1 and T2 are judged on the canonical form they hand on; T0 on what it wrote (its
        hand-off is the reference text when that scored 100); T3..T5 hand on what they wrote.
        """
        ready = {n: p for n, p in inputs.items() if isinstance(p, Path)}
        produced: dict[str, Path | str]
        if self.runnable:
            produced = self.chain.run(stage, ready, label)
        else:
            produced = dict.fromkeys(ready, NOT_GRADED)
        for name, value in inputs.items():
            if isinstance(value, str):
                produced[name] = no_input(value)
        directory = _scratch(self.work, f"{label}-{stage.value}-canonical")
        handed: dict[str, Path | str] = {}
        judged: dict[str, Path | str] = {}
        for name, output in produced.items():
            if isinstance(output, str):
                handed[name] = judged[name] = output
                continue
            golden_t0 = self.golden[name].artifacts[Stage.T0] if stage is Stage.T0 else None
            form = canonical_file(stage, output, directory / output.name, golden_t0)
            handed[name] = form
            canonical_judged = isinstance(form, Path) and stage in (Stage.T1, Stage.T2)
            judged[name] = form if canonical_judged else output
        return handed, judged


def _first_to_run(wanted: Stage, effective: set[Stage], upstream: bool) -> Stage:
    """The first stage whose program must run: ``wanted`` when its inputs are given (the
    stored outputs of the stage before, or golden ones), else back to where they are."""
    first = wanted
    while not upstream and first.previous is not None and first.previous not in effective:
        first = first.previous
    return first


def _span(first: Stage, last: Stage) -> list[Stage]:
    """``first`` and every stage after it up to ``last`` (``last`` is not before it)."""
    span = [first]
    while span[-1] is not last:
        following = span[-1].next
        if following is None:
            raise GradingError(f"{last.value} comes before {first.value}; nothing to grade")
        span.append(following)
    return span


def _zeroed(grade: StageGrade, auto_resurrect: bool) -> StageGrade:
    """A stage graded with an integrity finding: 0 chained and isolated, not passed."""
    return grade.model_copy(
        update={
            "chained_score": 0.0,
            "isolated_score": 0.0,
            "passed": False,
            "propagation_loss": 0.0,
            "resurrected": grade.resurrected or auto_resurrect,
        }
    )


def _tamper_findings(stage: Stage, outcomes: Iterable[CaseOutcome]) -> list[Finding]:
    """The judge marks a measurement a program interfered with (``details["integrity"]``)."""
    return [
        Finding(
            kind=FindingKind.MEASUREMENT_TAMPER,
            stage=stage,
            detail=f"case {o.case}: {o.diagnosis}",
        )
        for o in outcomes
        if o.details.get("integrity") == FindingKind.MEASUREMENT_TAMPER
    ]


def _build(
    workspace: Path,
    root: Path,
    backend: str,
    uid: int,
    private: bool,
    say: Callable[[str], None],
) -> tuple[Path, list[Finding], bool, str]:
    """Snapshot, scan and build: the snapshot, findings so far, whether it built, log tail.

    The snapshot is made on a file system of its own (``toolchain._capped``), so what
    build.sh writes is capped in bytes and entries by the kernel, not by polling.
    """
    capped = create_capped_dir(
        root / "build",
        max_bytes=_BUILD_DISK_MB << 20,
        max_entries=_BUILD_ENTRIES,
        uid=os.geteuid(),
        gid=os.getegid(),
        mode=0o755,
    )
    snapshot = root / "build" / "snapshot"
    take_snapshot(workspace, snapshot, uid=None if private else uid)
    require_build_script(snapshot)
    snapshot.chmod(0o755)
    findings = scan_workspace(snapshot)
    say("build.sh")
    build_spec = SandboxSpec(
        profile=Profile.DEV,
        limits=_BUILD_LIMITS,
        disk_mb=None if capped.enforced else _BUILD_DISK_MB,
        uid=uid,
        gid=uid,
    )
    with open_sandbox(snapshot, backend, build_spec) as box:
        built = box.exec(["./build.sh"])
    build_ok = built.outcome is Outcome.OK
    if build_ok:
        findings = _merge(findings, scan_workspace(snapshot))
    else:
        findings.append(Finding(kind=FindingKind.BUILD_FAILED, detail=f"build.sh: {built.detail}"))
    return snapshot, findings, build_ok, (built.stdout + built.stderr)[-4000:]


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
    uid: int = SANDBOX_UID,
    upstream: Mapping[str, Path | str] | None = None,
    store: OutputStore | None = None,
    private: bool = False,
) -> GradeReport:
    """Grade ``stages`` of ``workspace`` on ``cases`` (default: the hidden set).

    ``resurrected`` stages use golden artifacts downstream; with ``auto_resurrect`` a stage
    graded here whose chained score is below the threshold is resurrected for the stages
    after it, as the protocol does. ``uid`` is the run's own uid: build.sh and the stage
    programs run as it (the shared sandbox user by default).

    ``upstream`` is the chained input of the first stage graded (per case, a file or why
    there is none): the outputs frozen when the stage before it was graded. With it, or
    when the stage before is resurrected, no earlier stage program runs; without, the
    chain runs from the last golden input (T0 for a one-shot grading). With a ``store``,
    the chained outputs of every passed stage but T5 are frozen in it
    (``GradeReport.outputs``). Any integrity finding zeroes every stage graded here.
    ``private``: ``workspace`` is a snapshot only the grader can reach (the stage
    machine's), copied as it is; any other is read through a confined worker as ``uid``.
    """
    started = time.monotonic()
    say = on_progress or (lambda _message: None)
    chosen = tuple(cases) if cases is not None else hidden_cases()
    jobs = jobs or os.cpu_count() or 2
    wanted = sorted(set(stages), key=STAGES.index)
    if not wanted:
        raise GradingError("no stage to grade; give at least one of T0..T5")
    require_build_script(workspace)
    say("golden artifacts")
    golden_build = build_golden(chosen, backend=backend)
    if golden_build.failures:
        raise GradingError(f"golden artifacts could not be built: {golden_build.failures}")
    golden = {c.name: c for c in golden_build.cases}
    # Everything grading makes is in a scratch directory of this process's, removed at any
    # depth (with the capped file systems in it) when grading ends, however it ends.
    with scratch_dir("grading") as root:
        snapshot, findings, build_ok, build_tail = _build(
            workspace, root, backend, uid, private, say
        )
        blocked = {f.kind for f in findings} & {
            FindingKind.TOOLCHAIN_COPY,
            FindingKind.WORKSPACE_TOO_LARGE,
            FindingKind.WRITABLE_CODE,
        }
        work = _scratch(root, "work")
        chain = _Chain(snapshot, work, chosen, backend, jobs, uid=uid)
        runner = _StageRunner(chain, golden, build_ok and not blocked, work)
        context = _Context(chosen, golden, jobs, pass_threshold, auto_resurrect, say)
        with Judge(chosen, backend=backend) as judge:
            grades, handed = context.grade(
                runner, judge, wanted, set(resurrected), upstream, findings
            )
        findings = _merge(findings, chain.findings)
        findings = _merge(
            findings, [f for g in grades for f in _tamper_findings(g.stage, g.chained + g.isolated)]
        )
        if findings:
            grades = [_zeroed(g, auto_resurrect) for g in grades]
        outputs = _freeze(grades, handed, store) if store is not None else {}
    return GradeReport(
        stages=grades,
        integrity_findings=findings,
        build_ok=build_ok,
        build_log_tail=build_tail,
        cases=len(chosen),
        duration_s=round(time.monotonic() - started, 3),
        outputs=outputs,
    )


def _freeze(
    grades: Sequence[StageGrade],
    handed: Mapping[Stage, Mapping[str, Path | str]],
    store: OutputStore,
) -> dict[Stage, dict[str, StoredOutput | None]]:
    """Put the hand-off of every passed stage with a next stage into the store."""
    frozen: dict[Stage, dict[str, StoredOutput | None]] = {}
    for grade in grades:
        if not grade.passed or grade.stage is Stage.T5:
            continue
        frozen[grade.stage] = {
            name: store.put(value) if isinstance(value, Path) else None
            for name, value in sorted(handed[grade.stage].items())
        }
    return frozen


class _Context:
    """What grading the stages one after another needs besides the runner and the judge."""

    def __init__(
        self,
        chosen: Sequence[Case],
        golden: dict[str, CaseArtifacts],
        jobs: int,
        pass_threshold: float,
        auto_resurrect: bool,
        say: Callable[[str], None],
    ) -> None:
        self.chosen, self.golden, self.jobs = chosen, golden, jobs
        self.pass_threshold, self.auto_resurrect, self.say = pass_threshold, auto_resurrect, say

    def _inputs(self, stage: Stage) -> dict[str, Path | str]:
        before = stage.previous
        if before is None:
            return {c.name: c.source for c in self.chosen}
        return {n: g.artifacts[before] for n, g in self.golden.items()}

    def _in_scope(self, stage: Stage) -> set[str]:
        # The cases the stage scores or checks (golden._stages.case_roles); a case set
        # without the stage's kinds (a user's --cases DIR, say) is graded on all of it.
        return set(case_roles(stage, self.chosen))

    def grade(
        self,
        runner: _StageRunner,
        judge: Judge,
        wanted: Sequence[Stage],
        effective: set[Stage],
        upstream: Mapping[str, Path | str] | None,
        findings: Sequence[Finding],
    ) -> tuple[list[StageGrade], dict[Stage, dict[str, Path | str]]]:
        """Every stage from the first that must run to the last wanted; the grades of the
        wanted ones and what each of them hands on."""
        first = _first_to_run(wanted[0], effective, upstream is not None)
        grades: list[StageGrade] = []
        handed: dict[Stage, dict[str, Path | str]] = {}
        previous: dict[str, Path | str] = {}
        for stage in _span(first, wanted[-1]):
            stage_started = time.monotonic()
            golden_inputs = self._inputs(stage)
            from_golden = stage.previous is None or stage.previous in effective
            if from_golden:
                chained_inputs = golden_inputs
            elif stage is first and upstream is not None:
                chained_inputs = {c.name: upstream.get(c.name, NOT_ACCEPTED) for c in self.chosen}
            else:
                chained_inputs = previous
            self.say(f"{stage.value}: running the chain")
            previous, judged = runner.run(stage, chained_inputs, "chained")
            if stage not in wanted:
                continue
            handed[stage] = previous
            in_scope = self._in_scope(stage)
            self.say(f"{stage.value}: judging")
            chained = _judge_all(
                judge, stage, self.golden, {n: judged[n] for n in in_scope}, self.jobs
            )
            if from_golden:
                isolated = chained
            else:
                scoped = {n: golden_inputs[n] for n in in_scope}
                _, isolated_judged = runner.run(stage, scoped, "isolated")
                isolated = _judge_all(judge, stage, self.golden, isolated_judged, self.jobs)
            grade = self._grade(stage, chained, isolated, stage_started)
            if findings or runner.chain.findings:
                grade = _zeroed(grade, self.auto_resurrect)
            if self.auto_resurrect and not grade.passed:
                effective.add(stage)
                grade = grade.model_copy(update={"resurrected": True})
            grades.append(grade)
        return grades, handed

    def _grade(
        self,
        stage: Stage,
        chained: list[CaseOutcome],
        isolated: list[CaseOutcome],
        stage_started: float,
    ) -> StageGrade:
        chained_score, isolated_score = _mean(chained), _mean(isolated)
        return StageGrade(
            stage=stage,
            chained_score=chained_score,
            isolated_score=isolated_score,
            passed=chained_score >= self.pass_threshold,
            propagation_loss=round(isolated_score - chained_score, 4),
            chained=chained,
            isolated=isolated,
            duration_s=round(time.monotonic() - stage_started, 3),
        )


def _merge(first: list[Finding], second: list[Finding]) -> list[Finding]:
    """Both lists, each finding once (the chained and isolated runs may find the same)."""
    unique: dict[tuple[str, str, Stage | None], Finding] = {}
    for finding in [*first, *second]:
        unique.setdefault((finding.kind, finding.detail, finding.stage), finding)
    return list(unique.values())
