"""The reference solution graded on fresh epochs, beside its grade on the built-in corpus.

    .venv/bin/python benchmarks/bench_epoch_reference.py [--epochs 3 | --seeds S ...]
        [--functional 100] [--performance 25] [--backend bwrap] [--no-builtin]

For each seed (default: ``--epochs`` random 62-bit seeds, as ``epoch new`` draws them):
``ramp golden epoch new`` (in this machine's RAMP home: the epochs stay for
inspection), then ``ramp-grade grade --workspace <reference> --epoch ID --with-cases``; and,
unless ``--no-builtin``, the same grade on epoch 0 (the built-in hidden set) in the same
invocation. Prints each stage's chained score, the cases below 100 on T0..T3 and T5 (each
is a bug of the generator, the reference pipeline or the reference solution) and the wall
times. Figures are printed, never asserted on.
"""

from __future__ import annotations

import argparse
import json
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent


def _run(*argv: str) -> str:
    done = subprocess.run([str(BIN / argv[0]), *argv[1:]], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout


def _grade(reference: str, epoch: str, backend: str) -> tuple[dict[str, Any], float]:
    began = time.monotonic()
    out = _run("ramp-grade", "grade", "--workspace", reference, "--epoch", epoch,
               "--backend", backend, "--with-cases", "--json")  # fmt: skip
    return json.loads(out), time.monotonic() - began


def _line(label: str, report: dict[str, Any], seconds: float) -> str:
    scores = " ".join(f"{s['stage']} {s['chained_score']:6.2f}" for s in report["stages"])
    cases = report["stages"][0]["cases"]
    return f"{label:24} {cases:4} cases  {scores}  ({seconds:.0f} s)"


def _below(report: dict[str, Any]) -> list[str]:
    found = []
    for stage in report["stages"]:
        if stage["stage"] == "T4":
            continue
        for outcome in stage["chained"]:
            if outcome["score"] < 100.0:
                found.append(f"{stage['stage']} {outcome['case']}: {outcome['score']}")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seeds", type=int, nargs="+", default=None)
    parser.add_argument("--functional", type=int, default=100)
    parser.add_argument("--performance", type=int, default=25)
    parser.add_argument("--backend", default="bwrap")
    parser.add_argument("--no-builtin", action="store_true")
    args = parser.parse_args()
    reference = _run("ramp", "reference", "path").strip()
    lines, problems = [], []
    seeds = args.seeds or [secrets.randbits(62) for _ in range(args.epochs)]
    for seed in seeds:
        began = time.monotonic()
        made = json.loads(
            _run(
                "ramp",
                "golden",
                "epoch",
                "new",
                "--seed",
                str(seed),
                "--functional",
                str(args.functional),
                "--performance",
                str(args.performance),
                "--backend",
                args.backend,
                "--json",
            )
        )
        made_s = time.monotonic() - began
        report, graded_s = _grade(reference, made["epoch"], args.backend)
        lines.append(_line(made["epoch"], report, graded_s) + f"  made in {made_s:.0f} s, "
                     f"{len(made['rejected'])} rejected")  # fmt: skip
        problems += [f"{made['epoch']}: {p}" for p in _below(report)]
    if not args.no_builtin:
        report, graded_s = _grade(reference, "0", args.backend)
        lines.append(_line("0 (built-in, baseline)", report, graded_s))
    print("\n".join(lines))
    print(f"cases below 100 on T0..T3/T5: {len(problems)}")
    for problem in problems:
        print(f"  {problem}")


if __name__ == "__main__":
    main()
