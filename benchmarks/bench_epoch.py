"""How fast an epoch is made: generated, checked by differential execution, golden-built.

    .venv/bin/python benchmarks/bench_epoch.py [--seed 1] [--functional 100] [--performance 25]
        [--baseline 20] [--backend auto|bwrap|docker] [--jobs N]

Runs in a RAMP home of its own whose golden cache is empty (the machine's root file systems
are linked in), so every case is really checked and built, and prints:

- the generator alone: programs generated per second (no checking);
- the differential check (golden._expected: native -O0/-O2, RV64 on qemu, UBSan+ASan, MSan)
  as ``make_epoch`` runs it: generated programs checked per minute; beside it, the baseline
  measured in the same invocation: the same check of ``--baseline`` built-in corpus programs
  with the same parallelism, per minute;
- the golden build (reference pipeline, T3/T4/T5 runs, callgrind counts) per case;
- the whole ``make_epoch`` wall time, against the target of 10 minutes for 100 functional +
  25 performance programs on 2 cores.

Figures are printed, never asserted on.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from golden import builtin_corpus
from golden._expected import establish
from golden.epochs import make_epoch
from golden.generator import generate_functional, generate_performance
from toolchain import ramp_home

_TARGET_S = 600.0


def _generation_rate(seed: int, functional: int, performance: int) -> float:
    began = time.monotonic()
    for index in range(1, functional + 1):
        generate_functional(seed, index)
    for index in range(1, performance + 1):
        generate_performance(seed, index)
    return (functional + performance) / (time.monotonic() - began)


def _baseline_per_minute(count: int, jobs: int) -> float:
    cases = [c for c in builtin_corpus() if c.kind.value != "stress"][:count]
    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(lambda c: establish(c.source, c.stdin_bytes()), cases))
    return len(cases) / (time.monotonic() - began) * 60


class _Phases:
    """First and last progress event of each phase of ``make_epoch``."""

    def __init__(self) -> None:
        self.spans: dict[str, list[float]] = {}
        self.counts: dict[str, int] = {}

    def __call__(self, phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        span = self.spans.setdefault(phase, [now, now])
        span[1] = now
        self.counts[phase] = self.counts.get(phase, 0) + 1


def _home() -> Path:
    home = Path(tempfile.mkdtemp(prefix="ramp-bench-epoch-", dir="/tmp"))
    home.chmod(0o755)
    (home / "rootfs").symlink_to(ramp_home() / "rootfs")
    return home


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--functional", type=int, default=100)
    parser.add_argument("--performance", type=int, default=25)
    parser.add_argument("--baseline", type=int, default=20)
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    rate = _generation_rate(args.seed, args.functional, args.performance)
    baseline = _baseline_per_minute(args.baseline, args.jobs)
    home = _home()
    os.environ["RAMP_HOME"] = str(home)
    phases = _Phases()
    began = time.monotonic()
    try:
        manifest = make_epoch(
            args.seed, functional=args.functional, performance=args.performance,
            backend=args.backend, jobs=args.jobs, on_progress=phases,
        )  # fmt: skip
        wall = time.monotonic() - began
    finally:
        shutil.rmtree(home, ignore_errors=True)
    checked = phases.counts.get("checked", 0)
    built = phases.counts.get("built", 0)
    check_s = phases.spans["checked"][1] - began if checked else 0.0
    build_s = phases.spans["built"][1] - phases.spans["checked"][1] if built else 0.0
    print(
        f"epoch {manifest.epoch}: {len(manifest.cases)} cases, {len(manifest.rejected)} rejected, {os.cpu_count()} cores"
    )
    print(f"  generator alone         {rate:10.1f} programs/s")
    print(
        f"  differential check      {checked / check_s * 60 if check_s else 0:10.1f} programs/min (generated, {checked} in {check_s:.1f} s)"
    )
    print(
        f"  baseline, same check    {baseline:10.1f} programs/min ({args.baseline} built-in corpus programs)"
    )
    print(
        f"  golden build            {build_s / max(built, 1):10.2f} s/case ({built} in {build_s:.1f} s)"
    )
    print(
        f"  whole epoch             {wall:10.1f} s (target {_TARGET_S:.0f} s for 100 + 25 on 2 cores)"
    )


if __name__ == "__main__":
    main()
