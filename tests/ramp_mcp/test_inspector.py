"""The MCP Inspector's CLI (npm @modelcontextprotocol/inspector) drives `ramp-mcp` over stdio."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INSPECTOR = ROOT / ".node" / "node_modules" / ".bin" / "mcp-inspector"
BIN = Path(sys.executable).parent


def test_inspector_lists_tools_and_calls_one(tmp_path: Path) -> None:
    if not INSPECTOR.exists():
        pytest.skip("the MCP Inspector is not installed (toolchain/setup.sh installs it with npm)")
    ledger = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    created = subprocess.run(
        [str(BIN / "ramp"), "run", "create", "--sandbox", "bwrap", "--ledger", ledger, "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    run_id = json.loads(created.stdout)["run_id"]
    server = [str(BIN / "ramp-mcp"), "--run", run_id, "--ledger", ledger]

    listed = subprocess.run(
        [str(INSPECTOR), "--cli", *server, "--method", "tools/list"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listed.returncode == 0, listed.stderr
    names = {tool["name"] for tool in json.loads(listed.stdout)["tools"]}
    assert {
        "read_file",
        "write_file",
        "run_command",
        "build",
        "run_stage",
        "submit_stage",
        "status",
    } <= names

    called = subprocess.run(
        [
            str(INSPECTOR),
            "--cli",
            *server,
            "--method",
            "tools/call",
            "--tool-name",
            "read_file",
            "--tool-arg",
            "path=README.md",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert called.returncode == 0, called.stderr
    result = json.loads(called.stdout)
    assert result["structuredContent"]["path"] == "README.md"
    assert "six stages" in result["structuredContent"]["content"]

    refused = subprocess.run(
        [
            str(INSPECTOR),
            "--cli",
            *server,
            "--method",
            "tools/call",
            "--tool-name",
            "read_file",
            "--tool-arg",
            "path=../../etc/passwd",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "outside" in (refused.stdout + refused.stderr) or "'..'" in (
        refused.stdout + refused.stderr
    )
