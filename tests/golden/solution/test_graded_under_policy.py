"""The reference solution, graded as an agent's workspace is: its stage programs run under
the exec policy (toolchain.sandbox.ExecPolicy) and its T3..T5 outputs through the judge's
restricted run step, on both backends, and still pass every stage."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from golden import CaseKind, Split, Stage, builtin_corpus
from grader._grading import grade_workspace
from tests.golden.solution.support import SOLUTION
from tests.support import backend_missing
from toolchain._manifest import Profile


@pytest.mark.parametrize("backend", ["bwrap", "docker"])
def test_reference_solution_passes_every_stage_under_the_policy(
    workspace: Path, backend: str
) -> None:
    reason = backend_missing(backend) or backend_missing(backend, Profile.MINIMAL)
    if reason:
        pytest.skip(f"{backend}: {reason}")
    shutil.copytree(
        SOLUTION, workspace, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__")
    )
    cases = [
        c for c in builtin_corpus() if c.split is Split.PUBLIC and c.kind is CaseKind.FUNCTIONAL
    ]
    report = grade_workspace(workspace, cases=cases[:2], backend=backend)
    assert report.build_ok and report.integrity_findings == [], report
    assert [g.stage for g in report.stages] == list(Stage)
    for grade in report.stages:
        assert grade.passed and grade.chained_score >= 60.0, grade
