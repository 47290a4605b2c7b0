"""`ramp golden ...`: list the corpus, build golden artifacts, verify them against the manifest."""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from golden._builder import GoldenBuild, build_golden
from golden._corpus import Case, builtin_corpus, load_case_dir
from golden._manifest import MANIFEST_PATH, GoldenManifest, compare, key_note, manifest_of
from golden._solution import reference_workspace
from golden.epochs import epoch_group
from toolchain import RampError

__all__ = ["golden_group", "reference_group"]

_err = Console(stderr=True)


def _fail(exc: RampError) -> None:
    click.echo(f"error: {exc}", err=True)
    sys.exit(2)


def _select(cases_dir: Path | None, names: tuple[str, ...]) -> tuple[Case, ...]:
    cases = load_case_dir(cases_dir) if cases_dir else builtin_corpus()
    if names:
        known = {c.name for c in cases}
        unknown = sorted(set(names) - known)
        if unknown:
            raise click.BadParameter(f"no such case: {', '.join(unknown)}", param_hint="--case")
        cases = tuple(c for c in cases if c.name in names)
    return cases


def _build_with_progress(cases: tuple[Case, ...], **options: object) -> GoldenBuild:
    with Progress(
        TextColumn("golden"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[last]}"),
        console=_err,
        transient=True,
    ) as progress:
        task = progress.add_task("build", total=len(cases), last="")

        def advance(name: str, ok: bool) -> None:
            progress.update(task, advance=1, last=name if ok else f"[red]{name} failed[/red]")

        return build_golden(cases, on_case=advance, **options)  # type: ignore[arg-type]


@click.group("golden")
def golden_group() -> None:
    """The corpus and its golden artifacts (reference outputs of every stage)."""


golden_group.add_command(epoch_group)


@golden_group.command("list")
@click.option("--json", "as_json", is_flag=True)
def list_command(as_json: bool) -> None:
    """Every built-in case with its split (public/hidden) and kind."""
    try:
        cases = builtin_corpus()
    except RampError as exc:
        _fail(exc)
        return
    if as_json:
        rows = [{"name": c.name, "split": c.split.value, "kind": c.kind.value} for c in cases]
        click.echo(json.dumps({"cases": rows}, indent=1))
        return
    for case in cases:
        click.echo(f"{case.name:40} {case.split.value:7} {case.kind.value}")


_case_options = [
    click.option(
        "--cases",
        "cases_dir",
        type=click.Path(file_okay=False, exists=True, path_type=Path),
        help="a directory of NAME.sy (+ NAME.in) instead of the built-in corpus",
    ),
    click.option("--case", "names", multiple=True, help="only this case (repeatable)"),
    click.option("--backend", default="auto", show_default=True),
    click.option("--jobs", type=int, default=None, help="parallel cases (default: CPU count)"),
]


def _with_case_options(function: click.decorators.FC) -> click.decorators.FC:
    for option in reversed(_case_options):
        function = option(function)
    return function


@golden_group.command("build")
@_with_case_options
@click.option("--force", is_flag=True, help="rebuild cached cases")
@click.option("--write-manifest", is_flag=True, help="record the hashes in golden/manifest.json")
@click.option("--json", "as_json", is_flag=True)
def build_command(
    cases_dir: Path | None,
    names: tuple[str, ...],
    backend: str,
    jobs: int | None,
    force: bool,
    write_manifest: bool,
    as_json: bool,
) -> None:
    """Build (or reuse) the golden artifacts of every case."""
    started = time.monotonic()
    try:
        cases = _select(cases_dir, names)
        build = _build_with_progress(cases, backend=backend, jobs=jobs, force=force)
    except RampError as exc:
        _fail(exc)
        return
    if write_manifest:
        if cases_dir or names:
            raise click.UsageError("--write-manifest records the whole built-in corpus only")
        manifest_of(build).save()
    if as_json:
        rows = [
            {
                "name": c.name,
                "expected_exit_code": c.expected_exit,
                "expected_stdout": str(c.expected_stdout),
                "artifacts": {stage.value: str(path) for stage, path in c.artifacts.items()},
            }
            for c in build.cases
        ]
        click.echo(json.dumps({"cases": rows, "failures": build.failures}, indent=1))
    else:
        click.echo(
            f"{len(build.cases)} cases: {build.built} built, {build.reused} reused, "
            f"{len(build.failures)} failed, in {time.monotonic() - started:.1f} s (key {build.key})"
        )
        for name, problem in build.failures.items():
            click.echo(f"  {name}: {problem.splitlines()[0]}")
    sys.exit(1 if build.failures else 0)


@golden_group.command("verify")
@_with_case_options
@click.option("--json", "as_json", is_flag=True)
def verify_command(
    cases_dir: Path | None, names: tuple[str, ...], backend: str, jobs: int | None, as_json: bool
) -> None:
    """Rebuild from scratch and prove this machine reproduces the manifest bit for bit."""
    expected = GoldenManifest.load()
    if expected is None:
        click.echo(f"error: no manifest at {MANIFEST_PATH}", err=True)
        sys.exit(2)
    try:
        cases = _select(cases_dir, names)
        with tempfile.TemporaryDirectory(prefix="ramp-golden-verify-", dir="/tmp") as scratch:
            root = Path(scratch)
            root.chmod(0o755)
            build = _build_with_progress(cases, backend=backend, jobs=jobs, cache_root=root)
    except RampError as exc:
        _fail(exc)
        return
    problems = compare(expected, build) + [f"{n}: {p}" for n, p in build.failures.items()]
    note = key_note(expected, build)
    if as_json:
        click.echo(
            json.dumps({"cases": len(cases), "problems": problems, "key_note": note}, indent=1)
        )
        sys.exit(1 if problems else 0)
    if note is not None:
        click.echo(f"note: {note}")
    elif problems:
        click.echo(f"{len(problems)} problem(s):")
        for problem in problems:
            click.echo(f"  {problem}")
    else:
        click.echo(f"{len(cases)} cases reproduce the manifest bit for bit")
    sys.exit(1 if problems else 0)


@click.group("reference")
def reference_group() -> None:
    """RAMP's reference solution: a complete compiler graded like any workspace."""


@reference_group.command("path")
def reference_path_command() -> None:
    """Print the path of a ready workspace holding the reference solution."""
    click.echo(str(reference_workspace()))
