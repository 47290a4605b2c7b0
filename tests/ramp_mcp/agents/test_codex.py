"""The real Codex CLI (npm @openai/codex), run by `ramp run --agent codex`, against a
scripted OpenAI Responses API endpoint on localhost.

The user's own Codex configuration (here a CODEX_HOME whose config.toml names the scripted
endpoint as a custom model provider) is carried into the run's CODEX_HOME, RAMP's server
is added to it, and `codex exec` does the rest: it starts `ramp-mcp`, offers our tools to
the model as the `mcp__ramp` namespace, calls them, and writes a rollout whose usage RAMP
imports. The checks mirror the Claude Code test, over both transports.
"""

from __future__ import annotations

import shutil
import tomllib
from collections import Counter
from collections.abc import Hashable
from pathlib import Path

import pytest

from tests.ramp_mcp.agents.clients import agent_cli, local_env, require_bwrap
from tests.ramp_mcp.agents.openai_api import ScriptedResponses
from tests.ramp_mcp.agents.through_mcp import (
    SCRIPT,
    check_agent_offered_our_tools,
    check_calls_went_through_mcp,
    check_imported_and_graded,
    check_token_events,
    run_scripted,
)

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
    result, exchange = run_scripted(
        endpoint,
        ledger,
        "codex",
        "--transport",
        transport,
        env=lambda url: local_env(
            CODEX_HOME=str(_user_codex_home(tmp_path, url)),
            RAMP_CODEX_BIN=str(cli),
            **{KEY_ENV: "not-a-real-key"},
        ),
    )
    workspace = Path(result["workspace"])
    try:
        # Codex offered our tools in its mcp__ramp namespace, and no host shell.
        check_agent_offered_our_tools(result, endpoint, exchange)

        # The run's CODEX_HOME: the user's provider kept, the user's MCP server dropped.
        config = tomllib.loads((Path(result["agent_dir"]) / "codex" / "config.toml").read_text())
        assert config["model_providers"]["scripted"]["env_key"] == KEY_ENV
        assert set(config["mcp_servers"]) == {"ramp"}
        server = config["mcp_servers"]["ramp"]
        assert ("url" in server) == (transport == "http") != ("command" in server)
        assert config["features"]["shell_tool"] is False

        main = [r.body for r in endpoint.exchange.requests if isinstance(r.body, dict)]
        offered = {t.get("name") for body in main for t in body.get("tools") or []}
        assert "mcp__ramp" in offered and not offered & {"exec_command", "shell"}, offered
        assert not any(
            "unsupported" in r or "approval" in r for r in endpoint.exchange.tool_results
        )

        events = check_calls_went_through_mcp(ledger, result, exchange)

        # One token event per response, with the numbers the endpoint reported (OpenAI's
        # input already includes the cached part).
        served = [s for s in endpoint.exchange.served if s.main_loop]
        expected: Counter[Hashable] = Counter(
            (
                s.usage.input_tokens + s.usage.cache_read_input_tokens,
                s.usage.cache_read_input_tokens,
                s.usage.output_tokens,
                s.usage.reasoning_output_tokens,
            )
            for s in served
        )
        check_token_events(
            events,
            "codex_rollout",
            expected,
            lambda e: (
                e.input_tokens,
                e.cache_read_input_tokens,
                e.output_tokens,
                e.reasoning_output_tokens,
            ),
        )
        check_imported_and_graded(result, "codex")
    finally:
        shutil.rmtree(workspace.parent, ignore_errors=True)
