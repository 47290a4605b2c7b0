"""A run's usage: tokens, cost and tool calls, summed from its usage events.

Cost, per token record: the cost reported with it if any, else its price from the pricing
table. A conversation with a reported total (Claude Code's ``result`` line: kind ``cost``)
takes that total instead of its records' costs. ``cost_usd`` is None, and ``cost_source``
``unknown``, as soon as one token record has neither a reported cost nor a price.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import Row
from sqlmodel import col, select

from grader.ledger import Ledger, UsageEvent
from grader.usage._models import CostSource, ModelUsage, RunUsage, TokenCounts, ToolCalls, ToolStats
from grader.usage._pricing import ModelPrice, PricingTable, load_pricing

__all__ = ["run_usage", "token_counts"]

_UNKNOWN_MODEL = "unknown"


@dataclass
class _Tokens:
    reports: int = 0
    input: int = 0
    cache_read: int = 0
    cache_write: int = 0
    output: int = 0
    reasoning: int = 0

    def add(
        self,
        input_: int | None,
        read: int | None,
        write: int | None,
        out: int | None,
        why: int | None,
    ) -> None:
        self.reports += 1
        self.input += input_ or 0
        self.cache_read += read or 0
        self.cache_write += write or 0
        self.output += out or 0
        self.reasoning += why or 0

    def counts(self) -> TokenCounts:
        return TokenCounts(
            reports=self.reports,
            input=self.input,
            cache_read=self.cache_read,
            cache_write=self.cache_write,
            uncached_input=max(0, self.input - self.cache_read - self.cache_write),
            output=self.output,
            reasoning=self.reasoning,
            total=self.input + self.output + self.reasoning + self.cache_read,
            unique_total=self.input + self.output,
        )


def token_counts(events: Iterable[UsageEvent]) -> TokenCounts:
    """The token totals of ``events`` (kind ``tokens``; others are ignored)."""
    tokens = _Tokens()
    for e in events:
        if e.kind == "tokens":
            tokens.add(
                e.input_tokens,
                e.cache_read_input_tokens,
                e.cache_creation_input_tokens,
                e.output_tokens,
                e.reasoning_output_tokens,
            )
    return tokens.counts()


@dataclass
class _Cost:
    reported: float = 0.0
    priced: float = 0.0
    reported_parts: int = 0
    priced_parts: int = 0
    unpriced: int = 0
    tokens: _Tokens = field(default_factory=_Tokens)

    def add_reported(self, dollars: float) -> None:
        self.reported += dollars
        self.reported_parts += 1

    def add_priced(self, dollars: float) -> None:
        self.priced += dollars
        self.priced_parts += 1

    def source(self) -> CostSource:
        if self.unpriced or not (self.reported_parts or self.priced_parts):
            return "unknown"
        if self.reported_parts and self.priced_parts:
            return "mixed"
        return "priced" if self.priced_parts else "reported"

    def total(self) -> float | None:
        if self.source() == "unknown":
            return None
        return self.reported + self.priced


_COLUMNS: Final = (
    UsageEvent.kind,
    UsageEvent.source,
    UsageEvent.request_model,
    UsageEvent.provider,
    UsageEvent.conversation_id,
    UsageEvent.input_tokens,
    UsageEvent.cache_read_input_tokens,
    UsageEvent.cache_creation_input_tokens,
    UsageEvent.output_tokens,
    UsageEvent.reasoning_output_tokens,
    UsageEvent.cost_usd,
    UsageEvent.cost_source,
    UsageEvent.outcome,
    UsageEvent.tool,
    UsageEvent.duration_s,
)


def _rows(ledger: Ledger, run_id: str) -> list[Row[Any]]:
    """The run's usage events as plain rows of :data:`_COLUMNS` (no ORM objects: a run may
    hold tens of thousands)."""
    with ledger.session(write=False) as session:
        return list(
            session.execute(
                select(*(col(c) for c in _COLUMNS)).where(col(UsageEvent.run_id) == run_id)
            ).all()
        )


def run_usage(ledger: Ledger, run_id: str, pricing: PricingTable | None = None) -> RunUsage:
    """Tokens, cost (reported or priced), per-model figures and tool calls of run ``run_id``."""
    table = pricing if pricing is not None else load_pricing()
    ledger.get_run(run_id)
    rows = _rows(ledger, run_id)
    covered = {r.conversation_id for r in rows if r.kind == "cost" and r.conversation_id}
    per_model: dict[str, _Cost] = defaultdict(_Cost)
    providers: dict[str, str | None] = {}
    unpriced_models: set[str] = set()
    errors: dict[str, int] = defaultdict(int)
    sources: dict[str, int] = defaultdict(int)
    tools: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0])
    everything = _Tokens()
    prices: dict[str | None, ModelPrice | None] = {}  # looked up once per model
    for r in rows:
        model = r.request_model or _UNKNOWN_MODEL
        if r.kind == "tool_call":
            entry = tools[r.tool or "unknown"]
            entry[0] += 1
            entry[1] += r.duration_s or 0.0
            entry[2] += 0 if r.outcome == "ok" else 1
            continue
        if r.kind == "error":
            errors[r.outcome or "api_error"] += 1
            continue
        if r.kind == "cost":
            per_model[model].add_reported(r.cost_usd or 0.0)
            providers.setdefault(model, r.provider)
            continue
        if r.kind != "tokens":
            continue
        counts = (
            r.input_tokens,
            r.cache_read_input_tokens,
            r.cache_creation_input_tokens,
            r.output_tokens,
            r.reasoning_output_tokens,
        )
        everything.add(*counts)
        sources[r.source] += 1
        cost = per_model[model]
        cost.tokens.add(*counts)
        providers.setdefault(model, r.provider)
        if r.conversation_id in covered:
            continue  # its conversation's reported total counts instead
        if r.cost_usd is not None and r.cost_source == "reported":
            cost.add_reported(r.cost_usd)
            continue
        if r.request_model not in prices:
            key = table.resolve(r.request_model)
            prices[r.request_model] = None if key is None else table.models[key]
        price = prices[r.request_model]
        if price is None:
            cost.unpriced += 1
            unpriced_models.add(model)
            continue
        input_tokens, read, write = (
            r.input_tokens or 0,
            r.cache_read_input_tokens or 0,
            r.cache_creation_input_tokens or 0,
        )
        cost.add_priced(
            price.rates_for(input_tokens).cost(
                uncached=max(0, input_tokens - read - write),
                cache_read=read,
                cache_write=write,
                output=r.output_tokens or 0,
                reasoning=r.reasoning_output_tokens or 0,
            )
        )
    models = [
        ModelUsage(
            model=model,
            provider=providers.get(model),
            price_key=table.resolve(None if model == _UNKNOWN_MODEL else model),
            tokens=cost.tokens.counts(),
            cost_usd=cost.total(),
            cost_source=cost.source(),
        )
        for model, cost in sorted(per_model.items())
    ]
    overall = _Cost(
        reported=sum(c.reported for c in per_model.values()),
        priced=sum(c.priced for c in per_model.values()),
        reported_parts=sum(c.reported_parts for c in per_model.values()),
        priced_parts=sum(c.priced_parts for c in per_model.values()),
        unpriced=sum(c.unpriced for c in per_model.values()),
    )
    return RunUsage(
        run_id=run_id,
        tokens=everything.counts(),
        cost_usd=overall.total(),
        cost_source=overall.source(),
        cost_reported_usd=overall.reported,
        cost_priced_usd=overall.priced,
        models=models,
        unpriced_models=sorted(unpriced_models),
        unpriced_reports=overall.unpriced,
        pricing_version=table.version,
        tool_calls=_tool_calls(tools),
        errors=dict(sorted(errors.items())),
        sources=dict(sorted(sources.items())),
    )


def _tool_calls(stats: dict[str, list[float]]) -> ToolCalls:
    per_tool = {
        name: ToolStats(count=int(count), seconds=round(seconds, 6), errors=int(errors))
        for name, (count, seconds, errors) in sorted(stats.items())
    }
    return ToolCalls(
        count=sum(s.count for s in per_tool.values()),
        seconds=round(sum(s.seconds for s in per_tool.values()), 6),
        errors=sum(s.errors for s in per_tool.values()),
        per_tool=per_tool,
    )
