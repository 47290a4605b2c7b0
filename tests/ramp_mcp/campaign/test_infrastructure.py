"""How attempts end, with real runs and a real ledger but no grading: an agent whose program
cannot be started is the infrastructure's failure (an exception from the launcher), retried up
to ``infra_retries`` with every attempt recorded and none counted; an agent that exits without
doing anything is the model's failure (the failure taxonomy charges it), counted at once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from grader.ledger import Ledger
from ramp_mcp.campaign import parse_campaign, run_campaign

BIN = Path(sys.executable).parent


def test_launch_failures_are_retried_and_never_counted(campaign_home: Path) -> None:
    url = f"sqlite:///{campaign_home / 'ledger.sqlite3'}"
    unstartable = campaign_home / "unstartable-agent"
    unstartable.write_text("#!/nonexistent/interpreter\n")
    unstartable.chmod(0o755)
    spec = parse_campaign(
        {
            "name": "launch",
            "agents": [
                {"name": "unstartable", "kind": "command", "command": str(unstartable)},
                {"name": "idle", "kind": "command", "command": "true"},
            ],
            "trials": 1,
            "infra_retries": 2,
            "sandbox": "bwrap",
            "sample": 4,
        },
        source="test",
    )
    status = run_campaign(spec, ledger_url=url)
    by_agent = {t.agent: t for t in status.trials}
    failed, idle = by_agent["unstartable"], by_agent["idle"]
    assert (failed.state, failed.attempts, failed.run_id) == ("failed", 3, None)
    assert failed.infrastructure_failures == 3
    assert failed.error is not None and "AgentLaunchError" in failed.error, failed.error
    assert (idle.state, idle.attempts, idle.infrastructure_failures) == ("graded", 1, 0)
    with Ledger.open(url) as ledger:
        attempts = ledger.campaign_attempts("launch")
        outcomes = sorted((a.trial_id, a.attempt, a.outcome) for a in attempts)
        failed_runs = [a.run_id for a in attempts if a.outcome == "infrastructure"]
        # Each failed attempt made a run of its own, recorded, counted by no trial.
        assert None not in failed_runs and len(set(failed_runs)) == 3
        assert idle.run_id not in failed_runs
        assert ledger.get_run(str(idle.run_id)).agent == "true"
    assert [o[2] for o in outcomes].count("infrastructure") == 3
    assert [o[2] for o in outcomes].count("charged") == 1
    # The command line shows the same; a re-run tries nothing again.
    shown = subprocess.run(
        [str(BIN / "ramp"), "campaign", "status", "launch", "--ledger", url, "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(shown.stdout)["counts"] == {
        "queued": 0,
        "running": 0,
        "graded": 1,
        "failed": 1,
    }
    again = run_campaign(spec, ledger_url=url)
    assert again.attempts == 4 and again.counts == status.counts
