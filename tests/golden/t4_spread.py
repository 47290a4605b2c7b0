"""How T4's score spreads: four optimisers on the performance cases, judged for real.

For every case the same golden -O0 IR is handed to four "optimisers" and the output is
judged by the grader's own Judge (llc -O2, the measurement runtime, callgrind, the count of
golden/_measure.py, the score of golden/scoring/_perf.py):

- ``unchanged``: the input handed back (must count exactly the golden baseline);
- ``mem2reg``: ``opt-19 -passes=mem2reg`` alone;
- ``reference``: RAMP's reference optimiser (golden/solution's bin/t4);
- ``clang``: the golden T4 artifact, clang -O2 (must count exactly the golden reference).

Used by tests/golden/test_t4_spread.py (a sample, or everything with RAMP_FULL_HARNESS=1)
and benchmarks/bench_t4_spread.py (the table of docs/t4.md).
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

from pydantic import BaseModel

from golden import Case, CaseArtifacts, Split, Stage
from golden._judge import Judge
from golden.scoring import paper_score, speedup_share

__all__ = ["VARIANTS", "SpreadRow", "markdown_table", "measure", "summary"]

VARIANTS = ("unchanged", "mem2reg", "reference", "clang")
SOLUTION_T4 = Path(__file__).resolve().parents[2] / "golden" / "solution" / "bin" / "t4"


class SpreadRow(BaseModel):
    """One case: the count, the score and the paper's formula of each variant."""

    case: str
    split: Split
    baseline: int
    reference: int
    counts: dict[str, int]
    scores: dict[str, float]
    papers: dict[str, float]


def _produce(variant: str, golden: CaseArtifacts, work: Path) -> Path:
    """The variant's T4 output for the case's golden T3 IR."""
    source = golden.artifacts[Stage.T3]
    if variant == "unchanged":
        return source
    if variant == "clang":
        return golden.artifacts[Stage.T4]
    target = work / f"{golden.name}.{variant}.ll"
    if variant == "mem2reg":
        argv = ["opt-19", "-S", "-passes=mem2reg", str(source), "-o", str(target)]
    else:
        argv = [str(SOLUTION_T4), str(source), str(target)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise AssertionError(f"{variant} failed on {golden.name}: {done.stderr[-2000:]}")
    return target


def _row(case: Case, golden: CaseArtifacts, judge: Judge, work: Path) -> SpreadRow:
    counts: dict[str, int] = {}
    scores: dict[str, float] = {}
    for variant in VARIANTS:
        result = judge.judge(Stage.T4, golden, _produce(variant, golden, work))
        if "formula" not in result.details:  # only a correct, measured run has one
            raise AssertionError(f"{case.name} {variant}: {result.diagnosis}")
        counts[variant] = int(result.details["agent_instructions"])
        scores[variant] = result.score
    return SpreadRow(
        case=case.name,
        split=case.split,
        baseline=golden.baseline_instructions,
        reference=golden.reference_instructions,
        counts=counts,
        scores=scores,
        papers={
            v: round(paper_score(golden.reference_instructions, n), 4) for v, n in counts.items()
        },
    )


def measure(
    cases: Sequence[Case], golden: dict[str, CaseArtifacts], backend: str, work: Path
) -> list[SpreadRow]:
    """Every variant of every case, judged in one Judge (performance cases only)."""
    work.mkdir(parents=True, exist_ok=True)
    try:
        with Judge(cases, backend=backend) as judge:
            return [_row(case, golden[case.name], judge, work) for case in cases]
    finally:
        shutil.rmtree(work, ignore_errors=True)


def summary(rows: Iterable[SpreadRow]) -> dict[str, dict[str, float]]:
    """Mean, minimum and maximum score (and paper formula) of each variant."""
    chosen = list(rows)
    table: dict[str, dict[str, float]] = {}
    for variant in VARIANTS:
        scores = [r.scores[variant] for r in chosen]
        papers = [r.papers[variant] for r in chosen]
        table[variant] = {
            "mean": round(statistics.fmean(scores), 1),
            "min": min(scores),
            "max": max(scores),
            "paper_mean": round(statistics.fmean(papers), 1),
            "paper_min": min(papers),
        }
    return table


def _cell(row: SpreadRow, variant: str) -> str:
    return f"{row.counts[variant]:,} | {row.scores[variant]:.1f} | {row.papers[variant]:.1f}"


def markdown_table(rows: Sequence[SpreadRow]) -> str:
    """The per-case table and the means, hidden and public apart."""
    head = "| case | B/R | " + " | ".join(f"{v} count | {v} score | {v} paper" for v in VARIANTS)
    lines = [head + " |", "|" + "---|" * (2 + 3 * len(VARIANTS))]
    for row in sorted(rows, key=lambda r: (r.split != Split.HIDDEN, r.case)):
        name = f"{row.case} (hidden)" if row.split is Split.HIDDEN else row.case
        ratio = row.baseline / row.reference
        cells = " | ".join(_cell(row, v) for v in VARIANTS)
        lines.append(f"| {name} | {ratio:.2f} | {cells} |")
    lines.append("")
    lines.append("| cases | variant | mean score | min | max | paper mean | paper min |")
    lines.append("|---|---|---|---|---|---|---|")
    for label, split in (("hidden", Split.HIDDEN), ("public", Split.PUBLIC), ("all", None)):
        chosen = [r for r in rows if split is None or r.split is split]
        if not chosen:
            continue
        for variant, figures in summary(chosen).items():
            lines.append(
                f"| {label} ({len(chosen)}) | {variant} | {figures['mean']:.1f} | "
                f"{figures['min']:.1f} | {figures['max']:.1f} | {figures['paper_mean']:.1f} | "
                f"{figures['paper_min']:.1f} |"
            )
    return "\n".join(lines) + "\n"


def formula_share(row: SpreadRow, variant: str) -> float:
    """The score the formula gives the variant's count (a cross-check of the judge's)."""
    return round(speedup_share(row.baseline, row.reference, row.counts[variant]), 4)
