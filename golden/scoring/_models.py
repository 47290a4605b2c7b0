"""Models the scorers share: a case's score and a program run's outcome."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from toolchain._errors import RampError

__all__ = ["CaseScore", "GoldenArtifactError", "RunOutcome", "make_score", "shorten"]


class GoldenArtifactError(RampError):
    """A golden artifact handed to a scorer is malformed; regenerate it with clang 19."""


class CaseScore(BaseModel):
    """One case's score in [0, 100], the first mismatch in words, and the raw counts."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    score: float = Field(ge=0.0, le=100.0)
    diagnosis: str
    details: dict[str, float | int | str] = Field(default_factory=dict)


class RunOutcome(BaseModel):
    """What building and running the agent's program produced."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stdout: bytes = b""
    exit_code: int | None = None
    timed_out: bool = False
    build_ok: bool = True
    build_diagnostic: str = ""
    detail: str = ""


def make_score(value: float, diagnosis: str, details: dict[str, float | int | str]) -> CaseScore:
    """Clamp to [0, 100] and round to 4 decimals so repeated scoring is bit-identical."""
    clamped = min(100.0, max(0.0, float(value)))
    return CaseScore(score=round(clamped, 4), diagnosis=diagnosis, details=details)


def shorten(text: str, limit: int = 40) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis, for diagnoses."""
    return text if len(text) <= limit else text[: limit - 3] + "..."
