"""Golden build times (cold and cached), and optionally the slow whole-corpus checks.

    .venv/bin/python benchmarks/bench_golden.py [--backend auto|docker|bwrap] [--jobs N]
        [--check-expectations]

Targets (issue F2): the whole corpus cold <= 3 min on the 2-core machine, cached <= 5 s.
--check-expectations re-establishes every committed expectation (native build, RV64 under
qemu, sanitizers). The reference wrappers go through every stage of every case with
`RAMP_FULL_HARNESS=1 .venv/bin/python -m pytest tests/golden/test_reference_stages.py`
(CI runs a seeded sample).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.table import Table

from golden import GoldenManifest, build_golden, builtin_corpus, compare
from golden._expected import ExpectationError, establish


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--check-expectations", action="store_true")
    args = parser.parse_args()
    console = Console()
    cases = builtin_corpus()
    counts = Counter((c.kind.value, c.split.value) for c in cases)
    table = Table("kind", "public", "hidden", "total")
    for kind in ("functional", "performance", "stress"):
        public, hidden = counts[(kind, "public")], counts[(kind, "hidden")]
        table.add_row(kind, str(public), str(hidden), str(public + hidden))
    table.add_row(
        "all",
        *(
            str(sum(v for (k, s), v in counts.items() if s == split))
            for split in ("public", "hidden")
        ),
        str(len(cases)),
    )
    console.print(table)

    root = Path(tempfile.mkdtemp(prefix="ramp-bench-golden-", dir="/tmp"))
    root.chmod(0o755)
    try:
        started = time.monotonic()
        cold = build_golden(cases, backend=args.backend, jobs=args.jobs, cache_root=root)
        cold_s = time.monotonic() - started
        started = time.monotonic()
        warm = build_golden(cases, backend=args.backend, jobs=args.jobs, cache_root=root)
        warm_s = time.monotonic() - started
        manifest = GoldenManifest.load()
        problems = compare(manifest, cold) if manifest else ["no manifest"]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    results = Table("measure", "value")
    results.add_row(
        "golden build, cold (target <= 180 s)",
        f"{cold_s:.1f} s, {cold.built} built, {len(cold.failures)} failed",
    )
    results.add_row("golden build, cached (target <= 5 s)", f"{warm_s:.2f} s, {warm.reused} reused")
    results.add_row(
        "reproduces golden/manifest.json", "yes" if not problems else f"NO: {problems[:3]}"
    )
    console.print(results)

    if args.check_expectations:
        started = time.monotonic()
        failed = []
        for case in cases:
            try:
                expected = establish(case.source, case.stdin_bytes())
            except ExpectationError as exc:
                failed.append(f"{case.name}: {str(exc).splitlines()[0]}")
                continue
            assert case.expected_stdout is not None
            if (expected.stdout, expected.exit_code) != (
                case.expected_stdout.read_bytes(),
                case.expected_exit,
            ):
                failed.append(f"{case.name}: committed expectation differs")
        console.print(
            f"expectations re-established for {len(cases)} cases in {time.monotonic() - started:.0f} s: "
            + (
                "all agree, sanitizers clean"
                if not failed
                else f"{len(failed)} problems: {failed[:5]}"
            )
        )


if __name__ == "__main__":
    main()
