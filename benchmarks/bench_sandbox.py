"""Sandbox overhead next to the raw baselines measured in the same run.

    .venv/bin/python benchmarks/bench_sandbox.py [--runs 50]

Targets (issue F1): exec of `true` p50 <= 10 ms (bwrap), <= 60 ms (docker, warm
container); compiling a small C program for RV64 and running it on qemu inside a sandbox
<= 1.3x the same on the bare host.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

from toolchain._engine import SANDBOX_LABEL, docker_client
from toolchain._image import find_rootfs, image_tag
from toolchain._manifest import Profile
from toolchain.sandbox import Outcome, open_sandbox

# A small program of the kind the benchmark compiles all day: arrays, loops, recursion.
PROGRAM = r"""
#include <stdio.h>
#define N 48
static int a[N][N], b[N][N], c[N][N], v[4096];
static int fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
static void sort(int *x, int lo, int hi) {
    if (lo >= hi) return;
    int p = x[(lo + hi) / 2], i = lo, j = hi;
    while (i <= j) {
        while (x[i] < p) i++;
        while (x[j] > p) j--;
        if (i <= j) { int t = x[i]; x[i] = x[j]; x[j] = t; i++; j--; }
    }
    sort(x, lo, j); sort(x, i, hi);
}
int main(void) {
    unsigned seed = 7;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) { a[i][j] = (i * 3 + j) % 17; b[i][j] = (i + j * 5) % 13; }
    for (int r = 0; r < 8; r++)
        for (int i = 0; i < N; i++)
            for (int j = 0; j < N; j++) {
                int s = 0;
                for (int k = 0; k < N; k++) s += a[i][k] * b[k][j];
                c[i][j] = s + r;
            }
    for (int i = 0; i < 4096; i++) { seed = seed * 1103515245u + 12345u; v[i] = (int)(seed >> 8) % 100000; }
    sort(v, 0, 4095);
    long total = fib(22);
    for (int i = 0; i < N; i++) total += c[i][i];
    for (int i = 0; i < 4096; i += 64) total += v[i];
    printf("%ld\n", total);
    return 0;
}
"""
RV64 = (
    "clang-19 --target=riscv64-unknown-linux-gnu -march=rv64gc -mabi=lp64d -O2 -fno-addrsig "
    "-S prog.c -o prog.s && riscv64-linux-gnu-gcc -static prog.s -o prog && qemu-riscv64 ./prog"
)


def p50_ms(action: Callable[[], object], runs: int) -> float:
    action()  # warm up
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--rv64-runs", type=int, default=5)
    args = parser.parse_args()
    workspace = Path(tempfile.mkdtemp(prefix="ramp-bench-", dir="/tmp"))
    workspace.chmod(0o755)
    (workspace / "prog.c").write_text(PROGRAM)
    rows: list[tuple[str, str, str]] = []

    raw = p50_ms(lambda: subprocess.run(["true"], check=True), args.runs)
    rows.append(("exec `true`", "raw host spawn", f"{raw:.2f} ms"))
    rootfs = find_rootfs(Profile.DEV)
    if rootfs is not None and shutil.which("bwrap"):
        bare = [
            "bwrap",
            "--unshare-all",
            "--die-with-parent",
            "--ro-bind",
            str(rootfs.path),
            "/",
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            "--bind",
            str(workspace),
            "/workspace",
            "--",
            "true",
        ]
        bare_ms = p50_ms(lambda: subprocess.run(bare, check=True, user=1000, group=1000), args.runs)
        rows.append(("exec `true`", "bare bwrap (baseline)", f"{bare_ms:.2f} ms"))
        with open_sandbox(workspace, "bwrap") as box:
            ms = p50_ms(lambda: box.exec(["true"]), args.runs)
        rows.append(("exec `true`", "ramp bwrap (target <= 10 ms)", f"{ms:.2f} ms"))
    try:
        client = docker_client()
    except Exception:  # noqa: BLE001 - a benchmark reports what it cannot measure
        client = None
    if client is not None:
        container = client.containers.run(
            image_tag(Profile.DEV),
            ["sleep", "infinity"],
            detach=True,
            network_mode="none",
            labels={SANDBOX_LABEL: "1", "io.ramp.owner-pid": "0"},
        )
        try:
            sdk_ms = p50_ms(lambda: container.exec_run(["true"]), args.runs)
        finally:
            container.remove(force=True)
        rows.append(("exec `true`", "docker SDK exec_run (baseline)", f"{sdk_ms:.2f} ms"))
        with open_sandbox(workspace, "docker") as box:
            ms = p50_ms(lambda: box.exec(["true"]), args.runs)
        rows.append(("exec `true`", "ramp docker, warm (target <= 60 ms)", f"{ms:.2f} ms"))
        client.close()

    host = p50_ms(
        lambda: subprocess.run(["sh", "-c", RV64], cwd=workspace, check=True, capture_output=True),
        args.rv64_runs,
    )
    rows.append(("RV64 compile+qemu run", "bare host (baseline)", f"{host:.0f} ms"))
    for backend in ("bwrap", "docker"):
        try:
            box = open_sandbox(workspace, backend)
        except Exception as exc:  # noqa: BLE001 - a benchmark reports what it cannot measure
            rows.append(("RV64 compile+qemu run", backend, f"unavailable: {exc}"))
            continue
        with box:
            result = box.exec(RV64)
            assert result.outcome is Outcome.OK, result
            ms = p50_ms(lambda b=box: b.exec(RV64), args.rv64_runs)  # type: ignore[misc]
        rows.append(
            (
                "RV64 compile+qemu run",
                f"ramp {backend} (target <= 1.3x)",
                f"{ms:.0f} ms = {ms / host:.2f}x",
            )
        )
    shutil.rmtree(workspace, ignore_errors=True)
    table = Table("measure", "how", "p50")
    for row in rows:
        table.add_row(*row)
    Console().print(table)


if __name__ == "__main__":
    main()
