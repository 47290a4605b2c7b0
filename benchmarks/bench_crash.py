"""Crash safety at full size: seeded trials that SIGKILL the grader (`ramp-grade submit`) or
the MCP server (during submit_stage) at a random point of a scripted run, then recover.

    .venv/bin/python benchmarks/bench_crash.py [--trials 50] [--backend bwrap|docker|both]

Prints each trial and the totals: lost results, inconsistencies, leftovers (processes,
containers). Exit status 1 when any is non-zero.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support import backend_missing
from tests.trust.crash import TrialResult, reference_scores, run_trial
from toolchain._manifest import Profile


@click.command()
@click.option("--trials", type=click.IntRange(min=1), default=50, show_default=True)
@click.option(
    "--backend", type=click.Choice(["bwrap", "docker", "both"]), default="both", show_default=True
)
@click.option("--sample", type=click.IntRange(min=1), default=4, show_default=True)
@click.option("--first-seed", type=int, default=1000, show_default=True)
def main(trials: int, backend: str, sample: int, first_seed: int) -> None:
    console = Console()
    wanted = ["bwrap", "docker"] if backend == "both" else [backend]
    backends = [
        b for b in wanted if not (backend_missing(b) or backend_missing(b, Profile.MINIMAL))
    ]
    if not backends:
        raise click.ClickException(f"no usable backend among {wanted}")
    workdir = Path(tempfile.mkdtemp(prefix="ramp-bench-crash-"))
    results: list[TrialResult] = []
    try:
        expected = {b: reference_scores(b, sample, workdir) for b in backends}
        console.print(f"scores without a crash: {expected}")
        for index in range(trials):
            chosen = backends[index % len(backends)]
            result = run_trial(first_seed + index, chosen, sample, expected[chosen], workdir)
            results.append(result)
            bad = result.lost_results + result.inconsistencies + result.leftovers
            console.print(
                f"seed {result.seed} {chosen:6} kill {result.target:6} at {result.killed_stage} "
                f"+{result.delay_s:5.2f}s {'(mid-run)' if result.killed_while_running else '(done)'}"
                f" {result.duration_s:6.1f}s {bad or 'OK'}"
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    table = Table("trials", "killed mid-run", "grader kills", "server kills", "lost results",
                  "inconsistencies", "leftovers")  # fmt: skip
    lost = sum(len(r.lost_results) for r in results)
    inconsistent = sum(len(r.inconsistencies) for r in results)
    left = sum(len(r.leftovers) for r in results)
    table.add_row(
        str(len(results)),
        str(sum(r.killed_while_running for r in results)),
        str(sum(r.target == "grader" for r in results)),
        str(sum(r.target == "server" for r in results)),
        str(lost),
        str(inconsistent),
        str(left),
    )
    console.print(table)
    sys.exit(1 if lost or inconsistent or left else 0)


if __name__ == "__main__":
    main()
