"""Grading efficiency: one stage over the hidden set, sequential and on all cores.

    .venv/bin/python benchmarks/bench_grading.py [--backend bwrap|docker] [--stage T0]

The stage programs are the reference toolchain (T0: the preprocessor, which T0 may call).
Target (issue F3): wall time on all cores <= 1.25 x (sequential time / cores). The
sequential run stands in for the sum of per-case process time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from golden import Stage
from grader._grading import grade_workspace, hidden_cases

BUILD_SH = """#!/bin/sh
mkdir -p bin
printf '#!/bin/sh\\nexec clang-19 -E -x c -isystem /ramp/include -include sylib.h "$1" -o "$2"\\n' > bin/t0
chmod +x bin/t0
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", default="bwrap")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    workspace = Path(tempfile.mkdtemp(prefix="ramp-bench-grading-", dir="/tmp"))
    workspace.chmod(0o755)
    (workspace / "build.sh").write_text(BUILD_SH)
    (workspace / "build.sh").chmod(0o755)
    cases = hidden_cases()
    rows = []
    try:
        grade_workspace(workspace, [Stage.T0], cases=cases, backend=args.backend)  # warm caches
        timings = {}
        for jobs in (1, cores):
            started = time.monotonic()
            report = grade_workspace(
                workspace, [Stage.T0], cases=cases, backend=args.backend, jobs=jobs
            )
            timings[jobs] = time.monotonic() - started
            rows.append(
                (
                    f"T0, {len(cases)} hidden cases, jobs={jobs}",
                    f"{timings[jobs]:.1f} s",
                    f"score {report.stages[0].chained_score:.2f}",
                )
            )
    finally:
        shutil.rmtree(workspace, ignore_errors=True)
    ratio = timings[cores] / (timings[1] / cores)
    rows.append((f"parallel / (sequential / {cores} cores) (target <= 1.25)", f"{ratio:.2f}", ""))
    table = Table("measure", "value", "")
    for row in rows:
        table.add_row(*row)
    Console().print(table)


if __name__ == "__main__":
    main()
