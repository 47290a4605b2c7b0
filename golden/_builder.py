"""Building golden artifacts: the reference pipeline run on every case, cached and checked.

A case's artifacts live in ``ramp_home()/golden/<key>/<name>-<case hash>/`` where the key
covers the development toolchain's fingerprint, the runtime library and the reference
commands: change any of them and everything is rebuilt; otherwise a build is a lookup.
Cases are built in parallel in one development sandbox. Each case is checked before it
is cached: the T3 and T4 artifacts run natively and the T5 artifact under qemu, and all
three must reproduce the expected stdout and exit code. The T4 artifact is measured as an
agent's T4 output is (the reference count) and so is the T3 artifact (the baseline count
T4's score starts from: golden/scoring/_perf.py).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from pydantic import BaseModel

from golden._corpus import Case, CaseKind, Split
from golden._elf import ElfError, read_elf
from golden._interface import check_ir_text, check_object
from golden._measure import (
    MEASURE_VERSION,
    MeasureError,
    Measurement,
    count_instructions,
    layout_of,
    runtime_slack,
    timer_calls,
)
from golden._reference import (
    ARTIFACT_FILES,
    BASELINE_BINARY,
    CASE_MOUNT,
    INCLUDE_MOUNT,
    MEASURED_BINARY,
    REFERENCE_COMMANDS,
    Stage,
    case_script,
    retarget_ir_for_rv64,
    runtime_script,
    t5_script,
)
from golden.scoring import CANONICAL_FORMS, canonical_ast, canonical_tokens
from toolchain import (
    SANDBOX_GID,
    SANDBOX_UID,
    Profile,
    RampError,
    load_manifest,
    make_owned_dir,
    ramp_home,
)
from toolchain.sandbox import ExecLimits, Mount, Outcome, Sandbox, SandboxSpec, open_sandbox

__all__ = [
    "RUNTIME_DIR",
    "CaseArtifacts",
    "GoldenBuild",
    "GoldenBuildError",
    "build_golden",
    "golden_key",
]

RUNTIME_DIR = Path(__file__).with_name("runtime")
_META = "meta.json"
# The container (docker) gets every core: parallel cases share one sandbox.
_BUILD_LIMITS = ExecLimits(
    timeout_s=900, memory_mb=4096, pids=512, output_bytes=1 << 20, cpus=float(os.cpu_count() or 1)
)
_LEFTOVERS = (
    "T2.raw.json",
    "check.t3",
    MEASURED_BINARY,
    "check.t4.o",
    "check.t4.o.own",
    "check.t4.callgrind",
    BASELINE_BINARY,
    "check.t3m.o",
    "check.t3m.o.own",
    "check.t3m.callgrind",
    "check.t5",
)


class GoldenBuildError(RampError):
    """The reference pipeline failed on a case, or its artifacts did not behave as expected."""


class CaseArtifacts(BaseModel):
    """Everything golden about one case."""

    name: str
    split: Split
    kind: CaseKind
    directory: Path
    artifacts: dict[Stage, Path]
    hashes: dict[Stage, str]
    expected_stdout: Path
    expected_exit: int
    reference_instructions: int
    # The unchanged T3 artifact's count, measured the same way: where T4's score starts.
    baseline_instructions: int
    # What the runtime, libc and the start-up execute for this case (golden._measure):
    # the allowance beyond which work outside the module's code is charged to it.
    runtime_instructions: int
    timed: bool
    # The measurement runtime's record of the timer calls (golden/_measure.py), if any.
    timer_calls: str | None = None
    cached: bool = False


class GoldenBuild(BaseModel):
    key: str
    cases: list[CaseArtifacts]
    built: int
    reused: int
    failures: dict[str, str]


def _digest(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def golden_key() -> str:
    """Identity of the reference pipeline: toolchain, runtime, commands."""
    commands = "\n".join(f"{stage}:{text}" for stage, text in REFERENCE_COMMANDS.items())
    return _digest(
        load_manifest().fingerprint(Profile.DEV).encode(),
        (RUNTIME_DIR / "sylib.h").read_bytes(),
        (RUNTIME_DIR / "sylib.c").read_bytes(),
        commands.encode(),
        case_script("x", has_stdin=True).encode(),
        t5_script("x", has_stdin=True).encode(),
        f"canonical forms {CANONICAL_FORMS}".encode(),
        f"measure {MEASURE_VERSION}".encode(),
    )[:16]


def _case_dir(root: Path, case: Case) -> Path:
    return root / f"{case.name}-{case.content_hash()[:16]}"


def _load_cached(directory: Path, case: Case) -> CaseArtifacts | None:
    meta = directory / _META
    if not meta.is_file():
        return None
    info = CaseArtifacts.model_validate_json(meta.read_text(encoding="utf-8"))
    return info.model_copy(
        update={
            "directory": directory,
            "artifacts": {s: directory / ARTIFACT_FILES[s] for s in Stage},
            "expected_stdout": directory / "expected.out",
            "split": case.split,
            "kind": case.kind,
            "cached": True,
        }
    )


def _file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _check(work: Path, tag: str, stdout: bytes, code: int) -> str | None:
    got_out = (work / f"check.{tag}.out").read_bytes()
    got_code = int((work / f"check.{tag}.exit").read_text().strip() or "-1")
    if (got_out, got_code) != (stdout, code):
        return (
            f"the {tag.upper()} reference artifact does not behave as expected "
            f"(exit {got_code} vs {code}, stdout {len(got_out)} vs {len(stdout)} bytes)"
        )
    return None


def _write_canonical(work: Path) -> None:
    """T1 and T2 artifacts in their canonical forms: what the scorers read and the next
    stage is given (golden.scoring._canonical), so golden and agent inputs look alike."""
    tokens = canonical_tokens((work / ARTIFACT_FILES[Stage.T1]).read_bytes())
    tree = canonical_ast((work / "T2.raw.json").read_bytes())
    if tokens is None or tree is None:
        raise GoldenBuildError("clang's token dump or JSON AST has no canonical form")
    (work / ARTIFACT_FILES[Stage.T1]).write_text(tokens, encoding="utf-8")
    (work / ARTIFACT_FILES[Stage.T2]).write_text(tree, encoding="utf-8")


def _measured_count(work: Path, stage: Stage, tag: str, binary: str) -> Measurement:
    """A reference IR's count, measured exactly as an agent's T4 output is; the IR must pass
    the interface check an agent's output must pass."""
    problems = check_ir_text((work / ARTIFACT_FILES[stage]).read_text(encoding="utf-8"))
    try:
        problems += check_object(read_elf(work / f"check.{tag}.o"))
        layout = layout_of(read_elf(work / binary))
        measured = count_instructions(
            (work / f"check.{tag}.callgrind").read_text(errors="replace"), layout
        )
    except (ElfError, MeasureError, OSError) as exc:
        raise GoldenBuildError(f"measuring the {stage} reference failed: {exc}") from exc
    if problems or measured.escapes:
        found = [p.message for p in problems] + list(measured.escapes)
        raise GoldenBuildError(f"the {stage} reference breaks the interface: {'; '.join(found)}")
    if measured.counted <= 0:
        raise GoldenBuildError(f"callgrind counted no instruction of the {stage} reference")
    return measured


def _build_case(
    box: Sandbox, root: Path, final: Path, case: Case, private: bool = False
) -> CaseArtifacts:
    work = root / case.name
    make_owned_dir(work, SANDBOX_UID, SANDBOX_GID)  # the sandbox user writes the artifacts
    timed = "starttime" in case.source.read_text(encoding="utf-8", errors="replace")
    first = box.exec(case_script(case.name, has_stdin=case.stdin is not None), cwd=case.name)
    if first.outcome is not Outcome.OK:
        raise GoldenBuildError(f"reference pipeline failed: {first.detail}\n{first.stderr[-2000:]}")
    _write_canonical(work)
    (work / "T5.input.ll").write_text(
        retarget_ir_for_rv64((work / ARTIFACT_FILES[Stage.T4]).read_text(encoding="utf-8")),
        encoding="utf-8",
    )
    second = box.exec(t5_script(case.name, has_stdin=case.stdin is not None), cwd=case.name)
    if second.outcome is not Outcome.OK:
        raise GoldenBuildError(
            f"reference back end failed: {second.detail}\n{second.stderr[-2000:]}"
        )
    if case.expected_stdout is not None and case.expected_exit is not None:
        stdout, code = case.expected_stdout.read_bytes(), case.expected_exit
    else:
        # A user's case: the native run of the -O0 reference defines the expectation,
        # and the optimised and RV64 artifacts must agree with it.
        stdout = (work / "check.t3.out").read_bytes()
        code = int((work / "check.t3.exit").read_text().strip())
    for tag in ("t3", "t3m", "t4", "t5"):
        problem = _check(work, tag, stdout, code)
        if problem:
            raise GoldenBuildError(problem)
    counted = _measured_count(work, Stage.T4, "t4", MEASURED_BINARY)
    baseline = _measured_count(work, Stage.T3, "t3m", BASELINE_BINARY)
    runtime = max(counted.outside, baseline.outside)
    if runtime - min(counted.outside, baseline.outside) > runtime_slack(runtime):
        raise GoldenBuildError(
            f"the runtime did {baseline.outside} instructions for the T3 reference and "
            f"{counted.outside} for the T4 one: T4's charge for work outside the module "
            "(golden._measure) needs them within its slack"
        )
    calls = timer_calls((work / "check.t4.stderr").read_text(errors="replace"))
    for tag in ("t3", "t3m", "t5"):
        made = timer_calls((work / f"check.{tag}.stderr").read_text(errors="replace"))
        if made != calls:
            raise GoldenBuildError(
                f"the {tag.upper()} reference artifact makes the timer calls {made or 'none'}, "
                f"the T4 one {calls or 'none'}: the runtime builds disagree (rebuild them)"
            )
    (work / "expected.out").write_bytes(stdout)
    for leftover in _LEFTOVERS:
        (work / leftover).unlink(missing_ok=True)
    info = CaseArtifacts(
        name=case.name,
        split=case.split,
        kind=case.kind,
        directory=final,
        artifacts={s: final / ARTIFACT_FILES[s] for s in Stage},
        hashes={s: _file_hash(work / ARTIFACT_FILES[s]) for s in Stage},
        expected_stdout=final / "expected.out",
        expected_exit=code,
        reference_instructions=counted.counted,
        baseline_instructions=baseline.counted,
        runtime_instructions=runtime,
        timed=timed,
        timer_calls=calls,
    )
    (work / _META).write_text(info.model_dump_json(indent=2), encoding="utf-8")
    if final.exists():
        shutil.rmtree(final)
    work.rename(final)
    _seal(final, private)
    return info


def _seal(directory: Path, private: bool) -> None:
    """A built case becomes root's and read-only to everyone else: the sandbox user wrote
    it, and nothing that user runs later (an agent's program judged as that uid) may change
    a golden artifact. A private cache's case is root's alone (grading reads it as root and
    copies what a sandbox needs)."""
    if os.geteuid() != 0:
        return
    for path in (directory, *directory.iterdir()):
        os.lchown(path, 0, 0)
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() else 0o644)
    directory.chmod(0o700 if private else 0o755)


def _joined(parts: Sequence[GoldenBuild], cases: Sequence[Case]) -> GoldenBuild:
    """One build of ``cases`` from the builds of its groups, in the cases' order."""
    by_name = {c.name: c for part in parts for c in part.cases}
    return GoldenBuild(
        key=golden_key(),
        cases=[by_name[c.name] for c in cases if c.name in by_name],
        built=sum(part.built for part in parts),
        reused=sum(part.reused for part in parts),
        failures={name: why for part in parts for name, why in part.failures.items()},
    )


def _stage_inputs(stage: Path, cases: Sequence[Case]) -> tuple[Path, Path]:
    case_dir, include_dir = stage / "case", stage / "include"
    stage.mkdir(mode=0o711)  # passable for the sandbox user, not listable
    case_dir.mkdir()
    include_dir.mkdir()
    for case in cases:
        shutil.copyfile(case.source, case_dir / f"{case.name}.sy")
        if case.stdin is not None:
            shutil.copyfile(case.stdin, case_dir / f"{case.name}.in")
    for name in ("sylib.h", "sylib.c"):
        shutil.copyfile(RUNTIME_DIR / name, include_dir / name)
    return case_dir, include_dir


def build_golden(
    cases: Sequence[Case],
    *,
    backend: str = "auto",
    jobs: int | None = None,
    force: bool = False,
    cache_root: Path | None = None,
    private: bool = False,
    on_case: Callable[[str, bool], None] | None = None,
) -> GoldenBuild:
    """Golden artifacts for ``cases``: cached ones are reused, the rest built in parallel.

    Each case is cached where it says (``Case.golden_cache``: a private cache), else in
    ``cache_root`` or the machine's shared cache. A ``private`` cache is built outside it
    (the sandbox user must reach the build, not the cache) and each case's directory ends
    root-only. ``on_case(name, ok)`` is called as each case finishes.
    """
    if cache_root is None:
        groups: dict[Path | None, list[Case]] = {}
        for case in cases:
            groups.setdefault(case.golden_cache, []).append(case)
        if len(groups) > 1 or None not in groups:
            parts = [
                build_golden(group, backend=backend, jobs=jobs, force=force, on_case=on_case,
                             cache_root=root or ramp_home() / "golden", private=root is not None)
                for root, group in groups.items()
            ]  # fmt: skip
            return _joined(parts, cases)
    key = golden_key()
    root = (cache_root or ramp_home() / "golden") / key
    root.mkdir(parents=True, exist_ok=True)
    results: dict[str, CaseArtifacts] = {}
    pending: list[Case] = []
    for case in cases:
        cached = None if force else _load_cached(_case_dir(root, case), case)
        if cached is not None:
            results[case.name] = cached
            if on_case:
                on_case(case.name, True)
        else:
            pending.append(case)
    failures: dict[str, str] = {}
    if pending:
        build = _Build(root=root, private=private, backend=backend, jobs=jobs, on_case=on_case)
        build.run(pending, results, failures)
    return GoldenBuild(
        key=key,
        cases=[results[c.name] for c in cases if c.name in results],
        built=len(pending) - len(failures),
        reused=len(cases) - len(pending),
        failures=failures,
    )


def _build_parent(root: Path, private: bool) -> Path:
    """Where cases are built: in the cache, or, for a private cache the sandbox user may
    not enter, in ``ramp_home()/golden-build`` (0711: passable, not listable)."""
    if not private:
        return root
    parent = ramp_home() / "golden-build"
    parent.mkdir(mode=0o711, exist_ok=True)
    parent.chmod(0o711)
    return parent


class _Build:
    """One build of the cases missing from a cache: one development sandbox, cases in
    parallel, each moved into the cache once it checks out."""

    def __init__(
        self,
        *,
        root: Path,
        private: bool,
        backend: str,
        jobs: int | None,
        on_case: Callable[[str, bool], None] | None,
    ) -> None:
        self.root, self.private, self.backend = root, private, backend
        self.jobs = jobs or os.cpu_count() or 2
        self.on_case = on_case

    def run(
        self, pending: Sequence[Case], results: dict[str, CaseArtifacts], failures: dict[str, str]
    ) -> None:
        parent = _build_parent(self.root, self.private)
        tag = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        build_root, stage_root = parent / f".build-{tag}", parent / f".stage-{tag}"
        build_root.mkdir(mode=0o711)
        try:
            case_dir, include_dir = _stage_inputs(stage_root, pending)
            spec = SandboxSpec(
                profile=Profile.DEV,
                limits=_BUILD_LIMITS,
                mounts=(
                    Mount(source=case_dir, target=CASE_MOUNT),
                    Mount(source=include_dir, target=INCLUDE_MOUNT),
                ),
                labels={"io.ramp.purpose": "golden-build"},
            )
            with open_sandbox(build_root, self.backend, spec) as box:
                runtime = box.exec(runtime_script(), limits=_BUILD_LIMITS.merged(cpus=1.0))
                if runtime.outcome is not Outcome.OK:
                    raise GoldenBuildError(f"building the runtime failed: {runtime.stderr[-2000:]}")
                self._cases(box, build_root, pending, results, failures)
        finally:
            shutil.rmtree(build_root, ignore_errors=True)
            shutil.rmtree(stage_root, ignore_errors=True)

    def _cases(
        self,
        box: Sandbox,
        build_root: Path,
        pending: Sequence[Case],
        results: dict[str, CaseArtifacts],
        failures: dict[str, str],
    ) -> None:
        with ThreadPoolExecutor(max_workers=self.jobs) as pool:
            futures = {
                pool.submit(
                    _build_case, box, build_root, _case_dir(self.root, c), c, self.private
                ): c
                for c in pending
            }
            for future in as_completed(futures):
                case = futures[future]
                try:
                    results[case.name] = future.result()
                except (GoldenBuildError, OSError, ValueError) as exc:
                    failures[case.name] = str(exc)
                if self.on_case:
                    self.on_case(case.name, case.name not in failures)
