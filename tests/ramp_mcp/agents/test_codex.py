"""The real Codex CLI (npm @openai/codex), run by `ramp run --agent codex`, against a
scripted OpenAI Responses API endpoint on localhost.

The user's own Codex configuration (here a CODEX_HOME whose config.toml names the scripted
endpoint as a custom model provider) is carried into the run's CODEX_HOME, RAMP's server
is added to it, and `codex exec` does the rest: it starts `ramp-mcp`, offers our tools to
the model as the `mcp__ramp` namespace, calls them, and writes a rollout whose usage RAMP
imports. The checks mirror the Claude Code test, over both transports.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tomllib
from collections import Counter
from pathlib import Path

import pytest

from grader.ledger import Ledger
from tests.ramp_mcp.agents.clients import BIN, agent_cli, local_env, require_bwrap
from tests.ramp_mcp.agents.openai_api import ScriptedResponses
from tests.ramp_mcp.agents.test_claude_code import NOTES, SCRIPT

MODEL = "gpt-scripted"
KEY_ENV = "RAMP_TEST_SCRIPTED_KEY"


def _user_codex_home(root: Path, base_url: str) -> Path:
    """What a user of a custom provider has in ~/.codex: RAMP must keep it and must drop
    the user's own MCP servers."""
    home = root / "user-codex"
    home.mkdir()
    (home / "config.toml").write_text(
        f'model = "{MODEL}"\n'
        'model_provider = "scripted"\n\n'
        "[model_providers.scripted]\n"
        'name = "Scripted Responses API"\n'
        f'base_url = "{base_url}/v1"\n'
        f'env_key = "{KEY_ENV}"\n'
        'wire_api = "responses"\n\n'
        "[mcp_servers.users_own]\n"
        'command = "/nonexistent/users-own-server"\n',
        encoding="utf-8",
    )
    return home


@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_codex_works_through_mcp_and_its_rollout_usage_is_imported(
    tmp_path: Path, transport: str
) -> None:
    cli = agent_cli("codex", "@openai/codex")
    require_bwrap()
    ledger = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    endpoint = ScriptedResponses(SCRIPT, final_text="T0 is ready; over to the grader.")
    with endpoint.serving() as url:
        user_home = _user_codex_home(tmp_path, url)
        done = subprocess.run(
            [
                str(BIN / "ramp"),
                "run",
                "--agent",
                "codex",
                "--sandbox",
                "bwrap",
                "--sample",
                "4",
                "--transport",
                transport,
                "--ledger",
                ledger,
                "--json",
            ],
            capture_output=True,
            text=True,
            timeout=400,
            env=local_env(
                CODEX_HOME=str(user_home),
                RAMP_CODEX_BIN=str(cli),
                **{KEY_ENV: "not-a-real-key"},
            ),
        )
    exchange = endpoint.exchange.describe()
    assert done.returncode == 0, f"{done.stderr}\n{exchange}"
    result = json.loads(done.stdout)
    run_id, workspace = result["run_id"], Path(result["workspace"])
    try:
        stderr_log = Path(result["ended"]["stderr_log"]).read_text()
        assert result["ended"]["exit_code"] == 0, f"{stderr_log[-3000:]}\n{exchange}"

        # The run's CODEX_HOME: the user's provider kept, the user's MCP server dropped.
        config = tomllib.loads((Path(result["agent_dir"]) / "codex" / "config.toml").read_text())
        assert config["model_providers"]["scripted"]["env_key"] == KEY_ENV
        assert set(config["mcp_servers"]) == {"ramp"}
        server = config["mcp_servers"]["ramp"]
        assert ("url" in server) == (transport == "http") != ("command" in server)
        assert config["features"]["shell_tool"] is False

        # Codex offered our tools in its mcp__ramp namespace, and no host shell.
        assert endpoint.exchange.tool_names == {
            call.tool: f"mcp__ramp__{call.tool}" for call in SCRIPT
        }, exchange
        main = [r.body for r in endpoint.exchange.requests if isinstance(r.body, dict)]
        offered = {t.get("name") for body in main for t in body.get("tools") or []}
        assert "mcp__ramp" in offered and not offered & {"exec_command", "shell"}, offered
        assert not any(
            "unsupported" in r or "approval" in r for r in endpoint.exchange.tool_results
        )

        with Ledger.open(ledger) as opened:
            events = opened.usage_events(run_id)
        calls = [(e.tool, e.outcome, e.source) for e in events if e.kind == "tool_call"]
        assert calls == [(call.tool, "ok", "mcp") for call in SCRIPT], exchange
        assert os.access(workspace / "build.sh", os.X_OK)
        assert (workspace / "notes" / "plan.md").read_text() == NOTES

        # One token event per response, with the numbers the endpoint reported (OpenAI's
        # input already includes the cached part).
        served = [s for s in endpoint.exchange.served if s.main_loop]
        expected = Counter(
            (
                s.usage.input_tokens + s.usage.cache_read_input_tokens,
                s.usage.cache_read_input_tokens,
                s.usage.output_tokens,
                s.usage.reasoning_output_tokens,
            )
            for s in served
        )
        tokens = [e for e in events if e.kind == "tokens"]
        assert {e.source for e in tokens} == {"codex_rollout"}
        got = Counter(
            (
                e.input_tokens,
                e.cache_read_input_tokens,
                e.output_tokens,
                e.reasoning_output_tokens,
            )
            for e in tokens
        )
        assert got == expected
        (imported,) = result["imports"]
        assert imported["format"] == "codex" and imported["problems"] == []

        graded = result["graded"]
        assert graded is not None, result["grade_note"]
        assert graded["stage"] == "T0" and graded["passed"] is True, graded
    finally:
        shutil.rmtree(workspace.parent, ignore_errors=True)
