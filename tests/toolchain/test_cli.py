"""`ramp toolchain ...` and `ramp sandbox ...` through the installed console script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import backend_missing

RAMP = str(Path(sys.executable).with_name("ramp"))


def ramp(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([RAMP, *args], input=stdin, capture_output=True, text=True, timeout=300)


def test_doctor_json_lists_every_tool_with_a_version_and_a_fingerprint() -> None:
    done = ramp("toolchain", "doctor", "--json")
    report = json.loads(done.stdout)
    assert len(report["fingerprint"]) == 64
    assert set(report["profile_fingerprints"]) == {"dev", "minimal", "host"}
    commands = {t["command"]: t for t in report["tools"]}
    assert {"clang-19", "llc-19", "qemu-riscv64", "riscv64-linux-gnu-gcc", "bwrap"} <= set(commands)
    assert commands["clang-19"]["version"] == "19.1.7"
    for tool in report["tools"]:
        assert tool["ok"] == (tool["fix"] is None)
        if tool["path"] is not None:
            # Installed: the manifest's version pattern must read what the tool prints.
            assert tool["version"] is not None, tool
    assert commands["bison"]["matches_pin"] is True or commands["bison"]["path"] is None
    assert done.returncode == (0 if report["ok"] else 1)


def test_doctor_gives_the_fix_for_what_is_missing(tmp_path: Path) -> None:
    # A PATH without the toolchain: every tool is missing and each names its fix.
    env = {"PATH": str(tmp_path), "HOME": str(tmp_path)}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from ramp_mcp.cli import main; main()",
            "toolchain",
            "doctor",
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    report = json.loads(done.stdout)
    clang = next(t for t in report["tools"] if t["command"] == "clang-19")
    assert clang["ok"] is False
    assert "ramp toolchain install" in clang["fix"]
    assert "clang-19=1:19.1.7-3~deb12u1" in clang["fix"]
    assert done.returncode == 1


def test_install_dry_run_prints_the_host_packages() -> None:
    done = ramp("toolchain", "install", "--dry-run", "--exact")
    assert done.returncode == 0
    assert "clang-19=1:19.1.7-3~deb12u1" in done.stdout.split()
    assert "bubblewrap=0.8.0-2+deb12u1" in done.stdout.split()


@pytest.mark.parametrize("backend", ["docker", "bwrap"])
def test_sandbox_run_json(backend: str, workspace: Path) -> None:
    reason = backend_missing(backend)
    if reason:
        pytest.skip(reason)
    done = ramp(
        "sandbox",
        "run",
        "--backend",
        backend,
        "--workspace",
        str(workspace),
        "--timeout",
        "20",
        "--json",
        "--",
        "sh",
        "-c",
        "cat; echo err >&2; exit 3",
        stdin="piped\n",
    )
    result = json.loads(done.stdout)
    assert {"outcome", "exit_code", "stdout", "stderr", "duration_s"} <= set(result)
    assert result["outcome"] == "nonzero"
    assert result["exit_code"] == 3
    assert result["stdout"] == "piped\n"
    assert result["stderr"] == "err\n"
    assert result["backend"] == backend
    assert done.returncode == 1


def test_sandbox_run_timeout_outcome(workspace: Path) -> None:
    if backend_missing("bwrap"):
        pytest.skip("bwrap not ready")
    done = ramp(
        "sandbox",
        "run",
        "--backend",
        "bwrap",
        "--workspace",
        str(workspace),
        "--timeout",
        "1",
        "--",
        "sleep",
        "60",
    )
    assert done.returncode == 1
    assert "outcome=timeout" in done.stderr


def test_sandbox_run_bad_input_is_a_clear_error(workspace: Path) -> None:
    done = ramp(
        "sandbox", "run", "--backend", "podman", "--workspace", str(workspace), "--", "true"
    )
    assert done.returncode == 2
    assert "unknown sandbox backend 'podman'" in done.stderr
    done = ramp("sandbox", "run", "--backend", "local", "--workspace", str(workspace), "--", "true")
    assert done.returncode == 2
    assert "--unsafe-local" in done.stderr
