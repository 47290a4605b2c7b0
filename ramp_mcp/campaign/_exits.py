"""The exit codes of ``ramp campaign`` and the one mapping from errors to them."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from grader.ledger import CampaignChangedError, CampaignNotFoundError
from grader.report import ReportError
from ramp_mcp.campaign._errors import CampaignError
from toolchain import RampError

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_FAILED_TRIALS",
    "EXIT_INFRASTRUCTURE",
    "EXIT_INTERRUPTED",
    "exit_codes",
]

EXIT_FAILED_TRIALS = 1
EXIT_BAD_INPUT = 2
EXIT_INFRASTRUCTURE = 3
EXIT_INTERRUPTED = 130

# What the user gave was wrong (a file, a name, a changed campaign, an output path).
_BAD_INPUT = (CampaignNotFoundError, CampaignChangedError, CampaignError, ReportError)


@contextmanager
def exit_codes() -> Iterator[None]:
    """Bad input exits 2; the ledger or the machine failing (any other RampError) exits 3;
    each prints the error, which says what to do."""
    try:
        yield
    except _BAD_INPUT as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except RampError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_INFRASTRUCTURE)
