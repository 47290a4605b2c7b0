"""`ramp-grade`: the grader's command line."""

from __future__ import annotations

import click

from grader._grade_cli import grade_command
from grader._run_cli import recover_command, runs_command, status_command, submit_command
from grader.metrics._cli import aei_command
from grader.report import leaderboard_command, report_command
from grader.usage import usage_group

__all__ = ["main"]


@click.group()
@click.version_option(package_name="ramp")
def main() -> None:
    """Grade RAMP workspaces stage by stage, and compute the paper's metrics."""


main.add_command(aei_command)
main.add_command(report_command)
main.add_command(leaderboard_command)
main.add_command(grade_command)
main.add_command(usage_group)
for _command in (submit_command, status_command, runs_command, recover_command):
    main.add_command(_command)
