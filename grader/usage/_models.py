"""The pydantic models at the usage package's boundary: records in, reports and totals out."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, NonNegativeInt, model_validator

__all__ = [
    "ERROR_CLASSES",
    "CostSource",
    "ErrorClass",
    "ImportFormat",
    "ImportProblem",
    "ImportReport",
    "ModelUsage",
    "RunUsage",
    "TokenCounts",
    "ToolCalls",
    "ToolStats",
    "UsageRecord",
]

ImportFormat = Literal["claude-code", "codex", "jsonl"]
CostSource = Literal["reported", "priced", "mixed", "unknown"]
# What kind of error an agent's transcript recorded; the taxonomy reads these.
ErrorClass = Literal[
    "context_length",
    "max_turns",
    "budget",
    "usage_limit",
    "rate_limit",
    "overloaded",
    "server_error",
    "connection",
    "auth",
    "aborted",
    "api_error",
]
ERROR_CLASSES: tuple[ErrorClass, ...] = get_args(ErrorClass)


class UsageRecord(BaseModel):
    """One model call's usage (or one error), in the generic format any harness can write.

    Token fields follow the OTel GenAI conventions: ``input_tokens`` counts every input token,
    the cached and cache-written ones included; ``output_tokens`` counts every output token,
    reasoning included. ``id`` makes a report idempotent: the same id in the same run is
    stored once. See docs/usage-format.md.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str | None = Field(default=None, min_length=1, max_length=512)
    kind: Literal["tokens", "error"] = "tokens"
    at: datetime | None = Field(default=None, description="when the call ended; default: now")
    model: str | None = Field(default=None, min_length=1)
    provider: str | None = Field(default=None, min_length=1)
    conversation_id: str | None = Field(default=None, min_length=1)
    input_tokens: NonNegativeInt = 0
    cached_input_tokens: NonNegativeInt = 0
    cache_write_tokens: NonNegativeInt = 0
    output_tokens: NonNegativeInt = 0
    reasoning_tokens: NonNegativeInt = 0
    cost_usd: NonNegativeFloat | None = None
    error_type: ErrorClass | None = None
    message: str | None = None
    attributes: dict[str, object] = Field(
        default_factory=dict, description="free-form extras, kept out of the ledger"
    )

    @model_validator(mode="after")
    def _consistent(self) -> UsageRecord:
        if self.at is not None and self.at.tzinfo is None:
            raise ValueError(
                f"'at' {self.at.isoformat()} has no time zone; write it in UTC with a Z, "
                "e.g. 2026-11-25T10:00:00Z"
            )
        if self.kind == "error":
            if self.error_type is None:
                raise ValueError(
                    "an error record needs 'error_type', one of " + ", ".join(ERROR_CLASSES)
                )
            return self
        if self.error_type is not None or self.message is not None:
            raise ValueError("'error_type' and 'message' belong to records with kind 'error'")
        if self.cached_input_tokens + self.cache_write_tokens > self.input_tokens:
            raise ValueError(
                f"cached_input_tokens ({self.cached_input_tokens}) + cache_write_tokens "
                f"({self.cache_write_tokens}) exceed input_tokens ({self.input_tokens}); "
                "input_tokens must count every input token, the cached ones included"
            )
        if self.reasoning_tokens > self.output_tokens:
            raise ValueError(
                f"reasoning_tokens ({self.reasoning_tokens}) exceed output_tokens "
                f"({self.output_tokens}); output_tokens must include the reasoning tokens"
            )
        return self


class ImportProblem(BaseModel):
    """One line that could not be used: where, what was wrong, how to fix it."""

    model_config = ConfigDict(frozen=True)

    file: str
    line: int | None = Field(description="1-based line number; None for the file itself")
    problem: str
    fix: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.problem} ({self.fix})"


class ImportReport(BaseModel):
    """What one import read, stored, skipped and could not use."""

    model_config = ConfigDict(frozen=True)

    path: str
    format: ImportFormat
    files: list[str] = Field(description="the JSONL files read, in order")
    lines_read: int
    records_added: int = Field(description="new ledger rows (tokens, costs and errors)")
    added_by_kind: dict[str, int] = Field(description="new rows by usage-event kind")
    duplicates_skipped: int = Field(
        description="records the ledger already held (an earlier import or live report)"
    )
    records_updated: int = Field(
        0,
        description="records already held whose output count grew (a response that was "
        "still being written when the transcript was imported before)",
    )
    lines_merged: int = Field(
        description="lines repeating a response this import already counted (Claude Code "
        "writes one line per content block of a response; Codex repeats token_count events)"
    )
    problems: list[ImportProblem]
    problems_omitted: int = Field(0, description="problems beyond the first 100, not listed")
    duration_s: float

    @property
    def ok(self) -> bool:
        """True when every line could be used."""
        return not self.problems and not self.problems_omitted


class TokenCounts(BaseModel):
    """Token totals, OTel-shaped: ``input`` includes cache reads and writes, ``output``
    includes reasoning."""

    model_config = ConfigDict(frozen=True)

    reports: int = Field(description="token records counted (one per model response)")
    input: int
    cache_read: int
    cache_write: int
    uncached_input: int = Field(description="input - cache_read - cache_write")
    output: int
    reasoning: int = Field(description="part of output, where the provider reports it")
    total: int = Field(
        description="the RAMP paper's token count, used for AEI: input + output + reasoning + "
        "cache_read (prompt + completion + reasoning + cache reads, cache reads counted again)"
    )
    unique_total: int = Field(description="input + output: every token once")


class ModelUsage(BaseModel):
    model_config = ConfigDict(frozen=True)

    model: str = Field(description="the model as recorded; 'unknown' when none was")
    provider: str | None
    price_key: str | None = Field(description="the pricing entry that priced it, if any")
    tokens: TokenCounts
    cost_usd: float | None = Field(description="None when part of it could not be costed")
    cost_source: CostSource


class ToolStats(BaseModel):
    model_config = ConfigDict(frozen=True)

    count: int
    seconds: float
    errors: int


class ToolCalls(BaseModel):
    """The MCP tool calls of a run (usage events of kind ``tool_call``)."""

    model_config = ConfigDict(frozen=True)

    count: int
    seconds: float
    errors: int = Field(description="calls whose outcome was not 'ok'")
    per_tool: dict[str, ToolStats]


class RunUsage(BaseModel):
    """A run's tokens, cost and tool calls, counted exactly (imports already deduplicated)."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    tokens: TokenCounts
    cost_usd: float | None = Field(
        description="None when some usage has neither a reported cost nor a price"
    )
    cost_source: CostSource = Field(
        description="reported: every dollar was reported by the provider or agent; priced: "
        "every dollar comes from the pricing table; mixed: both; unknown: no total"
    )
    cost_reported_usd: float
    cost_priced_usd: float
    models: list[ModelUsage]
    unpriced_models: list[str]
    unpriced_reports: int
    pricing_version: str
    tool_calls: ToolCalls
    errors: dict[str, int] = Field(description="errors the agent's transcripts recorded, by class")
    sources: dict[str, int] = Field(description="token records by source")
