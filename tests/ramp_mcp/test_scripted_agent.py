"""The scripted agent and `ramp demo`: the whole job through the MCP server over stdio.

The demo runs are real: the reference solution written through MCP tool calls, built and
graded in the sandbox on a fixed sample of hidden cases (the whole hidden set is what
`ramp demo` grades by default; benchmarks/ time that).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from golden import Stage
from ramp_mcp._scripted_agent import stage_files
from tests.support import backend_missing, reachable_temp_dir
from toolchain._manifest import Profile
from toolchain._paths import ramp_home

BIN = Path(sys.executable).parent
DEMO_SAMPLE = "8"


def _module(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_stage_files_follow_the_imports(tmp_path: Path) -> None:
    _module(tmp_path / "build.sh", "#!/bin/sh\n")
    _module(tmp_path / "bin" / "t1", "#!/usr/bin/env python3\nfrom sysyc.t1 import main\n")
    _module(tmp_path / "sysyc" / "__init__.py", "")
    _module(tmp_path / "sysyc" / "_cli.py", "")
    _module(tmp_path / "sysyc" / "t1.py", "from sysyc.lex_a import x\nfrom . import lex_b\n")
    _module(tmp_path / "sysyc" / "lex_a.py", "from sysyc._cli import run_stage\nimport json\n")
    _module(tmp_path / "sysyc" / "lex_b.py", "from .lex_a import x\n")
    _module(tmp_path / "sysyc" / "t3.py", "from sysyc import irgen\n")
    _module(tmp_path / "sysyc" / "irgen.py", "")
    assert stage_files(Stage.T1, tmp_path) == [
        "bin/t1",
        "sysyc/__init__.py",
        "sysyc/_cli.py",
        "sysyc/lex_a.py",
        "sysyc/lex_b.py",
        "sysyc/t1.py",
    ]
    assert "sysyc/irgen.py" in stage_files(Stage.T3, tmp_path)
    assert stage_files(Stage.T2, tmp_path) == ["sysyc/__init__.py"], "no t2 yet, no launcher"


def _demo(home: Path, *extra: str) -> dict[str, object]:
    env = {**os.environ, "RAMP_HOME": str(home)}
    done = subprocess.run(
        [
            str(BIN / "ramp"),
            "demo",
            "--sample",
            DEMO_SAMPLE,
            "--sandbox",
            "bwrap",
            "--json",
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=1800,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, object] = json.loads(done.stdout)
    return result


@pytest.fixture
def demo_home() -> Iterator[Path]:
    if backend_missing("bwrap") or backend_missing("bwrap", Profile.MINIMAL):
        pytest.skip("bwrap not ready")
    home = reachable_temp_dir("ramp-test-demo-")
    # Root file systems and golden artifacts are machine-wide; runs and the ledger are not.
    for shared in ("rootfs", "golden"):
        (home / shared).symlink_to(ramp_home() / shared)
    yield home
    shutil.rmtree(home, ignore_errors=True)


def test_demo_passes_every_stage(demo_home: Path) -> None:
    result = _demo(demo_home)
    stages = result["stages"]
    assert isinstance(stages, list) and [s["stage"] for s in stages] == [s.value for s in Stage]
    for stage in stages:
        assert stage["passed"] is True, stage
        assert stage["chained_score"] == stage["isolated_score"], stage
    for stage in stages:
        if stage["stage"] != "T4":
            assert stage["chained_score"] == 100.0, stage
    assert Path(str(result["workspace"])).joinpath("bin", "t5").is_file()


def test_demo_with_a_broken_t2_resurrects_it(demo_home: Path) -> None:
    result = _demo(demo_home, "--break-stage", "T2")
    by_stage = {s["stage"]: s for s in result["stages"]}  # type: ignore[attr-defined]
    assert by_stage["T2"]["resurrected"] is True and by_stage["T2"]["chained_score"] == 0.0
    # T3 is still graded, on the golden T2 outputs, and passes.
    assert by_stage["T3"]["passed"] is True and by_stage["T3"]["chained_score"] == 100.0
    assert all(by_stage[s]["state"] != "locked" for s in ("T3", "T4", "T5"))
