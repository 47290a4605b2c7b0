"""What a human-readable report says, as format-neutral blocks (tables, facts, bullet lists).

The terminal, Markdown and HTML renderers all draw these same blocks, so the three formats
always say the same thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from grader.report import _format as fmt
from grader.report._leaderboard import TIER_KEYS, Leaderboard, Spread
from grader.report._model import RunMetrics
from grader.taxonomy import Failure, RunDiagnosis
from grader.usage import RunUsage

__all__ = [
    "Block",
    "Bullets",
    "Facts",
    "Table",
    "leaderboard_blocks",
    "run_blocks",
    "run_title",
    "summary_table",
]


@dataclass(frozen=True)
class Table:
    """A titled table; ``numeric`` marks the right-aligned columns."""

    title: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]
    numeric: frozenset[int] = field(default_factory=frozenset)
    note: str | None = None


@dataclass(frozen=True)
class Facts:
    """A titled list of name: value pairs."""

    title: str
    items: list[tuple[str, str]]


@dataclass(frozen=True)
class Bullets:
    """A titled list of headline items, each with its sub-items (evidence)."""

    title: str
    items: list[tuple[str, list[str]]]
    empty: str = "none"


Block = Table | Facts | Bullets


def run_title(run: RunMetrics) -> str:
    """``r-0123456789: agent / model / harness (label)``."""
    who = " / ".join(p for p in (run.run.agent, run.run.model, run.run.harness) if p)
    label = f" ({run.run.label})" if run.run.label else ""
    return f"{run.run.run_id}: {who}{label}"


def summary_table(runs: Sequence[RunMetrics]) -> Table:
    """One line per run: the headline figures side by side."""
    return Table(
        title="Runs",
        columns=(
            "run",
            "agent",
            "model",
            "status",
            "tier",
            "mean reward",
            "pass score",
            "AEI (cohort)",
            "stable AEI",
            "cost",
            "elapsed",
        ),
        rows=[
            (
                r.run.run_id,
                r.run.agent,
                r.run.model,
                r.run.status,
                fmt.signed_tier(r.rewards.tier),
                fmt.score(r.rewards.mean_reward),
                fmt.score(r.rewards.pass_score),
                fmt.score(None if r.aei.cohort is None else r.aei.cohort.aei),
                fmt.score(None if r.aei.stable is None else r.aei.stable.aei),
                fmt.money(r.usage.cost_usd),
                fmt.duration(r.elapsed.elapsed_s),
            )
            for r in runs
        ],
        numeric=frozenset(range(5, 11)),
    )


def run_blocks(run: RunMetrics) -> list[Block]:
    """Every block of one run's report, in reading order."""
    return [
        _identity(run),
        _stages(run),
        _metrics(run),
        *_usage(run.usage),
        _findings(run),
        *([] if run.diagnosis is None else [_diagnosis(run.diagnosis)]),
    ]


def _findings(run: RunMetrics) -> Bullets:
    """Every integrity finding with its stage and evidence (the agent saw the category only)."""
    return Bullets(
        title="Integrity findings",
        items=[
            (
                f"{f.stage or '-'}: {f.category} (submission {f.submission_id or '-'}, "
                f"{fmt.when(f.at)}; the stage scored 0)",
                [f"evidence: {f.evidence}"],
            )
            for f in run.findings
        ],
        empty="none",
    )


def _identity(run: RunMetrics) -> Facts:
    ident = run.run
    return Facts(
        title="Run",
        items=[
            ("run", ident.run_id),
            ("agent / model / harness", f"{ident.agent} / {ident.model} / {ident.harness or '-'}"),
            ("label", ident.label or "-"),
            ("status", ident.status),
            ("sandbox / grading toolchain", f"{ident.sandbox} / {ident.toolchain or 'unknown'}"),
            ("epoch (hidden cases)", "0 (built-in corpus)" if ident.epoch == "0" else ident.epoch),
            ("created", fmt.when(ident.created_at)),
            ("finished", fmt.when(ident.finished_at)),
            (
                "elapsed",
                f"{fmt.duration(run.elapsed.elapsed_s)} (first event "
                f"{fmt.when(run.elapsed.first_event_at)}, last "
                f"{fmt.when(run.elapsed.last_event_at)})",
            ),
            (
                "attempts per stage / budget",
                f"{ident.attempts_per_stage} / "
                f"{'none' if ident.budget_s is None else fmt.duration(ident.budget_s)}",
            ),
        ],
    )


def _stages(run: RunMetrics) -> Table:
    return Table(
        title="Stages",
        columns=(
            "stage",
            "state",
            "attempts",
            "chained",
            "isolated",
            "pass",
            "resurrected",
            "reached",
            "affected",
            "time open",
        ),
        rows=[
            (
                s.stage,
                s.state,
                str(s.attempts),
                fmt.score(s.chained_score),
                fmt.score(s.isolated_score),
                "yes" if s.passed else "no",
                "yes" if s.resurrected else "no",
                "yes" if s.reached else "no",
                "yes" if s.affected else "no",
                fmt.duration(s.seconds_open),
            )
            for s in run.stages
        ],
        numeric=frozenset({2, 3, 4, 9}),
        note=(
            f"funnel: {run.funnel.reached} reached, {run.funnel.passed} passed, "
            f"{run.funnel.resurrected} resurrected of 6"
        ),
    )


def _metrics(run: RunMetrics) -> Table:
    rewards, aei = run.rewards, run.aei
    rows: list[tuple[str, ...]] = [
        ("tier", fmt.signed_tier(rewards.tier), "highest Tk with T0..Tk all at 100"),
        ("mean reward", fmt.score(rewards.mean_reward), "weights 1,2,2,3,3,4; bonus 1.2 / 1.0"),
        ("pipeline score", fmt.score(rewards.pipeline_score), "plain mean of the six"),
        ("pass score", fmt.score(rewards.pass_score), "stages >= 60, weight 1.5 / 1.0"),
    ]
    if aei.cohort is not None and aei.stable is not None:
        for name, figures, how in (
            ("AEI (cohort)", aei.cohort, f"maxima over {len(aei.cohort_runs)} run(s)"),
            ("stable AEI", aei.stable, "fixed reference budgets"),
        ):
            rows.append(
                (
                    name,
                    fmt.score(figures.aei),
                    f"{how}; stage {figures.stage:.1f}, reward {figures.reward:.1f}, "
                    f"time {figures.time:.1f}, cost {figures.cost:.1f}, "
                    f"tokens {figures.tokens:.1f}",
                )
            )
    else:
        unknown = ", ".join(aei.missing)
        rows.append(("AEI", "-", f"not computed: {unknown} unknown"))
    return Table(
        title="Metrics", columns=("metric", "value", "how"), rows=rows, numeric=frozenset({1})
    )


def _usage(usage: RunUsage) -> list[Block]:
    tokens = usage.tokens
    blocks: list[Block] = [
        Facts(
            title="Usage and cost",
            items=[
                ("cost", f"{fmt.money(usage.cost_usd)} (source: {usage.cost_source})"),
                ("pricing table", usage.pricing_version or "-"),
                (
                    "tokens",
                    f"{fmt.count(tokens.total)} total: input {fmt.count(tokens.input)} "
                    f"(cache read {fmt.count(tokens.cache_read)}, cache write "
                    f"{fmt.count(tokens.cache_write)}), output {fmt.count(tokens.output)}, "
                    f"reasoning {fmt.count(tokens.reasoning)}",
                ),
                (
                    "tool calls",
                    f"{usage.tool_calls.count} ({fmt.duration(usage.tool_calls.seconds)}, "
                    f"{usage.tool_calls.errors} with errors)",
                ),
                ("unpriced models", ", ".join(usage.unpriced_models) or "none"),
                (
                    "errors in transcripts",
                    ", ".join(f"{name} {n}" for name, n in sorted(usage.errors.items())) or "none",
                ),
            ],
        )
    ]
    if usage.models:
        blocks.append(
            Table(
                title="Per model",
                columns=("model", "input", "cache read", "output", "total", "cost", "source"),
                rows=[
                    (
                        m.model,
                        fmt.count(m.tokens.input),
                        fmt.count(m.tokens.cache_read),
                        fmt.count(m.tokens.output),
                        fmt.count(m.tokens.total),
                        fmt.money(m.cost_usd),
                        m.cost_source,
                    )
                    for m in usage.models
                ],
                numeric=frozenset({1, 2, 3, 4, 5}),
            )
        )
    if usage.tool_calls.per_tool:
        blocks.append(
            Table(
                title="Tool calls",
                columns=("tool", "calls", "seconds", "errors"),
                rows=[
                    (name, str(t.count), f"{t.seconds:.2f}", str(t.errors))
                    for name, t in sorted(
                        usage.tool_calls.per_tool.items(), key=lambda item: -item[1].count
                    )
                ],
                numeric=frozenset({1, 2, 3}),
            )
        )
    return blocks


def _failure_line(failure: Failure) -> str:
    precise = f" / {failure.precise}" if failure.precise else ""
    charged = "charged to the model" if failure.charged_to_model else "not charged to the model"
    where = f"{failure.stage}: " if failure.stage else ""
    return f"{where}{failure.category}{precise} ({charged}; rule {failure.rule})"


def _diagnosis(diagnosis: RunDiagnosis) -> Bullets:
    items: list[tuple[str, list[str]]] = []
    if diagnosis.hard_stop is not None:
        items.append(
            ("hard stop: " + _failure_line(diagnosis.hard_stop), list(diagnosis.hard_stop.evidence))
        )
    items.extend((_failure_line(f), list(f.evidence)) for f in diagnosis.stages)
    title = "Failure diagnosis"
    if diagnosis.provisional:
        title += f" (provisional: the run is {diagnosis.run_status})"
    return Bullets(title=title, items=items, empty="no failure found")


def _spread(value: Spread | None, digits: int = 1) -> str:
    """``mean ± stdev``, then ``CI low-high`` and ``[min-max]`` on lines of their own (one
    value: just the mean)."""
    if value is None:
        return "-"
    if value.stdev is None:
        return f"{value.mean:.{digits}f}"
    return (
        f"{value.mean:.{digits}f} ± {value.stdev:.{digits}f}\n"
        f"CI {value.ci_low:.{digits}f}-{value.ci_high:.{digits}f}\n"
        f"[{value.min:.{digits}f}-{value.max:.{digits}f}]"
    )


def _epoch_note(epochs: list[str]) -> str:
    """Which hidden cases the rows were graded on; a warning when they differ."""
    if len(epochs) > 1:
        return (
            f"These runs MIX EPOCHS ({', '.join(epochs)}): each epoch has its own hidden cases, "
            "so compare rows only within one epoch. "
        )
    return f"Every run was graded on epoch {epochs[0]}. " if epochs else ""


def leaderboard_blocks(board: Leaderboard) -> list[Block]:
    """The leaderboard table and how to read it."""
    rows: list[tuple[str, ...]] = [
        (
            str(rank),
            f"{row.agent} / {row.model}"
            + (f" / {row.harness}" if row.harness else "")
            + (f" @ epoch {row.epoch}" if len(board.epochs) > 1 else ""),
            str(row.trials),
            _spread(row.mean_reward),
            _spread(row.pass_score),
            _spread(row.aei),
            _spread(row.stable_aei),
            f"{row.pass_hat_k:.1f}",
            "-" if row.cost_usd is None else fmt.money(row.cost_usd.mean),
            "-" if row.elapsed_s is None else fmt.duration(row.elapsed_s.mean),
            " ".join(f"{key}:{row.tiers[key]}" for key in TIER_KEYS if row.tiers[key]),
        )
        for rank, row in enumerate(board.rows, start=1)
    ]
    return [
        Table(
            title="Leaderboard",
            columns=(
                "#",
                "agent / model / harness",
                "trials",
                "mean reward",
                "pass score",
                "AEI (cohort)",
                "stable AEI",
                "pass^k %",
                "mean cost",
                "mean time",
                "tiers",
            ),
            rows=rows,
            numeric=frozenset({0, 2, 3, 4, 5, 6, 7, 8, 9}),
            note=(
                _epoch_note(board.epochs)
                + f"{board.runs} run(s). Figures: mean ± sample stdev, CI: the mean's 95% "
                "bootstrap interval, [min-max] over the trials; pass^k is the share of stages "
                "every trial passed; the cohort AEI is normalised over all runs listed."
            ),
        )
    ]
