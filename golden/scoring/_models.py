"""Models the scorers share: a case's score and a program run's outcome."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from toolchain import RampError

__all__ = [
    "CaseCategory",
    "CaseScore",
    "GoldenArtifactError",
    "RunOutcome",
    "make_score",
    "shorten",
]


class CaseCategory(StrEnum):
    """What kind of result a case had, as the grader determined it: the one thing an agent
    is told about a hidden case besides the counts (its values are the words it sees).

    Set by the code that decides the result (a scorer, the grader's chain), never read out
    of a diagnosis: a diagnosis may quote the agent's own output, which must not steer it.
    """

    FULL_MARKS = "full marks"
    PARTIAL_CREDIT = "partial credit"
    NO_CREDIT = "no credit"
    TIMED_OUT = "timed out"
    NO_OUTPUT = "no output file"
    PROGRAM_FAILED = "stage program failed"
    NO_INPUT = "no input (the upstream output was not accepted)"
    BUILD_FAILED = "output did not build"
    WRONG_STDOUT = "wrong stdout"
    CRASHED = "crashed"
    WRONG_EXIT_CODE = "wrong exit code"
    NOT_MEASURED = "could not be measured"
    WRONG_TIMER_CALLS = "wrong timer calls"
    WRONG_TOKEN_COUNT = "wrong token count"
    NOT_GRADED = "not graded"


class GoldenArtifactError(RampError):
    """A golden artifact handed to a scorer is malformed; regenerate it with clang 19."""


class CaseScore(BaseModel):
    """One case's score in [0, 100], the first mismatch in words, and the raw counts."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    score: float = Field(ge=0.0, le=100.0)
    diagnosis: str
    details: dict[str, float | int | str] = Field(default_factory=dict)
    category: CaseCategory = CaseCategory.NO_CREDIT


class RunOutcome(BaseModel):
    """What building and running the agent's program produced."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stdout: bytes = b""
    exit_code: int | None = None
    timed_out: bool = False
    build_ok: bool = True
    build_diagnostic: str = ""
    detail: str = ""


def make_score(
    value: float,
    diagnosis: str,
    details: dict[str, float | int | str],
    category: CaseCategory | None = None,
) -> CaseScore:
    """Clamp to [0, 100] and round to 4 decimals so repeated scoring is bit-identical.

    ``category``: what went wrong, as the scorer knows it; without one a case is full
    marks, partial credit or no credit by its score alone (so is any case at 100)."""
    clamped = round(min(100.0, max(0.0, float(value))), 4)
    if clamped >= 100.0:
        category = CaseCategory.FULL_MARKS
    elif category is None:
        category = CaseCategory.PARTIAL_CREDIT if clamped > 0 else CaseCategory.NO_CREDIT
    return CaseScore(score=clamped, diagnosis=diagnosis, details=details, category=category)


def shorten(text: str, limit: int = 40) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis, for diagnoses."""
    return text if len(text) <= limit else text[: limit - 3] + "..."
