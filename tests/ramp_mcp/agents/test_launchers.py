"""What each launcher writes and starts: per-run configuration only (the user's login and
provider settings carried over, the user's MCP servers and host tools left out), tokens
kept out of files where the client can read them from the environment, clear errors."""

from __future__ import annotations

import json
import stat
import tomllib
from pathlib import Path

import pytest

from ramp_mcp.agents import (
    AgentConfigError,
    AgentContext,
    AgentNotFoundError,
    ClaudeCodeLauncher,
    CodexLauncher,
    CommandLauncher,
    HttpEndpoint,
    StdioEndpoint,
    launcher_for,
)
from ramp_mcp.agents._toml import dump_toml

STDIO = StdioEndpoint(
    command="/opt/ramp/bin/ramp-mcp",
    args=["--run", "r-1"],
    env={"RAMP_LEDGER_URL": "sqlite:////x/ledger.sqlite3"},
)
HTTP = HttpEndpoint(url="http://127.0.0.1:8765/mcp", token="tok-secret-123")


def _context(
    tmp_path: Path, endpoint: StdioEndpoint | HttpEndpoint, **extra: object
) -> AgentContext:
    return AgentContext(
        run_id="r-1",
        agent_dir=tmp_path / "run" / "agent",
        endpoint=endpoint,
        prompt="Build the SysY compiler.",
        ledger_url="sqlite:////x/ledger.sqlite3",
        **extra,
    )


@pytest.fixture
def fake_program(tmp_path: Path) -> Path:
    program = tmp_path / "bin" / "agent-cli"
    program.parent.mkdir()
    program.write_text("#!/bin/sh\nexit 0\n")
    program.chmod(0o755)
    return program


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_toml_round_trips_what_agent_configs_hold() -> None:
    document = {
        "model": 'gpt "x"\nline two é',
        "retries": 3,
        "ratio": 0.25,
        "on": True,
        "args": ["--run", "r-1"],
        "mcp_servers": {
            "ramp": {"command": "ramp-mcp", "env": {"A B": "1"}, "timeout": 1.5},
            "other": {},
        },
        "profiles": [{"name": "a", "n": 1}, {"name": "b", "n": 2}],
        "features": {"shell_tool": False},
    }
    assert tomllib.loads(dump_toml(document)) == document
    with pytest.raises(AgentConfigError, match=r"x\.y"):
        dump_toml({"x": {"y": object()}})


def test_claude_code_gets_a_private_config_with_only_ramp(
    tmp_path: Path, fake_program: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = tmp_path / "user-claude"
    user.mkdir()
    (user / ".credentials.json").write_text('{"oauth": "login"}')
    (user / "settings.json").write_text('{"hooks": {}}')
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(user))
    monkeypatch.setenv("RAMP_CLAUDE_BIN", str(fake_program))
    plan = ClaudeCodeLauncher().prepare(_context(tmp_path, STDIO, model="claude-x"))

    config_dir = Path(plan.env["CLAUDE_CONFIG_DIR"])
    assert config_dir == tmp_path / "run" / "agent" / "claude" and _mode(config_dir) == 0o700
    assert (config_dir / ".credentials.json").read_text() == '{"oauth": "login"}'
    assert not (config_dir / "settings.json").exists()
    mcp_file = Path(plan.argv[plan.argv.index("--mcp-config") + 1])
    assert _mode(mcp_file) == 0o600
    assert json.loads(mcp_file.read_text()) == {
        "mcpServers": {
            "ramp": {
                "type": "stdio",
                "command": STDIO.command,
                "args": STDIO.args,
                "env": STDIO.env,
            }
        }
    }
    argv = plan.argv
    assert argv[0] == str(fake_program) and argv[1:3] == ["--print", "Build the SysY compiler."]
    assert "--strict-mcp-config" in argv
    assert argv[argv.index("--tools") + 1] == ""
    assert argv[argv.index("--permission-mode") + 1] == "dontAsk"
    assert argv[argv.index("--allowedTools") + 1] == "mcp__ramp"
    assert argv[argv.index("--model") + 1] == "claude-x"
    assert plan.cwd == tmp_path / "run" / "agent" / "cwd" and plan.cwd.is_dir()
    (source,) = plan.transcripts
    assert (source.format, source.path) == ("claude-code", config_dir / "projects")


def _user_codex_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_program: Path, config: str
) -> Path:
    """A user's CODEX_HOME holding ``config`` as its config.toml, and the fake program as the
    Codex CLI."""
    user = tmp_path / "user-codex"
    user.mkdir()
    (user / "config.toml").write_text(config)
    monkeypatch.setenv("CODEX_HOME", str(user))
    monkeypatch.setenv("RAMP_CODEX_BIN", str(fake_program))
    return user


def test_codex_keeps_the_users_provider_and_drops_the_users_servers(
    tmp_path: Path, fake_program: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = _user_codex_home(
        tmp_path,
        monkeypatch,
        fake_program,
        'model = "gpt-9"\nmodel_provider = "mine"\n'
        '[model_providers.mine]\nbase_url = "http://127.0.0.1:1/v1"\nenv_key = "MINE_KEY"\n'
        "[features]\nfast_mode = false\nshell_tool = true\n"
        '[mcp_servers.theirs]\ncommand = "their-server"\n',
    )
    (user / "auth.json").write_text('{"OPENAI_API_KEY": "sk-user"}')
    plan = CodexLauncher().prepare(_context(tmp_path, HTTP, extra_args=["-c", "x=1"]))

    home = Path(plan.env["CODEX_HOME"])
    config_file = home / "config.toml"
    assert _mode(config_file) == 0o600
    config = tomllib.loads(config_file.read_text())
    assert config["model"] == "gpt-9" and config["model_providers"]["mine"]["env_key"] == "MINE_KEY"
    assert config["mcp_servers"] == {
        "ramp": {
            "url": HTTP.url,
            "bearer_token_env_var": "RAMP_MCP_TOKEN",
            "startup_timeout_sec": 120,
            "tool_timeout_sec": 3600,
            "required": True,
            "default_tools_approval_mode": "approve",
        }
    }
    assert config["features"] == {
        "fast_mode": False,
        "shell_tool": False,
        "unified_exec": False,
        "plugins": False,
        "apps": False,
    }
    assert (config["sandbox_mode"], config["approval_policy"]) == ("read-only", "never")
    assert HTTP.token not in config_file.read_text()
    assert plan.env["RAMP_MCP_TOKEN"] == HTTP.token
    assert (home / "auth.json").read_text() == '{"OPENAI_API_KEY": "sk-user"}'
    assert plan.argv[1:3] == ["exec", "--skip-git-repo-check"]
    assert plan.argv[-4:] == ["-c", "x=1", "--", "Build the SysY compiler."]
    (source,) = plan.transcripts
    assert (source.format, source.path) == ("codex", home / "sessions")


def test_a_malformed_user_codex_config_is_named(
    tmp_path: Path, fake_program: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _user_codex_home(tmp_path, monkeypatch, fake_program, "model = \n")
    with pytest.raises(AgentConfigError, match=r"config\.toml"):
        CodexLauncher().prepare(_context(tmp_path, STDIO))


@pytest.mark.parametrize("endpoint", [STDIO, HTTP], ids=["stdio", "http"])
def test_a_command_finds_the_run_in_its_environment(
    tmp_path: Path, fake_program: Path, endpoint: StdioEndpoint | HttpEndpoint
) -> None:
    launcher = launcher_for(f"{fake_program} --flag 'two words'")
    assert isinstance(launcher, CommandLauncher) and launcher.name == "agent-cli"
    plan = launcher.prepare(_context(tmp_path, endpoint, budget_s=90.0, model="m"))
    assert plan.argv == [str(fake_program), "--flag", "two words"]
    env = plan.env
    assert env["RAMP_RUN_ID"] == "r-1" and env["RAMP_BUDGET_S"] == "90" and env["RAMP_MODEL"] == "m"
    assert Path(env["RAMP_PROMPT_FILE"]).read_text() == "Build the SysY compiler."
    config = json.loads(Path(env["RAMP_MCP_CONFIG"]).read_text())["mcpServers"]["ramp"]
    if isinstance(endpoint, HttpEndpoint):
        assert (env["RAMP_MCP_URL"], env["RAMP_MCP_TOKEN"]) == (endpoint.url, endpoint.token)
        assert config["headers"] == {"Authorization": f"Bearer {endpoint.token}"}
        assert "RAMP_MCP_COMMAND" not in env
    else:
        assert env["RAMP_MCP_COMMAND"] == "/opt/ramp/bin/ramp-mcp --run r-1"
        assert "RAMP_MCP_URL" not in env
    (source,) = plan.transcripts
    assert source.format == "jsonl" and str(source.path) == env["RAMP_USAGE_FILE"]


def test_bad_agent_commands_say_what_is_wrong(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert isinstance(launcher_for("claude-code"), ClaudeCodeLauncher)
    assert isinstance(launcher_for("codex"), CodexLauncher)
    with pytest.raises(AgentConfigError, match="empty"):
        launcher_for("   ")
    with pytest.raises(AgentConfigError, match="cannot split"):
        launcher_for("agent 'unclosed")
    with pytest.raises(AgentNotFoundError, match="not an executable"):
        launcher_for("/nonexistent/agent --x").locate()
    not_executable = tmp_path / "claude"
    not_executable.write_text("")
    monkeypatch.setenv("RAMP_CLAUDE_BIN", str(not_executable))
    with pytest.raises(AgentNotFoundError, match="RAMP_CLAUDE_BIN"):
        ClaudeCodeLauncher().locate()
