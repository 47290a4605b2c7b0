"""Errors raised by the reward metrics; all derive from :class:`toolchain._errors.RampError`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from toolchain import RampError

__all__ = ["MetricsError", "ScoresError", "TableError", "TableProblem"]


class MetricsError(RampError):
    """A metric was asked for with inputs it cannot be computed from."""


class ScoresError(MetricsError):
    """Stage scores were not six finite numbers in [0, 100]."""


class TableProblem(BaseModel):
    """One thing wrong with one line (and, when known, one column) of a score table."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    line: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = "table" if self.line is None else f"line {self.line}"
        if self.column is not None:
            where += f", column {self.column}"
        return f"{where}: {self.message}"


class TableError(MetricsError):
    """A score table could not be read; ``problems`` lists every problem found, not just the first."""

    def __init__(self, source: str, problems: tuple[TableProblem, ...]) -> None:
        self.source = source
        self.problems = problems
        count = len(problems)
        lines = "\n".join(f"  {problem}" for problem in problems)
        super().__init__(
            f"{source}: {count} problem{'s' if count != 1 else ''} in the score table "
            f"(expected a header row with model,T0,T1,T2,T3,T4,T5,elapsed_s,cost_usd,total_tokens):\n"
            f"{lines}"
        )
