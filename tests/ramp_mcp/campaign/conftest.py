"""Campaign fixtures: a RAMP home of the test's own (runs, ledger, campaign files) that
shares the machine's root file systems and golden artifacts; the example campaign run once
on the local executor."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ramp_mcp.campaign.campaign_support import (
    EXAMPLE,
    ScriptedCampaign,
    drop_home,
    new_home,
    ramp_cli,
)
from tests.support import backend_missing
from toolchain._manifest import Profile


@pytest.fixture
def campaign_home(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = new_home()
    monkeypatch.setenv("RAMP_HOME", str(home))
    monkeypatch.delenv("RAMP_LEDGER_URL", raising=False)
    yield home
    drop_home(home)


@pytest.fixture(scope="session")
def scripted_local() -> Iterator[ScriptedCampaign]:
    """The example campaign (2 scripted agents x 3 trials, 4 hidden cases) run once on the
    local executor through the CLI, on a SQLite ledger; shared by the tests that check it
    and compare other executors against it."""
    if backend_missing("bwrap") or backend_missing("bwrap", Profile.MINIMAL):
        pytest.skip("bwrap not ready")
    home = new_home()
    try:
        url = f"sqlite:///{home / 'ledger.sqlite3'}"
        file = home / "scripted.toml"
        shutil.copyfile(EXAMPLE, file)
        started = time.monotonic()
        done = ramp_cli(home, "campaign", "run", str(file), "--ledger", url, "--json")
        wall = time.monotonic() - started
        assert done.returncode == 0, done.stderr[-4000:]
        yield ScriptedCampaign(
            home=home, url=url, file=file, status=json.loads(done.stdout), wall_s=wall
        )
    finally:
        drop_home(home)
