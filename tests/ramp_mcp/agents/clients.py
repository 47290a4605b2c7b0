"""What the agent tests share: finding the agent CLIs, an environment that keeps them
local, running `ramp run --agent ... --json`, and removing the run afterwards."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support import backend_missing
from toolchain._manifest import Profile

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
NODE_BIN = ROOT / ".node" / "node_modules" / ".bin"

# Variables of the model providers and the agent CLIs themselves: none may reach the CLI
# under test from the environment the tests run in (a real key or endpoint, a parent
# Claude Code session), so that it talks to the scripted endpoint and nothing else.
_FOREIGN_PREFIXES = ("ANTHROPIC_", "CLAUDE", "OPENAI_", "CODEX_", "AWS_BEARER")


def agent_cli(name: str, package: str) -> Path:
    """The CLI ``name`` (toolchain/setup.sh puts it in .node/), or skip the test."""
    local = NODE_BIN / name
    if local.is_file():
        return local
    found = shutil.which(name)
    if found:
        return Path(found)
    if shutil.which("node") is None:
        pytest.skip(f"node is not installed, so {package} cannot run")
    pytest.skip(f"{package} is not installed (bash toolchain/setup.sh installs it into .node/)")


def local_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(_FOREIGN_PREFIXES)}
    env.update(extra)
    return env


def require_bwrap() -> None:
    if backend_missing("bwrap") or backend_missing("bwrap", Profile.MINIMAL):
        pytest.skip("bwrap or its root file systems are not ready (bash toolchain/setup.sh)")


def ramp_run(ledger: str, agent: str, *args: str, env: dict[str, str] | None = None) -> Any:
    """`ramp run --agent AGENT --sandbox bwrap --json ARGS` must succeed: its JSON result."""
    done = subprocess.run(
        [
            *(str(BIN / "ramp"), "run", "--agent", agent, "--sandbox", "bwrap"),
            *("--ledger", ledger, "--json", *args),
        ],
        capture_output=True,
        text=True,
        timeout=400,
        env=env if env is not None else dict(os.environ),
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def remove_run(result: dict[str, Any]) -> None:
    shutil.rmtree(Path(result["workspace"]).parent, ignore_errors=True)
