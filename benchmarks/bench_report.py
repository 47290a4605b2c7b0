"""A report over 100 runs, end to end: ledger reads, metrics, and each format's rendering.

    .venv/bin/python benchmarks/bench_report.py [--runs 100] [--tool-calls 40] [--repeat 3]

The runs go into a throwaway SQLite ledger, written as the stage machine and the MCP server
write them (tests/grader/report/factory.py): varied scores, resurrections, ``--tool-calls``
tool calls and five token reports each, half with a reported cost. Then, for each format,
``ramp-grade report`` is timed as its parts: reading and computing every run's metrics (the
paper's AEI over the whole cohort, usage, diagnosis, time line) and rendering the text; the
best of ``--repeat`` is shown. The leaderboard over the same runs is timed too.

Target (issue F5): a report over 100 runs renders in <= 2 s. Figures are printed, never
asserted on.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from grader.ledger import Ledger
from grader.report import (
    FORMATS,
    leaderboard_from_ledger,
    render_document,
    render_leaderboard_document,
    report_document,
)
from grader.taxonomy import diagnose_run
from grader.usage import load_pricing, run_usage
from tests.grader.report.factory import TokenReport, ToolCall, make_run

T = TypeVar("T")
TOOLS = ("read_file", "write_file", "edit_file", "run_command", "build", "run_stage", "grep")
AGENTS = (("claude-code", "claude-opus-4-7"), ("codex", "gpt-5.5"), ("aider", "local-model"))


def make_runs(ledger: Ledger, count: int, tool_calls: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    ids = []
    for index in range(count):
        agent, model = AGENTS[index % len(AGENTS)]
        reached = rng.randint(1, 6)
        scores = [rng.choice((100.0, 100.0, 100.0, rng.uniform(0, 100))) for _ in range(reached)]
        stage_s = rng.uniform(60, 900)
        span = stage_s * reached
        ids.append(
            make_run(
                ledger,
                agent=agent,
                model=model,
                harness="bench",
                scores=scores,
                isolated=[min(100.0, s + rng.uniform(0, 30)) for s in scores],
                stage_s=stage_s,
                tool_calls=[
                    ToolCall(
                        end_s=rng.uniform(0, span),
                        tool=rng.choice(TOOLS),
                        duration_s=rng.uniform(0.01, 20),
                        outcome="error" if rng.random() < 0.1 else "ok",
                    )
                    for _ in range(tool_calls)
                ],
                tokens=[
                    TokenReport(
                        at_s=rng.uniform(0, span),
                        model=model,
                        input_tokens=(inp := rng.randint(5_000, 200_000)),
                        cache_read=rng.randint(0, inp // 2),
                        output_tokens=rng.randint(100, 20_000),
                        cost_usd=rng.uniform(0.01, 3.0) if index % 2 else None,
                    )
                    for _ in range(5)
                ],
            )
        )
    return ids


def best_of(repeat: int, work: Callable[[], T]) -> tuple[float, T]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - started)
    assert result is not None
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--tool-calls", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="ramp-bench-report-"))
    console = Console()
    console.print(
        f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs"
    )
    try:
        with Ledger.open(f"sqlite:///{base / 'ledger.sqlite3'}") as ledger:
            started = time.perf_counter()
            ids = make_runs(ledger, args.runs, args.tool_calls)
            console.print(
                f"made {len(ids)} runs ({args.tool_calls} tool calls, 5 token reports each) "
                f"in {time.perf_counter() - started:.2f} s"
            )
            pricing = load_pricing()
            table = Table("format", "metrics s", "render s", "total s", "output", "<= 2 s")
            for output_format in FORMATS:
                metrics_s, document = best_of(
                    args.repeat, lambda: report_document(ledger, ids, pricing=pricing)
                )
                render_s, text = best_of(
                    args.repeat,
                    lambda f=output_format, d=document: render_document(d, f),  # type: ignore[misc]
                )
                total = metrics_s + render_s
                table.add_row(
                    output_format,
                    f"{metrics_s:.3f}",
                    f"{render_s:.3f}",
                    f"{total:.3f}",
                    f"{len(text.encode()) / 1024:.0f} KiB",
                    "yes" if total <= 2.0 else "NO",
                )
            board_s, board = best_of(
                args.repeat, lambda: leaderboard_from_ledger(ledger, pricing=pricing)
            )
            render_s, _ = best_of(args.repeat, lambda: render_leaderboard_document(board, "html"))
            table.add_row(
                "leaderboard (html)",
                f"{board_s:.3f}",
                f"{render_s:.3f}",
                f"{board_s + render_s:.3f}",
                f"{len(board.rows)} rows",
                "yes" if board_s + render_s <= 2.0 else "NO",
            )
            console.print(table)
            usage_s, _ = best_of(
                args.repeat, lambda: [run_usage(ledger, run_id, pricing) for run_id in ids]
            )
            diagnosis_s, _ = best_of(
                args.repeat, lambda: [diagnose_run(ledger, run_id) for run_id in ids]
            )
            console.print(
                f"of the metrics time: grader.usage.run_usage {usage_s:.3f} s and "
                f"grader.taxonomy.diagnose_run {diagnosis_s:.3f} s over the {len(ids)} runs; "
                f"the rest (ledger reads, stages, AEI, time lines) is grader.report's own"
            )
            console.print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
