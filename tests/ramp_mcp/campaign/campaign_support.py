"""Helpers of the campaign tests: RAMP homes of their own, the ``ramp`` command in one, and
a campaign's per-trial scores straight from the ledger."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from grader.ledger import Ledger
from tests.support import shared_ramp_home
from toolchain._capped import release_capped_dirs_under

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
EXAMPLE = ROOT / "examples" / "campaigns" / "scripted.toml"


def new_home() -> Path:
    """A RAMP home of a test's own that shares the machine's root file systems and golden
    artifacts."""
    return shared_ramp_home("ramp-test-campaign-")


def drop_home(home: Path) -> None:
    release_capped_dirs_under(home)  # the runs' capped workspaces and scratch directories
    shutil.rmtree(home, ignore_errors=True)


def home_env(home: Path) -> dict[str, str]:
    """This process's environment for a ``ramp`` command (or a Ray node) that uses ``home``."""
    env = {key: value for key, value in os.environ.items() if key != "RAMP_LEDGER_URL"}
    return {**env, "RAMP_HOME": str(home)}


class ScriptedCampaign(BaseModel):
    """examples/campaigns/scripted.toml as one run of ``ramp campaign run`` left it."""

    home: Path
    url: str
    file: Path
    status: dict[str, Any]
    wall_s: float


def ramp_cli(home: Path, *args: str, timeout: float = 3000) -> subprocess.CompletedProcess[str]:
    """``ramp ARGS`` with RAMP home ``home``."""
    return subprocess.run(
        [str(BIN / "ramp"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=home_env(home),
    )


def trial_scores(url: str, campaign: str) -> dict[tuple[str, int], dict[str, float | None]]:
    """Each graded trial's counted run's chained stage scores, by (agent, trial index)."""
    with Ledger.open(url) as ledger:
        return {
            (trial.agent, trial.index): {
                state.stage: state.chained_score for state in ledger.stage_states(trial.run_id)
            }
            for trial in ledger.campaign_trials(campaign)
            if trial.run_id is not None
        }
