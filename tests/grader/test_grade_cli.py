"""`ramp-grade grade` through the installed console script, and its stage parsing."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import click
import pytest

from golden import Stage, build_golden, load_case_dir
from grader._grade_cli import parse_stages
from tests.grader.oracle import write_oracle
from tests.support import backend_missing
from toolchain._manifest import Profile

GRADE = str(Path(sys.executable).with_name("ramp-grade"))


def test_stage_ranges() -> None:
    assert parse_stages("T0-T5") == list(Stage)
    assert parse_stages("t2") == [Stage.T2]
    assert parse_stages("T0,T3-T4") == [Stage.T0, Stage.T3, Stage.T4]
    with pytest.raises(click.BadParameter, match="not a stage"):
        parse_stages("T9")
    with pytest.raises(click.BadParameter, match="forwards"):
        parse_stages("T4-T1")


def test_grade_a_directory_on_user_cases_json() -> None:
    if backend_missing("bwrap") or backend_missing("bwrap", Profile.MINIMAL):
        pytest.skip("bwrap not ready")
    root = Path(tempfile.mkdtemp(prefix="ramp-test-gradecli-", dir="/tmp"))
    root.chmod(0o755)
    try:
        cases_dir, workspace = root / "cases", root / "ws"
        cases_dir.mkdir()
        (cases_dir / "double.sy").write_text(
            "int main() { int x = getint(); putint(2 * x); return 0; }\n"
        )
        (cases_dir / "double.in").write_text("21\n")
        (cases_dir / "hidden_secret_name.sy").write_text("int main() { return 7; }\n")
        cases = load_case_dir(cases_dir)
        golden = build_golden(cases, backend="bwrap")
        write_oracle(
            workspace, golden.cases, {c.name: c.source for c in cases}, stages=(Stage.T0, Stage.T1)
        )
        done = subprocess.run(
            [
                GRADE,
                "grade",
                "--workspace",
                str(workspace),
                "--stages",
                "T0-T2",
                "--cases",
                str(cases_dir),
                "--backend",
                "bwrap",
                "--json",
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        rows = {row["stage"]: row for row in report["stages"]}
        assert rows["T0"]["chained_score"] == rows["T1"]["chained_score"] == 100.0
        assert rows["T2"]["chained_score"] == 0.0 and rows["T2"]["resurrected"] is True
        assert {"stages", "integrity_findings", "mean_reward", "tier"} <= set(report)
        assert report["tier"] == 1
        # Without --with-cases the report names no case.
        assert "hidden_secret_name" not in done.stdout and "double" not in done.stdout
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_grade_refuses_a_directory_without_build_sh(tmp_path: Path) -> None:
    done = subprocess.run(
        [GRADE, "grade", "--workspace", str(tmp_path), "--stages", "T0"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 2
    assert "no build.sh" in done.stderr
