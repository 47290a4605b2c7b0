"""Score tables (CSV) for ``ramp-grade aei --table FILE.csv`` and the AEI table built from them.

The file needs a header row naming at least ``model,T0,T1,T2,T3,T4,T5,elapsed_s,cost_usd,
total_tokens`` (any order, case-insensitive, extra columns ignored). ``total_tokens`` accepts
thousands separators when the field is quoted (``"22,179,194"``). Every problem in the file is
reported at once, each with its line number and column, in one :class:`TableError`.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Final

from pydantic import BaseModel, ConfigDict, Field

from grader.metrics._aei import (
    REFERENCE_BUDGETS,
    AeiBreakdown,
    CohortMaxima,
    ReferenceBudgets,
    RunEfficiency,
    cohort_aei,
    cohort_maxima,
    stable_aei,
)
from grader.metrics._errors import TableError, TableProblem
from grader.metrics._rewards import (
    STAGE_COUNT,
    STAGE_NAMES,
    StageScores,
    mean_reward,
    pass_score,
    pipeline_score,
    tier,
)

__all__ = [
    "REQUIRED_COLUMNS",
    "AeiRow",
    "AeiTable",
    "TableRow",
    "aei_table",
    "parse_table",
    "read_table",
]

REQUIRED_COLUMNS: Final = ("model", *STAGE_NAMES, "elapsed_s", "cost_usd", "total_tokens")

_DECIMAL: Final = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_TOKENS: Final = re.compile(r"\d+|\d{1,3}(?:,\d{3})+")

Percent = Annotated[float, Field(ge=0.0, le=100.0, allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TableRow(_Frozen):
    """One validated line of a score table."""

    line: Annotated[int, Field(ge=1)]
    model: Annotated[str, Field(min_length=1)]
    scores: StageScores
    elapsed_s: NonNegative
    cost_usd: NonNegative
    total_tokens: Annotated[int, Field(ge=0, strict=True)]

    def efficiency(self) -> RunEfficiency:
        """The row as the AEI's input (tier and Mean Reward computed from the scores)."""
        return RunEfficiency.from_scores(
            self.scores,
            elapsed_s=self.elapsed_s,
            cost_usd=self.cost_usd,
            total_tokens=self.total_tokens,
        )


def parse_table(text: str, source: str = "<table>") -> tuple[TableRow, ...]:
    """Parse CSV ``text``; raises :class:`TableError` listing every problem found."""
    problems: list[TableProblem] = []
    rows: list[TableRow] = []
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), strict=True)
    columns: dict[str, int] | None = None
    try:
        for record in reader:
            line = reader.line_num
            if all(not cell.strip() for cell in record):
                continue
            if columns is None:
                columns = _header(record, line, problems)
                if columns is None:
                    break
                continue
            row = _row(record, line, columns, problems)
            if row is not None:
                rows.append(row)
    except csv.Error as exc:
        problems.append(
            TableProblem(line=reader.line_num or None, column=None, message=f"malformed CSV: {exc}")
        )
    if columns is None and not problems:
        problems.append(
            TableProblem(
                line=None, column=None, message="the file is empty; a header row is required"
            )
        )
    elif columns is not None and not rows and not problems:
        problems.append(
            TableProblem(line=None, column=None, message="no data rows after the header")
        )
    if problems:
        raise TableError(source, tuple(problems))
    return tuple(rows)


def read_table(path: Path) -> tuple[TableRow, ...]:
    """Read and parse a score table file; unreadable files raise :class:`TableError` too."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise TableError(
            str(path),
            (TableProblem(line=None, column=None, message=f"not UTF-8 text ({exc.reason})"),),
        ) from exc
    except OSError as exc:
        raise TableError(
            str(path),
            (
                TableProblem(
                    line=None, column=None, message=f"cannot read the file: {exc.strerror or exc}"
                ),
            ),
        ) from exc
    return parse_table(text, source=str(path))


def _header(record: list[str], line: int, problems: list[TableProblem]) -> dict[str, int] | None:
    found: dict[str, int] = {}
    ok = True
    wanted = {name.lower(): name for name in REQUIRED_COLUMNS}
    for index, cell in enumerate(record):
        name = wanted.get(cell.strip().lower())
        if name is None:
            continue
        if name in found:
            problems.append(
                TableProblem(line=line, column=name, message="the header names this column twice")
            )
            ok = False
        else:
            found[name] = index
    missing = [name for name in REQUIRED_COLUMNS if name not in found]
    if missing:
        problems.append(
            TableProblem(
                line=line,
                column=None,
                message=(
                    f"the header row lacks column{'s' if len(missing) > 1 else ''} "
                    f"{', '.join(missing)} (found: {', '.join(c.strip() for c in record)})"
                ),
            )
        )
        ok = False
    return found if ok else None


def _row(
    record: list[str], line: int, columns: dict[str, int], problems: list[TableProblem]
) -> TableRow | None:
    before = len(problems)

    def cell(name: str) -> str | None:
        index = columns[name]
        if index >= len(record):
            problems.append(
                TableProblem(
                    line=line,
                    column=name,
                    message=f"missing value (the row has {len(record)} fields)",
                )
            )
            return None
        value = record[index].strip()
        if not value:
            problems.append(TableProblem(line=line, column=name, message="empty value"))
            return None
        return value

    def number(name: str, upper: float | None) -> float:
        raw = cell(name)
        if raw is None:
            return 0.0
        if not _DECIMAL.fullmatch(raw):
            problems.append(
                TableProblem(line=line, column=name, message=f"{raw!r} is not a number")
            )
            return 0.0
        value = float(raw)
        if not math.isfinite(value):
            problems.append(TableProblem(line=line, column=name, message=f"{raw!r} is too large"))
        elif value < 0.0 or (upper is not None and value > upper):
            bounds = "within [0, 100]" if upper is not None else "at least 0"
            problems.append(
                TableProblem(line=line, column=name, message=f"{raw!r} must be {bounds}")
            )
        return value

    model = cell("model") or ""
    scores = tuple(number(name, 100.0) for name in STAGE_NAMES)
    elapsed_s = number("elapsed_s", None)
    cost_usd = number("cost_usd", None)
    tokens_raw = cell("total_tokens")
    total_tokens = 0
    if tokens_raw is not None:
        if _TOKENS.fullmatch(tokens_raw):
            total_tokens = int(tokens_raw.replace(",", ""))
        else:
            problems.append(
                TableProblem(
                    line=line,
                    column="total_tokens",
                    message=(
                        f"{tokens_raw!r} is not a whole number of tokens "
                        '(digits, optionally grouped like "22,179,194" in quotes)'
                    ),
                )
            )
    if len(problems) > before:
        return None
    return TableRow(
        line=line,
        model=model,
        scores=StageScores(scores=scores),
        elapsed_s=elapsed_s,
        cost_usd=cost_usd,
        total_tokens=total_tokens,
    )


class AeiRow(_Frozen):
    """One model's figures in an AEI table, at full precision (see :meth:`rounded`)."""

    model: str
    tier: Annotated[int, Field(ge=-1, le=STAGE_COUNT - 1)]
    mean_reward: Percent
    pipeline_score: Percent
    pass_score: Percent
    aei: Percent
    stable_aei: Percent
    cohort: AeiBreakdown
    stable: AeiBreakdown

    def rounded(self, digits: int = 2) -> AeiRow:
        """A copy with every figure rounded for presentation."""
        return AeiRow(
            model=self.model,
            tier=self.tier,
            mean_reward=round(self.mean_reward, digits),
            pipeline_score=round(self.pipeline_score, digits),
            pass_score=round(self.pass_score, digits),
            aei=round(self.aei, digits),
            stable_aei=round(self.stable_aei, digits),
            cohort=self.cohort.rounded(digits),
            stable=self.stable.rounded(digits),
        )

    def summary(self, digits: int = 2) -> dict[str, str | int | float]:
        """The seven headline figures, rounded: what ``ramp-grade aei --json`` prints per row."""
        shown = self.rounded(digits)
        return {
            "model": shown.model,
            "tier": shown.tier,
            "mean_reward": shown.mean_reward,
            "pipeline_score": shown.pipeline_score,
            "pass_score": shown.pass_score,
            "aei": shown.aei,
            "stable_aei": shown.stable_aei,
        }


class AeiTable(_Frozen):
    """Every row's rewards, cohort AEI (over the table's own rows) and stable AEI."""

    rows: tuple[AeiRow, ...]
    maxima: CohortMaxima
    budgets: ReferenceBudgets

    def rounded(self, digits: int = 2) -> AeiTable:
        """A copy with every row's figures rounded for presentation."""
        return self.model_copy(update={"rows": tuple(row.rounded(digits) for row in self.rows)})

    def summary(self, digits: int = 2) -> dict[str, list[dict[str, str | int | float]]]:
        """``{"rows": [{model, tier, mean_reward, pipeline_score, pass_score, aei, stable_aei}]}``."""
        return {"rows": [row.summary(digits) for row in self.rows]}


def aei_table(rows: Sequence[TableRow], budgets: ReferenceBudgets = REFERENCE_BUDGETS) -> AeiTable:
    """Compute every figure of every row; the cohort AEI is taken over ``rows`` themselves.

    Raises :class:`~grader.metrics.MetricsError` when ``rows`` is empty.
    """
    runs = [row.efficiency() for row in rows]
    maxima = cohort_maxima(runs)
    cohort = cohort_aei(runs, maxima)
    built = tuple(
        AeiRow(
            model=row.model,
            tier=tier(row.scores),
            mean_reward=mean_reward(row.scores),
            pipeline_score=pipeline_score(row.scores),
            pass_score=pass_score(row.scores),
            aei=relative.aei,
            stable_aei=fixed.aei,
            cohort=relative,
            stable=fixed,
        )
        for row, relative, fixed in zip(
            rows, cohort, (stable_aei(run, budgets) for run in runs), strict=True
        )
    )
    return AeiTable(rows=built, maxima=maxima, budgets=budgets)
