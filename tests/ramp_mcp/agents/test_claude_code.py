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

import shutil
from collections import Counter
from collections.abc import Hashable
from pathlib import Path

from ramp_mcp.harness import Ramp
from tests.ramp_mcp.agents.anthropic_api import ScriptedAnthropic
from tests.ramp_mcp.agents.clients import agent_cli, local_env, require_bwrap
from tests.ramp_mcp.agents.through_mcp import (
    SCRIPT,
    check_agent_offered_our_tools,
    check_calls_went_through_mcp,
    check_imported_and_graded,
    check_token_events,
    run_scripted,
)

MODEL = "claude-scripted-1"


def test_claude_code_works_through_mcp_and_its_transcript_usage_is_imported(
    tmp_path: Path,
) -> None:
    cli = agent_cli("claude", "@anthropic-ai/claude-code")
    require_bwrap()
    ledger = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    endpoint = ScriptedAnthropic(SCRIPT, final_text="T0 is ready; over to the grader.")
    result, exchange = run_scripted(
        endpoint,
        ledger,
        "claude-code",
        "--model",
        MODEL,
        env=lambda url: local_env(
            ANTHROPIC_BASE_URL=url,
            ANTHROPIC_API_KEY="sk-ant-test-not-a-real-key",
            RAMP_CLAUDE_BIN=str(cli),
        ),
    )
    workspace = Path(result["workspace"])
    try:
        # Claude Code offered our tools under its MCP names, and none of its host tools.
        check_agent_offered_our_tools(result, endpoint, exchange)
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
        events = check_calls_went_through_mcp(ledger, result, exchange)
        assert result["tool_calls"] == len(SCRIPT)

        # The transcript's usage: one token event per response the endpoint sent in the
        # session, with its numbers (OTel input = uncached + cache read + cache write).
        served = [s for s in endpoint.exchange.served if s.main_loop]
        expected: Counter[Hashable] = Counter(
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
        tokens = check_token_events(
            events,
            "claude_jsonl",
            expected,
            lambda e: (
                e.input_tokens,
                e.cache_read_input_tokens,
                e.cache_creation_input_tokens,
                e.output_tokens,
            ),
        )
        assert {e.request_model for e in tokens} == {MODEL}
        # The stage Claude Code left open was graded as its workspace stood.
        imported = check_imported_and_graded(result, "claude-code")
        assert imported["records_added"] >= len(served)
        # Two lines per tool-call response (a text block and a tool_use block), merged.
        assert imported["lines_merged"] >= len(SCRIPT)

        # Importing the same transcript again adds nothing.
        with Ramp(ledger) as ramp:
            again = ramp.run(result["run_id"]).import_transcript(
                Path(imported["path"]), "claude-code"
            )
        assert again.records_added == 0 and again.duplicates_skipped == imported["records_added"]
        assert result["status"]["open_stage"] == "T1"
    finally:
        shutil.rmtree(workspace.parent, ignore_errors=True)
