"""`ramp mcp-config RUN`: the configuration to paste into an agent client."""

from __future__ import annotations

import json
import shlex
import sys

import click

from grader.ledger import Ledger, LedgerError, RunNotFoundError
from ramp_mcp._tokens import ensure_token
from ramp_mcp.agents._endpoint import ramp_mcp_program

__all__ = ["mcp_config_command"]


@click.command("mcp-config")
@click.argument("run_id")
@click.option(
    "--client",
    type=click.Choice(["claude-code", "codex", "json"]),
    default="json",
    show_default=True,
)
@click.option("--host", default="127.0.0.1", show_default=True, help="of `ramp-mcp --http`")
@click.option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True)
@click.option("--ledger", "ledger_url", envvar="RAMP_LEDGER_URL", help="SQLAlchemy URL")
def mcp_config_command(
    run_id: str, client: str, host: str, port: int, ledger_url: str | None
) -> None:
    """Print the MCP client configuration for RUN_ID: stdio (`ramp-mcp --run`) and HTTP
    (`ramp-mcp --http` with the run's bearer token, made on first use)."""
    try:
        with Ledger.open(ledger_url) as ledger:
            run = ledger.get_run(run_id)
    except RunNotFoundError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except LedgerError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(3)
    token = ensure_token(run)
    command = ramp_mcp_program()
    args = ["--run", run_id] + (["--ledger", ledger_url] if ledger_url else [])
    url = f"http://{host}:{port}/mcp"
    if client == "codex":
        click.echo(
            "# ~/.codex/config.toml (or $CODEX_HOME/config.toml)\n"
            "[mcp_servers.ramp]\n"
            f"command = {json.dumps(command)}\n"
            f"args = {json.dumps(args)}\n"
            "startup_timeout_sec = 30\n"
            "tool_timeout_sec = 900\n\n"
            "# or over HTTP (start `ramp-mcp --http` first); export RAMP_MCP_TOKEN:\n"
            f"# export RAMP_MCP_TOKEN={token}\n"
            "[mcp_servers.ramp_http]\n"
            f"url = {json.dumps(url)}\n"
            'bearer_token_env_var = "RAMP_MCP_TOKEN"\n'
            "startup_timeout_sec = 30\n"
            "tool_timeout_sec = 900"
        )
        return
    config = {
        "mcpServers": {
            "ramp": {"type": "stdio", "command": command, "args": args},
            "ramp-http": {
                "type": "http",
                "url": url,
                "headers": {"Authorization": f"Bearer {token}"},
            },
        }
    }
    if client == "claude-code":
        click.echo("# .mcp.json (or `claude mcp add-json ramp '<the ramp entry>'`):")
        click.echo(json.dumps(config, indent=2))
        click.echo("# or: claude mcp add --transport stdio ramp -- " + shlex.join([command, *args]))
        return
    click.echo(json.dumps(config, indent=2))
