"""``ramp-grade usage import|report|show|pricing``: usage and cost of runs."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import click
from click.decorators import FC
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from grader._grade_cli import EXIT_BAD_INPUT, EXIT_INFRASTRUCTURE
from grader.ledger import Ledger, LedgerError, RunNotFoundError
from grader.usage._claude import import_claude_code
from grader.usage._codex import import_codex
from grader.usage._errors import PricingError, UsageInputError
from grader.usage._generic import import_jsonl, report_usage
from grader.usage._models import ERROR_CLASSES, ImportReport, RunUsage, UsageRecord
from grader.usage._pricing import PRICING_ENV, PricingTable, load_pricing
from grader.usage._summary import run_usage
from toolchain import RampError

__all__ = ["usage_group"]

_ledger_option = click.option(
    "--ledger",
    "ledger_url",
    envvar="RAMP_LEDGER_URL",
    help="SQLAlchemy URL (default: SQLite in RAMP_HOME)",
)
_pricing_option = click.option(
    "--pricing",
    "pricing_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"a TOML file of prices merged over the shipped table (default: ${PRICING_ENV})",
)
_Importer = Callable[[Ledger, str, Path], ImportReport]


def _paths_option(flag: str, dest: str, help: str) -> Callable[[FC], FC]:
    """A repeatable option naming transcript files or directories."""
    return click.option(flag, dest, multiple=True, type=click.Path(path_type=Path), help=help)


@contextmanager
def _guarded() -> Iterator[None]:
    """Bad input exits 2, anything the ledger or the machine broke exits 3."""
    try:
        yield
    except (RunNotFoundError, UsageInputError, PricingError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except (LedgerError, RampError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_INFRASTRUCTURE)


@click.group("usage")
def usage_group() -> None:
    """Token usage, cost and tool calls of runs: import transcripts, report live, show."""


@usage_group.command("import")
@click.argument("run_id")
@_paths_option(
    "--claude-code",
    "claude_paths",
    "a Claude Code transcript (.jsonl) or a directory of them, subagents included",
)
@_paths_option("--codex", "codex_paths", "a Codex rollout (.jsonl) or a directory of them")
@_paths_option(
    "--jsonl",
    "jsonl_paths",
    "a file in RAMP's generic usage format (docs/usage-format.md) or a directory",
)
@click.option("--strict", is_flag=True, help="exit 2 when any line could not be used")
@_ledger_option
@click.option("--json", "as_json", is_flag=True)
def import_command(
    run_id: str,
    claude_paths: tuple[Path, ...],
    codex_paths: tuple[Path, ...],
    jsonl_paths: tuple[Path, ...],
    strict: bool,
    ledger_url: str | None,
    as_json: bool,
) -> None:
    """Import usage of RUN_ID from agent transcripts. Importing again adds nothing new.

    Exit codes: 0 imported (unusable lines are listed and skipped), 2 bad input (or, with
    --strict, any unusable line), 3 ledger or system failure.
    """
    jobs: list[tuple[_Importer, Path]] = [
        *((import_claude_code, p) for p in claude_paths),
        *((import_codex, p) for p in codex_paths),
        *((import_jsonl, p) for p in jsonl_paths),
    ]
    if not jobs:
        click.echo(
            "error: nothing to import; give --claude-code PATH, --codex PATH or --jsonl PATH",
            err=True,
        )
        sys.exit(EXIT_BAD_INPUT)
    reports: list[ImportReport] = []
    with _guarded(), Ledger.open(ledger_url) as ledger:
        for importer, path in jobs:
            reports.append(importer(ledger, run_id, path))
    if as_json:
        click.echo(json.dumps({"imports": [r.model_dump(mode="json") for r in reports]}, indent=1))
    else:
        for report in reports:
            _print_import(report)
    if strict and not all(r.ok for r in reports):
        sys.exit(EXIT_BAD_INPUT)


def _print_import(report: ImportReport) -> None:
    kinds = ", ".join(f"{n} {kind}" for kind, n in report.added_by_kind.items()) or "none"
    click.echo(
        f"{report.format} {report.path}: {len(report.files)} file(s), {report.lines_read} lines "
        f"in {report.duration_s:.2f} s: {report.records_added} records added ({kinds}), "
        f"{report.duplicates_skipped} already stored, {report.records_updated} grown, "
        f"{report.lines_merged} repeated lines merged, "
        f"{len(report.problems) + report.problems_omitted} unusable line(s)"
    )
    for problem in report.problems:
        click.echo(f"  {problem}", err=True)
    if report.problems_omitted:
        click.echo(f"  ... and {report.problems_omitted} more", err=True)


@usage_group.command("report")
@click.argument("run_id")
@click.option("--model", default=None, help="the model that answered, e.g. claude-opus-4-7")
@click.option("--provider", default=None, help="e.g. anthropic, openai")
@click.option("--input-tokens", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--cached-input-tokens", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--cache-write-tokens", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--output-tokens", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--reasoning-tokens", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--cost-usd", type=click.FloatRange(min=0), default=None, help="if reported")
@click.option("--conversation", default=None, help="session or thread id")
@click.option(
    "--error-type", type=click.Choice(ERROR_CLASSES), default=None, help="report an error"
)
@click.option("--message", default=None, help="the error's message")
@click.option("--at", default=None, help="when the call ended, ISO-8601 with a zone (default now)")
@click.option("--id", "record_id", default=None, help="dedup key: the same id is stored once")
@_ledger_option
@click.option("--json", "as_json", is_flag=True)
def report_command(
    run_id: str,
    model: str | None,
    provider: str | None,
    input_tokens: int,
    cached_input_tokens: int,
    cache_write_tokens: int,
    output_tokens: int,
    reasoning_tokens: int,
    cost_usd: float | None,
    conversation: str | None,
    error_type: str | None,
    message: str | None,
    at: str | None,
    record_id: str | None,
    ledger_url: str | None,
    as_json: bool,
) -> None:
    """Report one model call's usage (or error) of RUN_ID while the run goes on.

    Input tokens count every input token, cached and cache-written ones included; output
    tokens include reasoning. Give --id so that a retried report is not counted twice.
    """
    try:
        record = UsageRecord(
            id=record_id,
            kind="tokens" if error_type is None else "error",
            at=datetime.fromisoformat(at) if at is not None else None,
            model=model,
            provider=provider,
            conversation_id=conversation,
            input_tokens=input_tokens,
            cached_input_tokens=cached_input_tokens,
            cache_write_tokens=cache_write_tokens,
            output_tokens=output_tokens,
            reasoning_tokens=reasoning_tokens,
            cost_usd=cost_usd,
            error_type=error_type,
            message=message,
        )
    except (ValidationError, ValueError) as exc:
        click.echo(f"error: {_first_line(exc)}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    with _guarded(), Ledger.open(ledger_url) as ledger:
        stored = report_usage(ledger, run_id, record)
    if as_json:
        click.echo(json.dumps({"run_id": run_id, "stored": stored}))
    else:
        click.echo("stored" if stored else "already stored (same id): not counted again")


@usage_group.command("show")
@click.argument("run_id")
@_pricing_option
@_ledger_option
@click.option("--json", "as_json", is_flag=True)
def show_command(
    run_id: str, pricing_path: Path | None, ledger_url: str | None, as_json: bool
) -> None:
    """Tokens, cost (reported or priced) and tool calls of RUN_ID."""
    with _guarded():
        pricing = load_pricing(pricing_path)
        with Ledger.open(ledger_url) as ledger:
            usage = run_usage(ledger, run_id, pricing)
    if as_json:
        click.echo(usage.model_dump_json(indent=1))
        return
    _print_usage(usage)


def _print_usage(usage: RunUsage) -> None:
    console = Console()
    tokens = usage.tokens
    cost = "unknown" if usage.cost_usd is None else f"${usage.cost_usd:.4f}"
    console.print(
        f"run {usage.run_id}: {tokens.reports} model responses, {tokens.input:,} input tokens "
        f"({tokens.cache_read:,} cache reads, {tokens.cache_write:,} cache writes), "
        f"{tokens.output:,} output ({tokens.reasoning:,} reasoning); paper total "
        f"{tokens.total:,}; cost {cost} ({usage.cost_source}; pricing {usage.pricing_version})"
    )
    if usage.unpriced_models:
        console.print(
            f"no price for {', '.join(usage.unpriced_models)} ({usage.unpriced_reports} "
            "responses): add them to a pricing file (--pricing FILE)"
        )
    if usage.models:
        table = Table("model", "responses", "input", "cache read", "output", "cost $", "source")
        for entry in usage.models:
            table.add_row(
                entry.model,
                str(entry.tokens.reports),
                f"{entry.tokens.input:,}",
                f"{entry.tokens.cache_read:,}",
                f"{entry.tokens.output:,}",
                "-" if entry.cost_usd is None else f"{entry.cost_usd:.4f}",
                entry.cost_source,
            )
        console.print(table)
    calls = usage.tool_calls
    console.print(f"tool calls: {calls.count}, {calls.seconds:.1f} s, {calls.errors} errors")
    if calls.per_tool:
        table = Table("tool", "calls", "seconds", "errors")
        for name, stats in calls.per_tool.items():
            table.add_row(name, str(stats.count), f"{stats.seconds:.2f}", str(stats.errors))
        console.print(table)
    if usage.errors:
        listed = ", ".join(f"{name} x{count}" for name, count in usage.errors.items())
        console.print(f"transcript errors: {listed}")


@usage_group.command("pricing")
@_pricing_option
@click.option("--json", "as_json", is_flag=True)
def pricing_command(pricing_path: Path | None, as_json: bool) -> None:
    """The pricing table in effect: the shipped one with your file merged over it."""
    with _guarded():
        table = load_pricing(pricing_path)
    if as_json:
        click.echo(table.model_dump_json(indent=1))
        return
    _print_pricing(table)


def _print_pricing(table: PricingTable) -> None:
    shown = Table(
        "model",
        "provider",
        "input",
        "cached input",
        "cache write",
        "output",
        "reasoning",
        title=f"USD per million tokens, version {table.version}",
    )
    for name, price in sorted(table.models.items()):
        shown.add_row(
            name,
            price.provider or "-",
            f"{price.input:g}",
            f"{price.cached_input:g}",
            f"{price.input if price.cache_write is None else price.cache_write:g}",
            f"{price.output:g}",
            f"{price.output if price.reasoning is None else price.reasoning:g}",
        )
    Console().print(shown)


def _first_line(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'record'}: "
            + e["msg"].removeprefix("Value error, ")
            for e in exc.errors()
        )
    return str(exc).splitlines()[0]
