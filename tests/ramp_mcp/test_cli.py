"""The three console scripts exist and answer."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


@pytest.mark.parametrize("script", ["ramp", "ramp-mcp", "ramp-grade"])
def test_console_scripts_answer_help(script: str) -> None:
    done = subprocess.run([str(BIN / script), "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Usage:" in done.stdout


def test_ramp_lists_its_command_groups() -> None:
    done = subprocess.run([str(BIN / "ramp"), "--help"], capture_output=True, text=True, timeout=60)
    assert "toolchain" in done.stdout and "sandbox" in done.stdout
