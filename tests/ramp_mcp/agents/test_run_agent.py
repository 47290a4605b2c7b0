"""`ramp run --agent "CMD"`: any program finds the run through RAMP_* variables, works
through the real MCP server (HTTP or stdio) and reports usage in a file; a missing program
is refused before a run is made."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from grader.ledger import Ledger
from tests.ramp_mcp.agents.clients import BIN, ramp_run, remove_run, require_bwrap

AGENT = Path(__file__).with_name("command_agent.py")


@pytest.fixture(autouse=True)
def _bwrap_ready() -> None:
    require_bwrap()


@pytest.mark.parametrize("transport", ["http", "stdio"])
def test_command_agent_works_through_mcp_and_its_usage_file_is_imported(
    tmp_path: Path, transport: str
) -> None:
    ledger = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    command = shlex.join([sys.executable, str(AGENT)])
    result = ramp_run(ledger, command, "--transport", transport, "--model", "command-model")
    try:
        assert result["ended"]["exit_code"] == 0, Path(result["ended"]["stderr_log"]).read_text()
        assert result["transport"] == transport
        run_id = result["run_id"]
        written = Path(result["workspace"]) / "notes" / "from-command.txt"
        assert written.read_text() == run_id

        with Ledger.open(ledger) as opened:
            events = opened.usage_events(run_id)
            run = opened.get_run(run_id)
        calls = [(e.tool, e.outcome, e.source) for e in events if e.kind == "tool_call"]
        assert calls == [("write_file", "ok", "mcp"), ("status", "ok", "mcp")]
        assert result["tool_calls"] == 2
        tokens = [e for e in events if e.kind == "tokens"]
        assert [(t.input_tokens, t.cache_read_input_tokens, t.output_tokens) for t in tokens] == [
            (700, 500, 42)
        ]
        assert result["imports"][0]["records_added"] == 1
        assert (run.agent, run.model, run.harness) == (
            Path(sys.executable).name,
            "command-model",
            "ramp run --agent",
        )

        # The open stage was graded as the workspace stood: it has no build.sh, which the
        # grader refuses with a reason, and the run says so instead of failing.
        assert result["graded"] is None
        assert "build.sh" in result["grade_note"]
        assert result["status"]["open_stage"] == "T0"
    finally:
        remove_run(result)


def test_a_missing_agent_program_is_refused_before_a_run_is_made(tmp_path: Path) -> None:
    ledger = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    done = subprocess.run(
        [str(BIN / "ramp"), "run", "--agent", "no-such-agent-program --flag", "--ledger", ledger],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "no-such-agent-program" in done.stderr and "claude-code" in done.stderr
    with Ledger.open(ledger) as opened:
        assert opened.list_runs() == []
