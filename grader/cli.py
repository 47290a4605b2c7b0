"""`ramp-grade`: the grader's command line. Grading itself arrives with issue F3."""

from __future__ import annotations

import click

__all__ = ["main"]


@click.group()
@click.version_option(package_name="ramp")
def main() -> None:
    """Grade RAMP workspaces stage by stage and report (stage grading: issue F3)."""
