"""Campaign fixtures: a RAMP home of the test's own (runs, ledger, campaign files) that
shares the machine's root file systems and golden artifacts."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import reachable_temp_dir
from toolchain._capped import release_capped_dirs_under
from toolchain._paths import ramp_home


@pytest.fixture
def campaign_home(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    shared = ramp_home()
    home = reachable_temp_dir("ramp-test-campaign-")
    for name in ("rootfs", "golden"):
        (home / name).symlink_to(shared / name)
    monkeypatch.setenv("RAMP_HOME", str(home))
    monkeypatch.delenv("RAMP_LEDGER_URL", raising=False)
    yield home
    release_capped_dirs_under(home)  # the runs' capped workspaces and scratch directories
    shutil.rmtree(home, ignore_errors=True)
