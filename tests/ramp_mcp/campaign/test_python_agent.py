"""A ``python`` campaign agent runs as an agent process of its own, named after the agent in
the ledger, reaches its run through the real MCP server (stdio) with its options, and its
tool calls are the run's. Real runs, real server; no grading (nothing is built)."""

from __future__ import annotations

from pathlib import Path

from grader.ledger import Ledger
from ramp_mcp.campaign import parse_campaign, run_campaign


def test_a_python_agent_works_through_mcp_under_its_own_name(campaign_home: Path) -> None:
    url = f"sqlite:///{campaign_home / 'ledger.sqlite3'}"
    spec = parse_campaign(
        {
            "name": "python-agent",
            "agents": [
                {
                    "name": "noter",
                    "kind": "python",
                    "entry": "tests.ramp_mcp.campaign.python_agent:write_note",
                    "options": {"text": "written by a campaign agent"},
                }
            ],
            "trials": 2,
            "sandbox": "bwrap",
            "sample": 4,
        },
        source="test",
    )
    status = run_campaign(spec, ledger_url=url)
    assert status.counts["graded"] == 2, status.trials
    with Ledger.open(url) as ledger:
        for trial in status.trials:
            run = ledger.get_run(str(trial.run_id))
            assert run.agent == "noter"
            note = Path(run.workspace) / "notes" / "campaign.txt"
            assert note.read_text() == "written by a campaign agent"
            calls = [
                (e.tool, e.outcome) for e in ledger.usage_events(run.id) if e.kind == "tool_call"
            ]
            assert calls == [("write_file", "ok"), ("status", "ok")]
