"""`ramp golden epoch new|list|show|verify|use`: make, inspect, check and choose epochs."""

from __future__ import annotations

import json
import secrets
import sys
import time
from typing import NoReturn

import click
from pydantic import BaseModel
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from golden.epochs._make import make_epoch
from golden.epochs._models import EpochView
from golden.epochs._store import list_epochs, show_epoch, use_epoch
from golden.epochs._verify import verify_epoch
from toolchain import RampError

__all__ = ["epoch_group"]

_err = Console(stderr=True)
# Seeds below this are for tests and examples: an agent could try them all.
_GUESSABLE = 1 << 40


def _fail(exc: RampError) -> NoReturn:
    click.echo(f"error: {exc}", err=True)
    sys.exit(2)


def _echo_json(model: BaseModel) -> None:
    click.echo(model.model_dump_json(indent=1))


@click.group("epoch")
def epoch_group() -> None:
    """Generated hidden case sets: `0` is the built-in corpus."""


def _make_with_progress(
    seed: int, *, functional: int, performance: int, backend: str, jobs: int | None
) -> EpochView:
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=_err,
        transient=True,
    ) as progress:
        task = progress.add_task("epoch", total=None)

        def update(phase: str, done: int, total: int) -> None:
            progress.update(task, description=f"epoch: {phase}", completed=done, total=total)

        began = time.monotonic()
        manifest = make_epoch(
            seed,
            functional=functional,
            performance=performance,
            backend=backend,
            jobs=jobs,
            on_progress=update,
        )
        seconds = time.monotonic() - began
    return show_epoch(manifest.epoch).model_copy(update={"seconds": round(seconds, 2)})


@epoch_group.command("new")
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=None,
    help="the same seed makes the same epoch; default: a random 62-bit seed (keep it secret: "
    "the generator is public, so the seed is the hidden set)",
)
@click.option(
    "--guessable-seed",
    is_flag=True,
    help="accept a --seed below 2^40 (tests and examples only: an agent could try them all)",
)
@click.option("--functional", type=click.IntRange(min=0), default=100, show_default=True)
@click.option("--performance", type=click.IntRange(min=0), default=25, show_default=True)
@click.option("--backend", default="auto", show_default=True)
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="default: CPU count")
@click.option("--json", "as_json", is_flag=True)
def new_command(
    seed: int | None,
    guessable_seed: bool,
    functional: int,
    performance: int,
    backend: str,
    jobs: int | None,
    as_json: bool,
) -> None:
    """Generate, check and build a new epoch of hidden cases (from --seed, or a random one)."""
    if seed is None:
        seed = secrets.randbits(62)
    elif seed < _GUESSABLE and not guessable_seed:
        click.echo(
            f"error: seed {seed} can be guessed: the generator is public, so an agent that "
            "tries small seeds could make this epoch itself. Leave --seed out (a random 62-bit "
            "seed is drawn and printed; give that same seed on every node of a cluster), or "
            "add --guessable-seed for a test or an example.",
            err=True,
        )
        sys.exit(2)
    try:
        view = _make_with_progress(
            seed, functional=functional, performance=performance, backend=backend, jobs=jobs
        )
    except RampError as exc:
        _fail(exc)
    if as_json:
        _echo_json(view)
        return
    click.echo(
        f"epoch {view.epoch}: {len(view.cases)} cases in {view.dir} "
        f"({len(view.rejected)} candidates rejected) in {view.seconds} s"
    )
    click.echo(
        f"grade on it: ramp run create --epoch {view.epoch}  (or: ramp golden epoch use {view.epoch})"
    )


@epoch_group.command("list")
@click.option("--json", "as_json", is_flag=True)
def list_command(as_json: bool) -> None:
    """Epoch 0 (built-in) and every epoch made on this machine; * marks the current one."""
    try:
        rows = list_epochs()
    except RampError as exc:
        _fail(exc)
    if as_json:
        click.echo(json.dumps({"epochs": [r.model_dump(mode="json") for r in rows]}, indent=1))
        return
    for row in rows:
        mark = "*" if row.current else " "
        seed = "built-in" if row.seed is None else f"seed {row.seed}"
        click.echo(
            f"{mark} {row.epoch:24} {seed:12} {row.functional:4} functional "
            f"{row.performance:3} performance  {row.dir}"
        )


@epoch_group.command("show")
@click.argument("epoch")
def show_command(epoch: str) -> None:
    """Print EPOCH as JSON: seed, generator version, cases with absolute paths, coverage."""
    try:
        _echo_json(show_epoch(epoch))
    except RampError as exc:
        _fail(exc)


@epoch_group.command("verify")
@click.argument("epoch")
@click.option("--differential", is_flag=True, help="also re-run every program's builds")
@click.option("--backend", default="auto", show_default=True)
@click.option("--json", "as_json", is_flag=True)
def verify_command(epoch: str, differential: bool, backend: str, as_json: bool) -> None:
    """Check every file of EPOCH against its manifest and rebuild its golden artifacts."""
    try:
        with _err.status(f"verifying epoch {epoch}"):
            verdict = verify_epoch(epoch, backend=backend, differential=differential)
    except RampError as exc:
        _fail(exc)
    if as_json:
        _echo_json(verdict)
    elif verdict.ok:
        click.echo(f"epoch {epoch}: {verdict.checked} cases reproduce the manifest")
    else:
        click.echo(f"epoch {epoch}: {len(verdict.problems)} problem(s):")
        for problem in verdict.problems:
            click.echo(f"  {problem}")
    sys.exit(0 if verdict.ok else 1)


@epoch_group.command("use")
@click.argument("epoch")
def use_command(epoch: str) -> None:
    """Make EPOCH the default of new runs and grades (`0`: the built-in corpus)."""
    try:
        use_epoch(epoch)
    except RampError as exc:
        _fail(exc)
    click.echo(f"new runs and grades use epoch {epoch}")
