"""The reference solution graded like any workspace, with the commands the README gives.

`ramp reference path` prints a ready workspace; `ramp-grade grade --workspace ... --stages
T0-T5 --json` must pass all six stages with chained scores equal to isolated ones (its own
upstream outputs are as good as golden). CI grades a fixed sample of hidden cases;
benchmarks/bench_solution.py --grade grades all of them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from golden import SOLUTION_DIR, Stage, reference_workspace, solution_files
from grader._grading import hidden_cases
from grader._machine import sample_cases
from tests.support import backend_missing
from toolchain._manifest import Profile

BIN = Path(sys.executable).parent
SAMPLE = 5


def test_reference_workspace_is_a_copy_of_the_solution(tmp_path: Path) -> None:
    made = reference_workspace(tmp_path)
    assert made == reference_workspace(tmp_path), "made once per content"
    assert solution_files(made) == solution_files(SOLUTION_DIR)
    assert (made / "build.sh").is_file() and (made / "bin" / "t5").is_file()
    assert not any("__pycache__" in p.parts for p in solution_files(made))


def test_reference_solution_passes_every_stage(tmp_path: Path) -> None:
    if backend_missing("bwrap") or backend_missing("bwrap", Profile.MINIMAL):
        pytest.skip("bwrap not ready")
    cases = tmp_path / "cases"
    cases.mkdir()
    for case in sample_cases(hidden_cases(), SAMPLE):
        shutil.copyfile(case.source, cases / f"{case.name}.sy")
        if case.stdin is not None:
            shutil.copyfile(case.stdin, cases / f"{case.name}.in")
    path = subprocess.run(
        [str(BIN / "ramp"), "reference", "path"], capture_output=True, text=True, check=True
    ).stdout.strip()
    graded = subprocess.run(
        [
            str(BIN / "ramp-grade"),
            "grade",
            "--workspace",
            path,
            "--stages",
            "T0-T5",
            "--cases",
            str(cases),
            "--backend",
            "bwrap",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert graded.returncode == 0, graded.stderr[-3000:]
    report = json.loads(graded.stdout)
    stages = {s["stage"]: s for s in report["stages"]}
    assert list(stages) == [s.value for s in Stage]
    for name, stage in stages.items():
        assert stage["passed"] is True, stage
        assert stage["chained_score"] == stage["isolated_score"], stage
        if name != "T4":
            assert stage["chained_score"] == 100.0, stage
    assert stages["T4"]["chained_score"] >= 80.0
    assert report["integrity_findings"] == []
