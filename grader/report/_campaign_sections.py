"""What a campaign report says, as the format-neutral blocks the terminal, Markdown and HTML
renderers share (see :mod:`grader.report._sections`)."""

from __future__ import annotations

from grader.ledger import STAGES
from grader.metrics import Interval
from grader.report import _format as fmt
from grader.report._campaign import CampaignComparison, CampaignReport, CampaignRow
from grader.report._leaderboard import TIER_KEYS
from grader.report._sections import Block, Facts, Table

__all__ = ["campaign_blocks", "interval_text", "row_name"]


def interval_text(value: Interval | None, digits: int = 1, sep: str = " ") -> str:
    """``mean [low, high]`` (``sep`` between the two); just the mean for a single value;
    ``-`` when unknown."""
    if value is None:
        return "-"
    if value.n == 1:
        return f"{value.mean:.{digits}f}"
    return f"{value.mean:.{digits}f}{sep}[{value.ci_low:.{digits}f}, {value.ci_high:.{digits}f}]"


def _money(value: Interval | None) -> str:
    if value is None:
        return "-"
    if value.n == 1:
        return fmt.money(value.mean)
    return f"{fmt.money(value.mean)}\n[{fmt.money(value.ci_low)}, {fmt.money(value.ci_high)}]"


def row_name(agent: str, model: str) -> str:
    """How a row is named in every format."""
    return f"{agent} / {model}"


def _facts(report: CampaignReport) -> Facts:
    trials = sum(row.trials for row in report.rows)
    items = [
        ("name", report.campaign),
        ("generated", fmt.when(report.generated_at)),
        ("rows", f"{len(report.rows)} agent x model, {trials} graded trial(s)"),
        (
            "epoch (hidden cases)",
            ", ".join(report.epochs)
            + (" (MIXED: rows are not comparable)" if len(report.epochs) > 1 else ""),
        ),
    ]
    if report.partial is not None:
        items.append(
            (
                "partial",
                f"{report.partial.graded} of {report.partial.total} trials graded; the rest "
                "are queued, running or failed (see ramp campaign status)",
            )
        )
    items.append(
        (
            "intervals",
            f"{report.level:.0%} percentile bootstrap of the mean, "
            f"{report.resamples:,} resamples, seed {report.seed}",
        )
    )
    items.append(("suggested k aims at", f"mean reward +- {report.half_width:g} points"))
    return Facts(title="Campaign", items=items)


def _rows(report: CampaignReport) -> Table:
    def line(rank: int, row: CampaignRow) -> tuple[str, ...]:
        return (
            str(rank),
            row_name(row.agent, row.model),
            str(row.trials),
            interval_text(row.mean_reward, sep="\n"),
            interval_text(row.pipeline_score, sep="\n"),
            interval_text(row.pass_score, sep="\n"),
            interval_text(row.stable_aei, sep="\n"),
            interval_text(row.cohort_aei, sep="\n"),
            _money(row.cost_usd),
            "-" if row.elapsed_s is None else fmt.duration(row.elapsed_s.mean),
            " ".join(f"{key}:{row.tiers[key]}" for key in TIER_KEYS if row.tiers[key]),
            "-" if row.suggested_k is None else str(row.suggested_k),
        )

    return Table(
        title="Rows",
        columns=(
            "#",
            "agent / model",
            "trials",
            "mean reward",
            "pipeline",
            "pass score",
            "stable AEI",
            "cohort AEI",
            "cost",
            "mean time",
            "tiers",
            "suggested k",
        ),
        rows=[line(rank, row) for rank, row in enumerate(report.rows, start=1)],
        numeric=frozenset({0, 2, 3, 4, 5, 6, 7, 8, 9, 11}),
        note=(
            f"mean [{report.level:.0%} bootstrap interval] over the trials; the cohort AEI is "
            "normalised over the campaign's runs; suggested k: trials for a mean-reward "
            f"interval of +- {report.half_width:g}."
        ),
    )


def _stages(report: CampaignReport) -> Table:
    return Table(
        title="Stage scores (chained; ungraded counts 0)",
        columns=("agent / model", *STAGES),
        rows=[
            (row_name(row.agent, row.model), *(interval_text(row.stages[s]) for s in STAGES))
            for row in report.rows
        ],
        numeric=frozenset(range(1, len(STAGES) + 1)),
    )


def _pass_k(report: CampaignReport) -> Table:
    return Table(
        title="pass@k and pass^k (mean over the six stages, %)",
        columns=("agent / model", "k", "pass@k", "pass^k"),
        rows=[
            (row_name(row.agent, row.model), str(p.k), f"{p.pass_at_k:.1f}", f"{p.pass_hat_k:.1f}")
            for row in report.rows
            for p in row.pass_k
        ],
        numeric=frozenset({1, 2, 3}),
    )


def _verdict(comparison: CampaignComparison) -> str:
    if comparison.inside_noise:
        return "inside the noise" if comparison.difference.n > 1 else "one trial: no noise seen"
    better = comparison.difference.ci_low > 0
    agent = comparison.first_agent if better else comparison.second_agent
    model = comparison.first_model if better else comparison.second_model
    return f"{row_name(agent, model)} is better"


def _comparisons(report: CampaignReport) -> Table:
    return Table(
        title="Comparisons on mean reward (first - second)",
        columns=("first", "second", "difference", "paired", "verdict"),
        rows=[
            (
                row_name(c.first_agent, c.first_model),
                row_name(c.second_agent, c.second_model),
                interval_text(c.difference, 2),
                f"yes ({c.difference.n})" if c.paired else "no",
                _verdict(c),
            )
            for c in report.comparisons
        ],
        numeric=frozenset({2}),
        note="paired: by trial index, over the trials both rows have (when two or more); "
        "inside the noise: the difference's interval contains 0 or a row has one trial.",
    )


def campaign_blocks(report: CampaignReport) -> list[Block]:
    """The campaign's facts, rows, stage scores, pass@k / pass^k and comparisons."""
    blocks: list[Block] = [_facts(report), _rows(report), _stages(report), _pass_k(report)]
    if report.comparisons:
        blocks.append(_comparisons(report))
    return blocks
