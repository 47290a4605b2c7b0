"""`ramp golden list|build|verify` through the installed console script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import backend_missing

RAMP = str(Path(sys.executable).with_name("ramp"))


def ramp(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([RAMP, *args], capture_output=True, text=True, timeout=900)


def test_list_json_shape() -> None:
    done = ramp("golden", "list", "--json")
    assert done.returncode == 0
    cases = json.loads(done.stdout)["cases"]
    assert len(cases) >= 160
    assert {c["split"] for c in cases} == {"public", "hidden"}
    assert {c["kind"] for c in cases} == {"functional", "performance", "stress"}
    assert set(cases[0]) == {"name", "split", "kind"}


def test_build_a_users_case_directory(tmp_path: Path) -> None:
    if backend_missing("bwrap"):
        pytest.skip("bwrap not ready")
    (tmp_path / "hello.sy").write_text("int main() { putint(7); putch(10); return 9; }\n")
    done = ramp("golden", "build", "--cases", str(tmp_path), "--backend", "bwrap", "--json")
    assert done.returncode == 0, done.stderr
    (case,) = json.loads(done.stdout)["cases"]
    assert case["name"] == "hello" and case["expected_exit_code"] == 9
    assert Path(case["expected_stdout"]).read_text() == "7\n"
    assert set(case["artifacts"]) == {"T0", "T1", "T2", "T3", "T4", "T5"}
    assert all(Path(p).is_file() for p in case["artifacts"].values())


def test_verify_reproduces_the_manifest_for_a_case() -> None:
    if backend_missing("bwrap"):
        pytest.skip("bwrap not ready")
    done = ramp("golden", "verify", "--case", "exit_300_mod", "--backend", "bwrap")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "reproduce the manifest bit for bit" in done.stdout


def test_unknown_case_is_a_clear_error() -> None:
    done = ramp("golden", "build", "--case", "no_such_case")
    assert done.returncode == 2
    assert "no such case: no_such_case" in done.stderr
