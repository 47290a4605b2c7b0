"""`ramp-mcp`: the MCP server entry point. The server itself arrives with issue F4."""

from __future__ import annotations

import sys

import click

__all__ = ["main"]


@click.command()
@click.version_option(package_name="ramp")
def main() -> None:
    """Serve a RAMP workspace to an agent over MCP (stdio or streamable HTTP)."""
    click.echo("error: the RAMP MCP server is not built yet (tracked as issue F4)", err=True)
    sys.exit(2)
