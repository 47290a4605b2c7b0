"""`ramp-grade grade`: one-shot grading of any workspace directory, no run needed."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from golden import Case, Stage, current_epoch, epoch_cases, load_case_dir
from golden.scoring import paper_stage_score
from grader._grading import GradeReport, grade_workspace
from grader.metrics import rewards
from toolchain import RampError

__all__ = ["EXIT_BAD_INPUT", "EXIT_GRADED", "EXIT_INFRASTRUCTURE", "grade_command", "parse_stages"]

EXIT_GRADED = 0
EXIT_BAD_INPUT = 2
EXIT_INFRASTRUCTURE = 3
_STAGES = list(Stage)


def parse_stages(text: str) -> list[Stage]:
    """``T0-T5``, ``T2``, or ``T0,T3`` into stages, with a clear error otherwise."""
    chosen: list[Stage] = []
    for part in text.replace(" ", "").split(","):
        first, _, last = part.partition("-")
        try:
            start, end = Stage(first.upper()), Stage((last or first).upper())
        except ValueError:
            raise click.BadParameter(
                f"{part!r} is not a stage or range; use T0..T5, like T0-T5, T2 or T0,T3"
            ) from None
        lo, hi = _STAGES.index(start), _STAGES.index(end)
        if lo > hi:
            raise click.BadParameter(f"{part!r}: a range runs forwards, like T1-T3")
        chosen += [s for s in _STAGES[lo : hi + 1] if s not in chosen]
    return sorted(chosen, key=_STAGES.index)


def _cases(cases_dir: Path | None, epoch: str | None) -> tuple[str | None, tuple[Case, ...]]:
    """What to grade on, and the epoch it is (None for a user's case directory)."""
    if cases_dir:
        return None, load_case_dir(cases_dir)
    chosen = current_epoch() if epoch is None else epoch
    return chosen, epoch_cases(chosen)


def report_json(report: GradeReport, *, with_cases: bool) -> dict[str, object]:
    scores = {g.stage: g.chained_score for g in report.stages}
    summary = rewards([scores.get(s, 0.0) for s in _STAGES])
    stages: list[dict[str, object]] = []
    for grade in report.stages:
        row: dict[str, object] = {
            "stage": grade.stage.value,
            "chained_score": grade.chained_score,
            "isolated_score": grade.isolated_score,
            "propagation_loss": grade.propagation_loss,
            "passed": grade.passed,
            "resurrected": grade.resurrected,
            "cases": len(grade.chained),
            "duration_s": grade.duration_s,
        }
        paper = [paper_stage_score(o.details for o in g) for g in (grade.chained, grade.isolated)]
        if paper[0] is not None:
            # T4: the paper's min(100, 100*sqrt(Iref/I)) beside the score (docs/t4.md)
            row["chained_paper_score"], row["isolated_paper_score"] = paper
        if with_cases:
            row["chained"] = [o.model_dump() for o in grade.chained]
            row["isolated"] = [o.model_dump() for o in grade.isolated]
        stages.append(row)
    return {
        "stages": stages,
        "integrity_findings": [f.model_dump() for f in report.integrity_findings],
        "build_ok": report.build_ok,
        "mean_reward": round(summary.mean_reward, 4),
        "pipeline_score": round(summary.pipeline_score, 4),
        "pass_score": round(summary.pass_score, 4),
        "tier": summary.tier,
        "cases": report.cases,
        "duration_s": report.duration_s,
    }


@click.command("grade")
@click.option(
    "--workspace",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    required=True,
    help="the directory to grade (build.sh at its root)",
)
@click.option("--stages", "stages_text", default="T0-T5", show_default=True)
@click.option(
    "--cases",
    "cases_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="grade on a directory of NAME.sy (+ NAME.in) instead of the hidden set",
)
@click.option(
    "--epoch",
    default=None,
    help="grade on this epoch's hidden cases (`ramp golden epoch list`; default: the one "
    "`ramp golden epoch use` chose, else 0, the built-in corpus)",
)
@click.option("--backend", default="auto", show_default=True)
@click.option("--jobs", type=int, default=None, help="parallel cases (default: CPU count)")
@click.option("--with-cases", is_flag=True, help="include per-case scores (names the cases)")
@click.option("--json", "as_json", is_flag=True)
def grade_command(
    workspace: Path,
    stages_text: str,
    cases_dir: Path | None,
    epoch: str | None,
    backend: str,
    jobs: int | None,
    with_cases: bool,
    as_json: bool,
) -> None:
    """Grade WORKSPACE on the hidden cases: chained and isolated score per stage.

    Exit codes: 0 graded (whatever the scores), 2 bad input, 3 grading infrastructure failed.
    """
    stages = parse_stages(stages_text)
    if cases_dir and epoch is not None:
        raise click.UsageError("give --cases or --epoch, not both")
    err = Console(stderr=True)
    try:
        graded_on, cases = _cases(cases_dir, epoch)
    except RampError as exc:  # a malformed case directory, an epoch that does not exist
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    try:
        with err.status("grading") as status:
            report = grade_workspace(
                workspace,
                stages,
                cases=cases,
                backend=backend,
                jobs=jobs,
                on_progress=lambda message: status.update(f"grading: {message}"),
            )
    except RampError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT if "build.sh" in str(exc) or cases_dir else EXIT_INFRASTRUCTURE)
    data = report_json(report, with_cases=with_cases)
    data["epoch"] = graded_on
    if as_json:
        click.echo(json.dumps(data, indent=1))
        sys.exit(EXIT_GRADED)
    table = Table("stage", "chained", "isolated", "loss", "passed", "resurrected")
    for row in data["stages"]:  # type: ignore[attr-defined]
        table.add_row(
            row["stage"],
            f"{row['chained_score']:.2f}",
            f"{row['isolated_score']:.2f}",
            f"{row['propagation_loss']:.2f}",
            "yes" if row["passed"] else "no",
            "yes" if row["resurrected"] else "",
        )
    console = Console()
    console.print(table)
    console.print(
        f"tier {data['tier']}  mean reward {data['mean_reward']:.2f}  pipeline "
        f"{data['pipeline_score']:.2f}  pass score {data['pass_score']:.2f}  "
        f"({data['cases']} cases of epoch {graded_on or '-'}, {data['duration_s']:.0f} s)"
    )
    for row in data["stages"]:  # type: ignore[attr-defined]
        if "chained_paper_score" in row:
            console.print(
                f"{row['stage']} by the paper's formula (not the score): chained "
                f"{row['chained_paper_score']:.2f}, isolated {row['isolated_paper_score']:.2f}"
            )
    for finding in report.integrity_findings:
        console.print(f"[red]integrity[/red] {finding.kind}: {finding.detail}")
    sys.exit(EXIT_GRADED)
