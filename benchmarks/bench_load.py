"""Load: N scripted runs at once through one `ramp-mcp --http`, to completion.

    .venv/bin/python benchmarks/bench_load.py [--runs 8] [--sample 24]

A run is first done alone; then --runs runs at once, each the scripted agent (the
reference solution written and submitted stage by stage through MCP) on its own run, all
graded on the same fixed sample of hidden cases. Printed: wall time alone and together,
infrastructure errors (failed tool calls, submissions in error), and whether every
concurrent run's per-stage scores equal the run done alone. Figures only; nothing asserted.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlmodel import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from grader._machine import StageMachine
from grader._run_token import ensure_token
from grader.ledger import Ledger, Submission
from ramp_mcp._scripted_agent import ScriptedAgentPlan
from tests.ramp_mcp.harness import http_server, scripted_runs_over_http, stage_scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=8, help="concurrent runs")
    parser.add_argument("--sample", type=int, default=24, help="hidden cases graded per stage")
    parser.add_argument("--sandbox", default="bwrap", choices=["bwrap", "docker"])
    args = parser.parse_args()
    console = Console(width=120)
    home = Path(tempfile.mkdtemp(prefix="ramp-bench-load-", dir="/tmp"))
    home.chmod(0o755)
    ledger_url = f"sqlite:///{home / 'ledger.sqlite3'}"
    try:
        with Ledger.open(ledger_url) as ledger:
            machine = StageMachine(ledger, runs_root=home / "runs")
            runs = [
                machine.create_run(
                    agent="scripted", model="load", sandbox=args.sandbox, sample=args.sample
                )
                for _ in range(args.runs + 1)
            ]
            tokens = [(run.id, ensure_token(run)) for run in runs]
        plan = ScriptedAgentPlan()
        with http_server(ledger_url, home / "http.log") as (url, _):
            started = time.monotonic()
            scripted_runs_over_http(url, tokens[:1], plan)
            alone_s = time.monotonic() - started
            started = time.monotonic()
            scripted_runs_over_http(url, tokens[1:], plan)
            together_s = time.monotonic() - started
        expected = stage_scores(ledger_url, runs[0].id)
        table = Table("run", "stages (state chained/isolated)", "equal to alone")
        table.add_row(runs[0].id + " (alone)", _scores(expected), "-")
        equal = 0
        for run in runs[1:]:
            scores = stage_scores(ledger_url, run.id)
            equal += scores == expected
            table.add_row(run.id, _scores(scores), "yes" if scores == expected else "NO")
        with Ledger.open(ledger_url) as ledger, ledger.session(write=False) as session:
            errors = sum(s.status != "done" for s in session.exec(select(Submission)).all())
            failed_calls = sum(
                e.outcome != "ok" for run in runs for e in ledger.usage_events(run.id)
            )
        console.print(table)
        console.print(
            f"alone: {alone_s:.0f} s; {args.runs} at once: {together_s:.0f} s "
            f"({together_s / alone_s:.2f}x alone for {args.runs}x the work); "
            f"submissions not done: {errors}; failed tool calls: {failed_calls}; "
            f"runs equal to alone: {equal}/{args.runs}"
        )
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _scores(rows: list[tuple[str, str, float | None, float | None]]) -> str:
    return " ".join(
        f"{stage}:{state[:4]} {chained}/{isolated}" for stage, state, chained, isolated in rows
    )


if __name__ == "__main__":
    main()
