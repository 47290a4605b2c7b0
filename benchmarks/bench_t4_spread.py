"""T4's spread: unchanged / mem2reg / reference optimiser / clang -O2 on every performance case.

    .venv/bin/python benchmarks/bench_t4_spread.py [--backend bwrap] [--case NAME ...]

Builds (or reuses) the golden artifacts, hands each case's golden -O0 IR to the four
"optimisers" and judges every output with the grader's own Judge (tests/golden/t4_spread.py).
Prints the markdown table of docs/t4.md: counts, the score (share of the log speed-up from
the unchanged input to clang -O2) and the paper's min(100, 100*sqrt(Iref/I)), hidden cases
marked, then the means per split. Exit status 1 when a case breaks a property
tests/golden/test_t4_spread.py checks.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import click

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from golden import CaseKind, build_golden, builtin_corpus
from tests.golden.t4_spread import markdown_table, measure
from tests.golden.test_t4_spread import property_problems


@click.command()
@click.option("--backend", default="bwrap", show_default=True)
@click.option("--case", "names", multiple=True, help="only these cases (repeatable)")
def main(backend: str, names: tuple[str, ...]) -> None:
    cases = [
        c
        for c in builtin_corpus()
        if c.kind is CaseKind.PERFORMANCE and (not names or c.name in names)
    ]
    build = build_golden(cases, backend=backend)
    if build.failures:
        raise click.ClickException(f"golden build failed: {build.failures}")
    golden = {c.name: c for c in build.cases}
    work = Path(tempfile.mkdtemp(prefix="ramp-bench-t4-", dir="/tmp"))
    rows = measure(cases, golden, backend, work)
    click.echo(markdown_table(rows))
    problems = property_problems(rows, whole_corpus=not names)
    for problem in problems:
        click.echo(f"PROPERTY BROKEN: {problem}", err=True)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
