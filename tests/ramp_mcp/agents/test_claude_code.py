"""The real Claude Code CLI (npm @anthropic-ai/claude-code), run by `ramp run --agent
claude-code`, against a scripted Anthropic Messages API endpoint on localhost.

Claude Code itself starts `ramp-mcp` from the per-run configuration, lists our tools, calls
them when the scripted model asks, and writes its session transcript; RAMP then imports
the transcript's usage, grades the open stage and reports. The test checks each link: the
tool calls reached the server through MCP (the ledger's tool_call events and the files in
the workspace), the built-in host tools were withheld, and the imported token events are
exactly the responses the endpoint sent, once each although Claude Code wrote two
transcript lines for each two-block response.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path

from grader.ledger import Ledger
from ramp_mcp.harness import Ramp
from tests.ramp_mcp.agents.anthropic_api import ScriptedAnthropic
from tests.ramp_mcp.agents.clients import BIN, agent_cli, local_env, require_bwrap
from tests.ramp_mcp.agents.scripted import Call

MODEL = "claude-scripted-1"
BUILD_SH = (
    "#!/bin/sh\nset -e\nmkdir -p bin\nprintf '#!/bin/sh\\nexec clang-19 -E -x c -isystem "
    '/ramp/include -include sylib.h "$1" -o "$2"\\n\' > bin/t0\nchmod +x bin/t0\n'
)
NOTES = "T0 delegates to the preprocessor; T1 next.\n"
SCRIPT = [
    Call("write_file", {"path": "build.sh", "content": BUILD_SH}),
    Call("build", {}),
    Call("write_file", {"path": "notes/plan.md", "content": NOTES}),
    Call("status", {}),
]


def test_claude_code_works_through_mcp_and_its_transcript_usage_is_imported(
    tmp_path: Path,
) -> None:
    cli = agent_cli("claude", "@anthropic-ai/claude-code")
    require_bwrap()
    ledger = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    endpoint = ScriptedAnthropic(SCRIPT, final_text="T0 is ready; over to the grader.")
    with endpoint.serving() as url:
        done = subprocess.run(
            [
                str(BIN / "ramp"),
                "run",
                "--agent",
                "claude-code",
                "--model",
                MODEL,
                "--sandbox",
                "bwrap",
                "--sample",
                "4",
                "--ledger",
                ledger,
                "--json",
            ],
            capture_output=True,
            text=True,
            timeout=400,
            env=local_env(
                ANTHROPIC_BASE_URL=url,
                ANTHROPIC_API_KEY="sk-ant-test-not-a-real-key",
                RAMP_CLAUDE_BIN=str(cli),
            ),
        )
    exchange = endpoint.exchange.describe()
    assert done.returncode == 0, f"{done.stderr}\n{exchange}"
    result = json.loads(done.stdout)
    run_id, workspace = result["run_id"], Path(result["workspace"])
    try:
        stderr_log = Path(result["ended"]["stderr_log"]).read_text()
        assert result["ended"]["exit_code"] == 0, f"{stderr_log[-3000:]}\n{exchange}"

        # Claude Code offered our tools under its MCP names, and none of its host tools.
        assert endpoint.exchange.tool_names == {
            call.tool: f"mcp__ramp__{call.tool}" for call in SCRIPT
        }, exchange
        main = [
            r.body
            for r in endpoint.exchange.requests
            if isinstance(r.body, dict)
            and any(t.get("name", "").startswith("mcp__ramp__") for t in r.body.get("tools") or [])
        ]
        assert len(main) == len(SCRIPT) + 1, exchange
        offered = {t["name"] for body in main for t in body["tools"]}
        assert not offered & {"Bash", "Write", "Edit", "Read", "WebFetch"}, offered
        assert {body["model"] for body in main} == {MODEL}
        assert not any(r.startswith("ERROR") for r in endpoint.exchange.tool_results), exchange

        # The calls arrived through MCP: the server recorded each one, and did the work.
        with Ledger.open(ledger) as opened:
            events = opened.usage_events(run_id)
        calls = [(e.tool, e.outcome, e.source) for e in events if e.kind == "tool_call"]
        assert calls == [(call.tool, "ok", "mcp") for call in SCRIPT], exchange
        assert result["tool_calls"] == len(SCRIPT)
        assert os.access(workspace / "build.sh", os.X_OK)
        assert (workspace / "notes" / "plan.md").read_text() == NOTES

        # The transcript's usage: one token event per response the endpoint sent in the
        # session, with its numbers (OTel input = uncached + cache read + cache write).
        served = [s for s in endpoint.exchange.served if s.main_loop]
        expected = Counter(
            (
                s.usage.input_tokens
                + s.usage.cache_read_input_tokens
                + s.usage.cache_creation_input_tokens,
                s.usage.cache_read_input_tokens,
                s.usage.cache_creation_input_tokens,
                s.usage.output_tokens,
            )
            for s in served
        )
        tokens = [e for e in events if e.kind == "tokens"]
        assert {e.source for e in tokens} == {"claude_jsonl"}
        assert {e.request_model for e in tokens} == {MODEL}
        got = Counter(
            (
                e.input_tokens,
                e.cache_read_input_tokens,
                e.cache_creation_input_tokens,
                e.output_tokens,
            )
            for e in tokens
        )
        assert got == expected
        (imported,) = result["imports"]
        assert imported["format"] == "claude-code" and imported["problems"] == []
        assert imported["records_added"] >= len(served)
        # Two lines per tool-call response (a text block and a tool_use block), merged.
        assert imported["lines_merged"] >= len(SCRIPT)

        # Importing the same transcript again adds nothing.
        with Ramp(ledger) as ramp:
            again = ramp.run(run_id).import_transcript(Path(imported["path"]), "claude-code")
        assert again.records_added == 0 and again.duplicates_skipped == imported["records_added"]

        # The stage Claude Code left open was graded as its workspace stood.
        graded = result["graded"]
        assert graded is not None, result["grade_note"]
        assert graded["stage"] == "T0" and graded["passed"] is True, graded
        assert result["status"]["open_stage"] == "T1"
    finally:
        shutil.rmtree(workspace.parent, ignore_errors=True)
