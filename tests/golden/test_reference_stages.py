"""The reference toolchain, wrapped as bin/t0..t5, scores 100 on every stage: the stage
formats, the golden artifacts, the judge and the scorers agree. Known-bad outputs lose
exactly what the formulas say.

This harness runs the wrappers in the development sandbox with the case sources mounted
(they call clang and read the source): outside the grading restrictions, on purpose.
"""

from __future__ import annotations

import math
import os
import random
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from golden import (
    ARTIFACT_FILES,
    CASE_MOUNT,
    INCLUDE_MOUNT,
    CaseKind,
    Stage,
    build_golden,
    builtin_corpus,
)
from golden._builder import RUNTIME_DIR, CaseArtifacts
from golden._judge import Judge
from golden._stages import stage_specs
from tests.support import backend_missing
from toolchain._manifest import Profile
from toolchain.sandbox import ExecLimits, Mount, Outcome, SandboxSpec, open_sandbox

HERE = Path(__file__).with_name("reference_stages")
BACKEND = "bwrap"
PER_KIND = {CaseKind.FUNCTIONAL: 5, CaseKind.PERFORMANCE: 2, CaseKind.STRESS: 1}


def _sample() -> list:  # type: ignore[type-arg]
    if os.environ.get("RAMP_FULL_HARNESS") == "1":
        return list(builtin_corpus())
    chooser = random.Random(7)
    chosen = []
    for kind, count in PER_KIND.items():
        cases = [c for c in builtin_corpus() if c.kind is kind and c.expected_exit is not None]
        chosen += chooser.sample(cases, min(count, len(cases)))
    return chosen


def _scratch(prefix: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    path.chmod(0o755)
    return path


@pytest.fixture(scope="module")
def harness() -> Iterator[tuple[list, dict[str, CaseArtifacts], Path, Path]]:  # type: ignore[type-arg]
    if backend_missing(BACKEND):
        pytest.skip(f"{BACKEND} not ready")
    cases = _sample()
    build = build_golden(cases, backend=BACKEND)
    assert build.failures == {}
    workspace, case_dir, output = (
        _scratch("ramp-ref-ws-"),
        _scratch("ramp-ref-case-"),
        _scratch("ramp-ref-out-"),
    )
    shutil.copytree(HERE, workspace, dirs_exist_ok=True)
    for case in cases:
        # One directory per case: the T3 wrapper finds "the" source by listing it (the
        # canonical T2 AST it reads names no file).
        (case_dir / case.name).mkdir(mode=0o755)
        shutil.copyfile(case.source, case_dir / case.name / f"{case.name}.sy")
    include = _scratch("ramp-ref-include-")
    shutil.copyfile(RUNTIME_DIR / "sylib.h", include / "sylib.h")
    with open_sandbox(workspace, BACKEND, SandboxSpec(profile=Profile.DEV)) as box:
        assert box.exec("./build.sh").outcome is Outcome.OK
    yield cases, {c.name: c for c in build.cases}, workspace, output
    for path in (workspace, case_dir, output, include):
        shutil.rmtree(path, ignore_errors=True)


def _run_stage(
    workspace: Path, output: Path, stage: Stage, golden: CaseArtifacts, case_dir: Path
) -> Path:
    spec = SandboxSpec(
        profile=Profile.DEV,
        workspace_writable=False,
        limits=ExecLimits(timeout_s=120, memory_mb=4096),
        mounts=(
            Mount(source=case_dir / golden.name, target=CASE_MOUNT),
            Mount(source=RUNTIME_DIR, target=INCLUDE_MOUNT),
            Mount(source=golden.directory, target="/ramp/input"),
            Mount(source=output, target="/ramp/output", writable=True),
        ),
    )
    previous = list(Stage)[list(Stage).index(stage) - 1] if stage is not Stage.T0 else None
    source = (
        f"{CASE_MOUNT}/{golden.name}.sy"
        if previous is None
        else f"/ramp/input/{ARTIFACT_FILES[previous]}"
    )
    target = f"{golden.name}.{ARTIFACT_FILES[stage]}"
    with open_sandbox(workspace, BACKEND, spec) as box:
        ran = box.exec([f"bin/{stage.value.lower()}", source, f"/ramp/output/{target}"])
    assert ran.outcome is Outcome.OK, (stage, golden.name, ran.stderr[-1500:])
    return output / target


def test_reference_wrappers_score_100_everywhere(harness) -> None:  # type: ignore[no-untyped-def]
    cases, golden, workspace, output = harness
    case_dir = Path(tempfile.mkdtemp(prefix="ramp-ref-src-", dir="/tmp"))
    case_dir.chmod(0o755)
    for case in cases:
        # One directory per case: the T3 wrapper finds "the" source by listing it (the
        # canonical T2 AST it reads names no file).
        (case_dir / case.name).mkdir(mode=0o755)
        shutil.copyfile(case.source, case_dir / case.name / f"{case.name}.sy")
    scores: dict[tuple[str, Stage], float] = {}
    failures: list[str] = []
    with Judge(cases, backend=BACKEND) as judge:
        for case in cases:
            for stage in Stage:
                produced = _run_stage(workspace, output, stage, golden[case.name], case_dir)
                result = judge.judge(stage, golden[case.name], produced)
                scores[(case.name, stage)] = result.score
                if result.score != 100.0:
                    failures.append(f"{case.name} {stage}: {result.diagnosis}")
    shutil.rmtree(case_dir, ignore_errors=True)
    assert failures == []
    assert len(scores) == 6 * len(cases)


def test_a_no_op_optimiser_loses_exactly_the_formula(harness) -> None:  # type: ignore[no-untyped-def]
    cases, golden, _, _ = harness
    perf = [c for c in cases if c.kind is CaseKind.PERFORMANCE]
    with Judge(perf, backend=BACKEND) as judge:
        for case in perf:
            artifacts = golden[case.name]
            result = judge.judge(Stage.T4, artifacts, artifacts.artifacts[Stage.T3])
            agent = int(result.details["agent_instructions"])
            assert agent == artifacts.baseline_instructions, "the input is the score's base"
            assert agent > artifacts.reference_instructions, "-O0 IR must execute more"
            assert result.score == 0.0
            paper = round(min(100.0, 100 * math.sqrt(artifacts.reference_instructions / agent)), 4)
            assert result.details["paper_score"] == paper


def test_wrong_exit_code_and_broken_ir_score_zero(harness, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cases, golden, _, _ = harness
    case = cases[0]
    artifacts = golden[case.name]
    ir = artifacts.artifacts[Stage.T3].read_text()
    wrong_exit = tmp_path / "wrong.ll"
    wrong_exit.write_text(
        ir.replace("define dso_local i32 @main()", "define dso_local i32 @main_real()", 1)
        + "\ndefine i32 @main() {\n  %r = call i32 @main_real()\n  %x = add i32 %r, 1\n  ret i32 %x\n}\n"
    )
    broken = tmp_path / "broken.ll"
    broken.write_text("this is not LLVM IR\n")
    with Judge([case], backend=BACKEND) as judge:
        assert judge.judge(Stage.T3, artifacts, wrong_exit).score == 0.0
        result = judge.judge(Stage.T3, artifacts, broken)
        assert result.score == 0.0
        assert result.diagnosis
        assert judge.judge(Stage.T5, artifacts, tmp_path / "missing.s").score == 0.0


def test_stage_specs_match_the_contracts() -> None:
    specs = stage_specs()
    assert [s.weight for s in specs.values()] == [1, 2, 2, 3, 3, 4]
    for stage, spec in specs.items():
        text = spec.contract_text()
        assert text.startswith(f"# {stage.value} ")
        assert "Pass: 60." in text
        assert spec.pass_threshold == 60
