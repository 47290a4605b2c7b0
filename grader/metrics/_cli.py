"""``ramp-grade aei``: rewards and AEI of a score table (mounted by the ``ramp-grade`` group)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from grader.metrics._errors import MetricsError
from grader.metrics._table import aei_table, read_table

__all__ = ["aei_command"]


@click.command("aei")
@click.option(
    "--table",
    "table_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE.csv",
    help="CSV with a header: model,T0,T1,T2,T3,T4,T5,elapsed_s,cost_usd,total_tokens",
)
@click.option("--json", "as_json", is_flag=True, help="print the figures as JSON")
def aei_command(table_path: Path, as_json: bool) -> None:
    """Tier, Mean Reward, pipeline and pass scores, cohort AEI and stable AEI per model.

    The cohort AEI is the paper's: normalised by the maxima over this table's rows, so it
    changes when rows are added. The stable AEI uses fixed reference budgets and does not.
    """
    try:
        table = aei_table(read_table(table_path))
    except MetricsError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    if as_json:
        click.echo(json.dumps(table.summary(), indent=2))
        return
    shown = Table("model", "tier", "mean reward", "pipeline", "pass", "AEI", "stable AEI")
    for row in table.rounded().rows:
        shown.add_row(
            row.model,
            "-" if row.tier < 0 else f"T{row.tier}",
            f"{row.mean_reward:.2f}",
            f"{row.pipeline_score:.2f}",
            f"{row.pass_score:.2f}",
            f"{row.aei:.2f}",
            f"{row.stable_aei:.2f}",
        )
    Console().print(shown)
