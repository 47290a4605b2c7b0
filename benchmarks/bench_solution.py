"""The reference solution (golden/solution): its compile speed, and its grades on the full set.

    .venv/bin/python benchmarks/bench_solution.py [--grade] [--backend bwrap] [--jobs N]

1. Compile speed: each stage program bin/t1..bin/t5 of the reference workspace on the
   golden input of every stress program (the largest in the corpus), run on the host with
   Python 3 as the minimal environment has it; wall seconds beside the stage's limit.
2. With --grade: `grade_workspace` on ALL hidden cases, chained and isolated, every stage,
   in the sandbox: per-stage scores, and the per-case T4 scores (sqrt of the instruction
   ratio against clang -O2) with their mean.
Figures only; nothing asserted.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from golden import CaseKind, Stage, build_golden, builtin_corpus, reference_workspace, stage_specs
from grader._grading import grade_workspace, hidden_cases

_INPUT_OF = {
    Stage.T1: Stage.T0,
    Stage.T2: Stage.T1,
    Stage.T3: Stage.T2,
    Stage.T4: Stage.T3,
    Stage.T5: Stage.T4,
}


def compile_speed(console: Console, backend: str) -> None:
    workspace = reference_workspace()
    subprocess.run(["sh", "build.sh"], cwd=workspace, check=True)
    stress = [c for c in builtin_corpus() if c.kind is CaseKind.STRESS]
    golden = build_golden(stress, backend=backend)
    specs = stage_specs()
    table = Table("case", *(s.value for s in _INPUT_OF), title="seconds per stage (limit)")
    worst = dict.fromkeys(_INPUT_OF, 0.0)
    with tempfile.TemporaryDirectory() as scratch:
        for case in golden.cases:
            cells = []
            for stage, source in _INPUT_OF.items():
                output = Path(scratch) / f"{case.name}.{stage.value}"
                started = time.monotonic()
                done = subprocess.run(
                    [
                        str(workspace / "bin" / stage.value.lower()),
                        str(case.artifacts[source]),
                        str(output),
                    ],
                    cwd=workspace,
                    capture_output=True,
                    check=False,
                )
                seconds = time.monotonic() - started
                worst[stage] = max(worst[stage], seconds)
                cells.append(f"{seconds:.2f}" + ("" if done.returncode == 0 else " FAILED"))
            table.add_row(case.name, *cells)
    table.add_row(
        "[bold]worst / limit[/bold]",
        *(f"{worst[s]:.2f} / {specs[s].limits.program_timeout_s:g}" for s in _INPUT_OF),
    )
    console.print(table)


def full_grade(console: Console, backend: str, jobs: int | None) -> None:
    workspace = reference_workspace()
    started = time.monotonic()
    report = grade_workspace(workspace, list(Stage), backend=backend, jobs=jobs)
    table = Table("stage", "chained", "isolated", "passed", "cases", "seconds")
    for grade in report.stages:
        table.add_row(
            grade.stage.value,
            f"{grade.chained_score:.2f}",
            f"{grade.isolated_score:.2f}",
            str(grade.passed),
            str(len(grade.chained)),
            f"{grade.duration_s:.0f}",
        )
    console.print(table)
    t4 = next(g for g in report.stages if g.stage is Stage.T4)
    per_case = Table("T4 case", "score", "instructions", "reference", title="T4 per case")
    for outcome in t4.isolated:
        per_case.add_row(
            outcome.case,
            f"{outcome.score:.1f}",
            str(outcome.details.get("agent_instructions", "")),
            str(outcome.details.get("reference_instructions", "")),
        )
    console.print(per_case)
    scores = [o.score for o in t4.isolated]
    console.print(
        f"T4 isolated mean {statistics.fmean(scores):.2f} over {len(scores)} performance "
        f"cases (min {min(scores):.1f}); {len(hidden_cases())} hidden cases graded in "
        f"{time.monotonic() - started:.0f} s; integrity findings: "
        f"{len(report.integrity_findings)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--grade", action="store_true", help="also grade on all hidden cases")
    parser.add_argument("--backend", default="bwrap", choices=["bwrap", "docker", "auto"])
    parser.add_argument("--jobs", type=int, default=None)
    args = parser.parse_args()
    console = Console(width=120)
    compile_speed(console, args.backend)
    if args.grade:
        full_grade(console, args.backend, args.jobs)


if __name__ == "__main__":
    main()
