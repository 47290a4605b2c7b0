"""`ramp`: the umbrella command line (top of the package graph)."""

from __future__ import annotations

import logging

import click

from golden import golden_group, reference_group
from ramp_mcp._config_cli import mcp_config_command
from ramp_mcp._demo_cli import demo_command
from ramp_mcp._run_agent_cli import run_group
from ramp_mcp.campaign import campaign_group
from toolchain import sandbox_group, toolchain_group

__all__ = ["main"]


@click.group()
@click.version_option(package_name="ramp")
@click.option("-v", "--verbose", is_flag=True, help="log what RAMP does")
def main(verbose: bool) -> None:
    """RAMP: how far does a coding agent get on a long, serial compiler-building job?"""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s")


main.add_command(toolchain_group)
main.add_command(sandbox_group)
main.add_command(golden_group)
main.add_command(reference_group)
main.add_command(mcp_config_command)
main.add_command(demo_command)

main.add_command(run_group)
main.add_command(campaign_group)
