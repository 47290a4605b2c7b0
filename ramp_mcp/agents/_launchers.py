"""Agent launchers, by name: how to configure and start each agent CLI against a run.

A launcher writes the agent's MCP configuration into a directory of the run's own (never
the user's configuration, never the workspace) and says which command to start, with
which environment, and where the agent leaves its transcripts. ``claude-code`` and
``codex`` are registered; any other ``--agent`` value is a command line
(:class:`CommandLauncher`) that finds the run through ``RAMP_*`` environment variables.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import tomllib
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from ramp_mcp.agents._endpoint import (
    SERVER_NAME,
    TOKEN_ENV,
    HttpEndpoint,
    McpEndpoint,
    StdioEndpoint,
    codex_server_table,
    mcp_servers_json,
)
from ramp_mcp.agents._errors import AgentConfigError, AgentNotFoundError
from ramp_mcp.agents._toml import dump_toml

__all__ = [
    "AGENTS",
    "AgentContext",
    "AgentLauncher",
    "ClaudeCodeLauncher",
    "CodexLauncher",
    "CommandLauncher",
    "LaunchPlan",
    "TranscriptSource",
    "find_program",
    "launcher_for",
]

# Where toolchain/setup.sh installs the agent CLIs with npm (an editable checkout).
_NODE_BIN = Path(__file__).resolve().parents[2] / ".node" / "node_modules" / ".bin"


class TranscriptSource(BaseModel):
    """Where an agent leaves the usage RAMP imports after it ends, and in which format."""

    format: Literal["claude-code", "codex", "jsonl"]
    path: Path


class AgentContext(BaseModel):
    """What a launcher knows about the run it configures the agent for."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    agent_dir: Path = Field(description="the run's own directory for the agent's files")
    endpoint: McpEndpoint
    prompt: str
    model: str | None = None
    ledger_url: str = Field(repr=False)
    budget_s: float | None = None
    extra_args: list[str] = Field(default_factory=list)


class LaunchPlan(BaseModel):
    """The process to start: ``argv`` in ``cwd`` with ``env`` added to RAMP's environment."""

    argv: list[str]
    env: dict[str, str] = Field(repr=False)
    cwd: Path
    transcripts: list[TranscriptSource]


class AgentLauncher(Protocol):
    @property
    def name(self) -> str:
        """How the ledger records the agent."""
        ...

    def locate(self) -> str:
        """The agent's program; :class:`AgentNotFoundError` (saying how to install it) if
        it is missing."""
        ...

    def prepare(self, context: AgentContext) -> LaunchPlan:
        """Write the agent's configuration under ``context.agent_dir``; what to start."""
        ...


def find_program(name: str, env_var: str, install_hint: str) -> str:
    """``$env_var`` if set, else ``name`` on PATH, else the copy toolchain/setup.sh installed."""
    explicit = os.environ.get(env_var)
    if explicit:
        if Path(explicit).is_file() and os.access(explicit, os.X_OK):
            return explicit
        raise AgentNotFoundError(f"${env_var} is {explicit!r}, which is not an executable file")
    found = shutil.which(name)
    if found:
        return found
    local = _NODE_BIN / name
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    raise AgentNotFoundError(
        f"{name} is not installed: {install_hint} (bash toolchain/setup.sh installs it into "
        f".node/ when npm is present), or set ${env_var} to the program"
    )


def _private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (it may hold a bearer token)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def _copy_credentials(source_dir: Path, target_dir: Path, names: tuple[str, ...]) -> None:
    """Give the per-run configuration the user's login (the rest of the user's
    configuration stays out: settings, MCP servers and plugins would change the agent)."""
    if source_dir.resolve() == target_dir.resolve():
        return
    for name in names:
        source = source_dir / name
        if source.is_file():
            target = target_dir / name
            shutil.copyfile(source, target)
            target.chmod(0o600)


class ClaudeCodeLauncher:
    """Claude Code in print mode, with only RAMP's MCP tools and no permission prompt.

    Its configuration lives in ``CLAUDE_CONFIG_DIR=<agent dir>/claude`` (the session
    transcripts land in its ``projects/``); ``--strict-mcp-config`` ignores every other MCP
    server; ``--tools ""`` removes the built-in tools, which would act on the host outside
    the sandbox; ``dontAsk`` with ``--allowedTools mcp__ramp`` runs RAMP's tools without a
    prompt and refuses everything else.
    """

    name: ClassVar[str] = "claude-code"

    def locate(self) -> str:
        return find_program("claude", "RAMP_CLAUDE_BIN", "npm install -g @anthropic-ai/claude-code")

    def prepare(self, context: AgentContext) -> LaunchPlan:
        program = self.locate()
        config_dir = _private_dir(context.agent_dir / "claude")
        user_dir = Path(os.environ.get("CLAUDE_CONFIG_DIR") or Path.home() / ".claude")
        _copy_credentials(user_dir, config_dir, (".credentials.json",))
        mcp_config = config_dir / "ramp-mcp.json"
        _write_private(mcp_config, json.dumps(mcp_servers_json(context.endpoint), indent=2))
        cwd = _private_dir(context.agent_dir / "cwd")
        argv = [
            program,
            "--print",
            context.prompt,
            "--mcp-config",
            str(mcp_config),
            "--strict-mcp-config",
            "--output-format",
            "stream-json",
            "--verbose",
            "--tools",
            "",
            "--permission-mode",
            "dontAsk",
            "--allowedTools",
            f"mcp__{SERVER_NAME}",
        ]
        if context.model:
            argv += ["--model", context.model]
        argv += context.extra_args
        env = {
            "CLAUDE_CONFIG_DIR": str(config_dir),
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "DISABLE_AUTOUPDATER": "1",
            # Submissions take minutes: the server reports progress, and the limits are set
            # well above a grading's length anyway.
            "MCP_TIMEOUT": "120000",
            "MCP_TOOL_TIMEOUT": "3600000",
        }
        return LaunchPlan(
            argv=argv,
            env=env,
            cwd=cwd,
            transcripts=[TranscriptSource(format="claude-code", path=config_dir / "projects")],
        )


# Codex features that would let the model act outside RAMP's sandbox or reach the network
# on its own (host shell, plugins, connected apps); RAMP's MCP tools replace them.
_CODEX_FEATURES_OFF = ("shell_tool", "unified_exec", "plugins", "apps")


class CodexLauncher:
    """``codex exec`` with ``CODEX_HOME=<agent dir>/codex``.

    The user's ``config.toml`` (model, providers) is carried over without its MCP servers;
    RAMP's server is added as required, with its tools pre-approved; the host shell and
    web search are turned off. Rollouts land in ``sessions/``.
    """

    name: ClassVar[str] = "codex"

    def locate(self) -> str:
        return find_program("codex", "RAMP_CODEX_BIN", "npm install -g @openai/codex")

    def prepare(self, context: AgentContext) -> LaunchPlan:
        program = self.locate()
        home = _private_dir(context.agent_dir / "codex")
        user_home = Path(os.environ.get("CODEX_HOME") or Path.home() / ".codex")
        config = _user_codex_config(user_home / "config.toml")
        _copy_credentials(user_home, home, ("auth.json",))
        config.pop("mcp_servers", None)
        config["mcp_servers"] = {SERVER_NAME: codex_server_table(context.endpoint)}
        config["sandbox_mode"] = "read-only"
        config["approval_policy"] = "never"
        config["web_search"] = "disabled"
        features = config.get("features")
        features = dict(features) if isinstance(features, dict) else {}
        features.update(dict.fromkeys(_CODEX_FEATURES_OFF, False))
        config["features"] = features
        _write_private(home / "config.toml", dump_toml(config))
        cwd = _private_dir(context.agent_dir / "cwd")
        argv = [program, "exec", "--skip-git-repo-check", "--json", "--color", "never"]
        if context.model:
            argv += ["--model", context.model]
        argv += [*context.extra_args, "--", context.prompt]
        env = {"CODEX_HOME": str(home)}
        if isinstance(context.endpoint, HttpEndpoint):
            env[TOKEN_ENV] = context.endpoint.token
        return LaunchPlan(
            argv=argv,
            env=env,
            cwd=cwd,
            transcripts=[TranscriptSource(format="codex", path=home / "sessions")],
        )


def _user_codex_config(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise AgentConfigError(
            f"cannot read the Codex configuration {path}: {exc}; fix it (or point $CODEX_HOME "
            "at a directory with a valid config.toml) and run again"
        ) from exc


class CommandLauncher:
    """Any command line; it finds the run through environment variables:

    ``RAMP_RUN_ID``; ``RAMP_MCP_CONFIG`` (an ``mcpServers`` JSON file); over stdio
    ``RAMP_MCP_COMMAND`` (the server's command line), over HTTP ``RAMP_MCP_URL`` and
    ``RAMP_MCP_TOKEN``; ``RAMP_PROMPT_FILE`` (the start prompt); ``RAMP_USAGE_FILE`` (a
    JSONL file of usage records the command may write, imported when it ends);
    ``RAMP_LEDGER_URL``; ``RAMP_MODEL`` and ``RAMP_BUDGET_S`` when given. It runs in the
    current directory.
    """

    def __init__(self, command: str) -> None:
        try:
            self.argv = shlex.split(command)
        except ValueError as exc:
            raise AgentConfigError(f"cannot split the agent command {command!r}: {exc}") from exc
        if not self.argv:
            raise AgentConfigError(
                "the agent command is empty: give claude-code, codex or a command line"
            )
        self.name = Path(self.argv[0]).name

    def locate(self) -> str:
        resolved = shutil.which(self.argv[0])
        if resolved is None:
            raise AgentNotFoundError(
                f"the agent command {self.argv[0]!r} is not an executable on PATH or a path "
                f"to one; agents known by name: {', '.join(AGENTS)}"
            )
        return resolved

    def prepare(self, context: AgentContext) -> LaunchPlan:
        resolved = self.locate()
        agent_dir = _private_dir(context.agent_dir)
        config = agent_dir / "mcp.json"
        _write_private(config, json.dumps(mcp_servers_json(context.endpoint), indent=2))
        prompt = agent_dir / "prompt.md"
        prompt.write_text(context.prompt, encoding="utf-8")
        usage = agent_dir / "usage.jsonl"
        env = {
            "RAMP_RUN_ID": context.run_id,
            "RAMP_MCP_CONFIG": str(config),
            "RAMP_PROMPT_FILE": str(prompt),
            "RAMP_USAGE_FILE": str(usage),
            "RAMP_LEDGER_URL": context.ledger_url,
        }
        if isinstance(context.endpoint, StdioEndpoint):
            env["RAMP_MCP_COMMAND"] = shlex.join(context.endpoint.argv)
        else:
            env["RAMP_MCP_URL"] = context.endpoint.url
            env[TOKEN_ENV] = context.endpoint.token
        if context.model:
            env["RAMP_MODEL"] = context.model
        if context.budget_s is not None:
            env["RAMP_BUDGET_S"] = f"{context.budget_s:g}"
        return LaunchPlan(
            argv=[resolved, *self.argv[1:], *context.extra_args],
            env=env,
            cwd=Path.cwd(),
            transcripts=[TranscriptSource(format="jsonl", path=usage)],
        )


AGENTS: dict[str, type[ClaudeCodeLauncher] | type[CodexLauncher]] = {
    ClaudeCodeLauncher.name: ClaudeCodeLauncher,
    CodexLauncher.name: CodexLauncher,
}


def launcher_for(agent: str) -> AgentLauncher:
    """The launcher registered as ``agent``, else ``agent`` as a command line."""
    known = AGENTS.get(agent.strip())
    return known() if known is not None else CommandLauncher(agent)
