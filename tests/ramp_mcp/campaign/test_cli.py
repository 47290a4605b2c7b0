"""`ramp campaign`: the commands are in the umbrella CLI; bad input exits 2 with a message
that says what to fix, before any trial starts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlmodel import select

from grader.ledger import Campaign, Ledger

BIN = Path(sys.executable).parent


def _ramp(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "ramp"), *args], capture_output=True, text=True, timeout=120)


def _file(path: Path, body: str) -> Path:
    path.write_text(body, encoding="utf-8")
    return path


AGENT = '[[agents]]\nname = "a"\nkind = "scripted"\n'


def test_the_group_is_registered_with_run_and_status() -> None:
    shown = _ramp("campaign", "--help")
    assert shown.returncode == 0
    assert "run" in shown.stdout and "status" in shown.stdout


def test_bad_files_and_missing_agents_exit_2(campaign_home: Path) -> None:
    url = f"sqlite:///{campaign_home / 'ledger.sqlite3'}"
    typo = _file(campaign_home / "typo.toml", f'name = "c"\ntrails = 2\n{AGENT}')
    done = _ramp("campaign", "run", str(typo), "--ledger", url)
    assert done.returncode == 2
    assert "typo.toml is not a valid campaign file" in done.stderr
    assert "trails: is not a key" in done.stderr
    missing = _file(
        campaign_home / "missing.toml",
        'name = "c"\n[[agents]]\nname = "x"\nkind = "command"\ncommand = "no-such-agent-4f1"\n',
    )
    done = _ramp("campaign", "run", str(missing), "--ledger", url)
    assert done.returncode == 2
    assert "agent 'x' of campaign 'c'" in done.stderr and "not an executable" in done.stderr
    ray = _file(campaign_home / "ray.toml", f'name = "c"\n{AGENT}[executor]\nkind = "ray"\n')
    done = _ramp("campaign", "run", str(ray), "--ledger", url)
    assert done.returncode == 2 and "a PostgreSQL URL" in done.stderr
    # Refused before anything was written: no campaign, no run.
    with Ledger.open(url) as ledger, ledger.session(write=False) as session:
        assert session.exec(select(Campaign.name)).all() == []
    assert ledger.list_runs() == []


def test_a_changed_file_needs_restart(campaign_home: Path) -> None:
    url = f"sqlite:///{campaign_home / 'ledger.sqlite3'}"
    with Ledger.open(url) as ledger:
        ledger.open_campaign("c", spec="{}", spec_hash="an-older-file", trials=[])
    changed = _file(campaign_home / "c.toml", f'name = "c"\ntrials = 1\n{AGENT}')
    done = _ramp("campaign", "run", str(changed), "--ledger", url)
    assert done.returncode == 2
    assert "campaign 'c'" in done.stderr and "--restart" in done.stderr
    shown = _ramp("campaign", "status", "c", "--ledger", url)
    assert shown.returncode == 0 and "0 queued" in shown.stdout
