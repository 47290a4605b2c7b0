"""`ramp run create` and `ramp-grade submit|status|runs` through the console scripts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import backend_missing
from toolchain._manifest import Profile

BIN = Path(sys.executable).parent


def run(*argv: str, ledger: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / argv[0]), *argv[1:], "--ledger", ledger],
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_a_run_from_the_command_line(tmp_path: Path) -> None:
    if backend_missing("bwrap") or backend_missing("bwrap", Profile.MINIMAL):
        pytest.skip("bwrap not ready")
    ledger = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    created = run(
        "ramp",
        "run",
        "create",
        "--agent",
        "cli-test",
        "--sandbox",
        "bwrap",
        "--json",
        ledger=ledger,
    )
    assert created.returncode == 0, created.stderr
    info = json.loads(created.stdout)
    run_id, workspace = info["run_id"], Path(info["workspace"])
    assert (workspace / "contracts" / "workspace.md").is_file()

    refused = run("ramp-grade", "submit", run_id, "--stage", "T1", ledger=ledger)
    assert refused.returncode == 4
    assert "T1 is locked" in refused.stderr

    # The reference preprocessor as bin/t0: T0 may call it, so it passes on the hidden set.
    (workspace / "build.sh").write_text(
        "#!/bin/sh\nmkdir -p bin\nprintf '#!/bin/sh\\nexec clang-19 -E -x c -isystem /ramp/include "
        '-include sylib.h "$1" -o "$2"\\n\' > bin/t0\nchmod +x bin/t0\n'
    )
    (workspace / "build.sh").chmod(0o755)
    graded = run("ramp-grade", "submit", run_id, "--stage", "T0", "--json", ledger=ledger)
    assert graded.returncode == 0, graded.stderr
    outcome = json.loads(graded.stdout)
    assert outcome["chained_score"] == 100.0 and outcome["passed"] is True
    assert outcome["next_open"] == "T1"
    assert (workspace.parent / "reference" / "T0").is_dir()

    status = json.loads(run("ramp-grade", "status", run_id, "--json", ledger=ledger).stdout)
    assert [s["state"] for s in status["stages"]][:2] == ["passed", "open"]
    runs = json.loads(run("ramp-grade", "runs", "--json", ledger=ledger).stdout)
    assert [r["run_id"] for r in runs["runs"]] == [run_id]
    missing = run("ramp-grade", "status", "r-0000000000", ledger=ledger)
    assert missing.returncode == 2 and "r-0000000000" in missing.stderr
