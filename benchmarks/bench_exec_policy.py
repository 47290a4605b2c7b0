"""What the exec policy (toolchain.sandbox.ExecPolicy) adds to every command.

    .venv/bin/python benchmarks/bench_exec_policy.py [--runs 40]

Per backend, a warm minimal sandbox runs `true` without and with the stage programs'
policy (interleaved, so load on a shared machine hits both alike); the difference is the
launcher: python3 start-up, ctypes, the nested namespace and remounts (bwrap), Landlock
and seccomp. A second table splits the launcher's own cost inside one bwrap sandbox.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from toolchain._manifest import Profile
from toolchain.sandbox import ExecPolicy, Mount, SandboxSpec, open_sandbox
from toolchain.sandbox._policy import launcher_source


def _quantiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(0.9 * (len(ordered) - 1))]


def per_command(backend: str, runs: int, work: Path) -> dict[str, list[float]]:
    out = work / "out"
    out.mkdir(exist_ok=True)
    mounts = (Mount(source=out, target="/ramp/output", writable=True),)
    specs = {
        "plain": SandboxSpec(profile=Profile.MINIMAL, workspace_writable=False, mounts=mounts),
        "policy": SandboxSpec(
            profile=Profile.MINIMAL,
            workspace_writable=False,
            mounts=mounts,
            exec_policy=ExecPolicy(),
        ),
    }
    samples: dict[str, list[float]] = {name: [] for name in specs}
    boxes = {name: open_sandbox(work, backend, spec) for name, spec in specs.items()}
    try:
        for box in boxes.values():
            box.exec(["true"])
        for _ in range(runs):
            for name, box in boxes.items():
                started = time.perf_counter()
                box.exec(["true"])
                samples[name].append(time.perf_counter() - started)
    finally:
        for box in boxes.values():
            box.close()
    return samples


def inside(runs: int, work: Path) -> dict[str, float]:
    """Milliseconds per start inside one bwrap sandbox, without the sandbox's own cost."""
    (work / "launch.py").write_text(launcher_source())
    policy = "--exec=/usr --write=/tmp --noexec=/tmp --remount-noexec --deny-exec-memory"
    steps = {
        "true": "/bin/true",
        "python3 -I -S -c pass": "python3 -I -S -c pass",
        "+ import ctypes": "python3 -I -S -c 'import ctypes'",
        "launcher (full policy)": f"python3 -I -S launch.py {policy} -- /bin/true",
    }
    script = "; ".join(
        f"s=$(date +%s%N); for i in $(seq {runs}); do {cmd} >/dev/null; done; "
        f'echo "{name}|$(( ($(date +%s%N) - s) / {runs} ))"'
        for name, cmd in steps.items()
    )
    with open_sandbox(work, "bwrap", SandboxSpec(profile=Profile.MINIMAL)) as box:
        ran = box.exec(["/bin/sh", "-c", script], timeout_s=300)
    result = {}
    for line in ran.stdout.splitlines():
        name, _, nanoseconds = line.rpartition("|")
        result[name] = int(nanoseconds) / 1e6
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--backends", default="bwrap,docker")
    args = parser.parse_args()
    console = Console()
    table = Table(title=f"exec of `true`, warm minimal sandbox ({args.runs} runs, ms)")
    for column in ("backend", "plain p50", "policy p50", "added p50", "plain p90", "policy p90"):
        table.add_column(column)
    with tempfile.TemporaryDirectory(prefix="ramp-bench-pol-", dir="/tmp") as directory:
        work = Path(directory)
        work.chmod(0o755)
        for backend in args.backends.split(","):
            samples = per_command(backend, args.runs, work)
            (p50, p90), (q50, q90) = _quantiles(samples["plain"]), _quantiles(samples["policy"])
            cells = [p50, q50, q50 - p50, p90, q90]
            table.add_row(backend, *(f"{1000 * v:.1f}" for v in cells))
        console.print(table)
        split = Table(title="start-up inside one bwrap sandbox (mean ms)")
        split.add_column("step")
        split.add_column("ms")
        for name, ms in inside(args.runs, work).items():
            split.add_row(name, f"{ms:.1f}")
        console.print(split)
    console.print(f"load average: {shlex.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
