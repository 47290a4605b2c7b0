"""A run on a generated epoch, end to end through MCP: made with `ramp golden epoch new`,
chosen by `--epoch`, graded on the epoch's hidden cases (the ledger records which), reported
and ranked per epoch. Its secrecy is attacked in tests/trust/redteam_g5.py."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from golden.epochs import epoch_id
from grader.ledger import STAGES, Ledger, StageOutput, Submission
from tests.support import backend_missing, ramp_command, ramp_home_set, shared_ramp_home
from toolchain._manifest import Profile

BIN = Path(sys.executable).parent
SEED = 21
EPOCH = epoch_id(SEED, 3, 1)


def _ramp(home: Path, *argv: str) -> str:
    return ramp_command(home, *argv).stdout


@pytest.fixture(scope="module")
def home() -> Iterator[Path]:
    """A RAMP home with the epoch made in it; RAMP_HOME points there for the module."""
    if backend_missing("bwrap") or backend_missing("bwrap", Profile.MINIMAL):
        pytest.skip("bwrap not ready")
    with ramp_home_set(shared_ramp_home("ramp-test-epoch-run-")) as home:
        _ramp(home, "ramp", "golden", "epoch", "new", "--seed", str(SEED), "--guessable-seed",
              "--functional", "3", "--performance", "1", "--backend", "bwrap")  # fmt: skip
        yield home


def _graded_cases(ledger: Ledger, run_id: str) -> dict[str, set[str]]:
    """Per stage, the cases whose outputs the run's graded submissions froze."""
    with ledger.session(write=False) as session:
        rows = session.exec(
            select(Submission.stage, StageOutput.case)
            .join(StageOutput, col(StageOutput.submission_id) == col(Submission.id))
            .where(Submission.run_id == run_id)
        ).all()
    graded: dict[str, set[str]] = {}
    for stage, case in rows:
        graded.setdefault(stage, set()).add(case)
    return graded


def _ledger_url(home: Path) -> str:
    return f"sqlite:///{home / 'ledger.sqlite3'}"


def test_the_scripted_agent_passes_an_epoch_and_the_run_records_it(home: Path) -> None:
    result: dict[str, Any] = json.loads(
        _ramp(
            home, "ramp", "demo", "--epoch", EPOCH, "--sample", "0", "--sandbox", "bwrap", "--json"
        )
    )
    assert result["epoch"] == EPOCH
    for stage in result["stages"]:
        assert stage["passed"] is True, stage
        if stage["stage"] != "T4":
            assert stage["chained_score"] == 100.0, stage
    with Ledger.open(result["ledger"]) as ledger:
        assert ledger.get_run(result["run_id"]).epoch == EPOCH
        graded = _graded_cases(ledger, result["run_id"])
    # Every stage was graded on exactly the epoch's cases: their outputs are frozen by name
    # for the next stage (so T0..T4; nothing comes after T5).
    manifest = json.loads((home / "epochs" / EPOCH / "manifest.json").read_text())
    assert graded == {stage: {c["name"] for c in manifest["cases"]} for stage in STAGES[:-1]}
    report = json.loads(_ramp(home, "ramp-grade", "report", result["run_id"], "--format", "json"))
    assert report["runs"][0]["run"]["epoch"] == EPOCH

    # A run on the built-in corpus beside it: the leaderboard keeps them apart and says so.
    _ramp(home, "ramp", "run", "create", "--agent", "other", "--sandbox", "bwrap")
    board = json.loads(_ramp(home, "ramp-grade", "leaderboard", "--format", "json"))
    assert board["epochs"] == ["0", EPOCH]
    assert {(row["agent"], row["epoch"]) for row in board["rows"]} == {
        ("other", "0"),
        ("scripted", EPOCH),
    }
    assert "MIX EPOCHS" in _ramp(home, "ramp-grade", "leaderboard", "--format", "md")
    only = json.loads(
        _ramp(home, "ramp-grade", "leaderboard", "--format", "json", "--epoch", EPOCH)
    )
    assert only["epochs"] == [EPOCH] and [row["agent"] for row in only["rows"]] == ["scripted"]
