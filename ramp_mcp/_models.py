"""Results of the MCP tools that are not plain workspace results (those come from toolchain)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from golden import Stage
from toolchain.sandbox import Outcome

__all__ = [
    "BuildResult",
    "CommandResult",
    "Rv64Result",
    "StageRunResult",
    "SubmitResult",
]


class CommandResult(BaseModel):
    """What a shell command did in the development sandbox."""

    outcome: Outcome = Field(
        description="ok, nonzero, timeout, out-of-memory, output-limit, killed"
    )
    exit_code: int | None
    stdout: str
    stderr: str
    truncated: bool = Field(description="True when stdout or stderr was cut to fit the reply")
    duration_s: float
    detail: str = Field(default="", description="why the outcome is what it is")


class BuildResult(BaseModel):
    """``./build.sh`` in the development sandbox, as grading runs it."""

    ok: bool
    outcome: Outcome
    exit_code: int | None
    diagnostics: list[str] = Field(
        description="at most 20 lines: those mentioning 'error' first, then warnings"
    )
    log_tail: str = Field(description="the last 60 lines of stdout and stderr")
    duration_s: float
    detail: str = Field(default="", description="why the outcome is what it is (e.g. a full disk)")


class StageRunResult(BaseModel):
    """One run of ``bin/tN`` exactly as grading runs it, scored on a public case."""

    stage: Stage
    case: str | None = Field(description="the public case, or None for your own input_text")
    ok: bool = Field(description="the program ran and wrote its output file")
    score: float | None = Field(description="0..100 against the reference; None for input_text")
    diagnosis: str
    output_head: str = Field(description="the first lines of what the program wrote")
    output_bytes: int
    duration_s: float


class Rv64Result(BaseModel):
    """An RV64 program assembled, linked with the SysY runtime and run on qemu-riscv64."""

    built: bool
    build_diagnostics: str
    outcome: Outcome | None
    exit_code: int | None
    stdout: str
    stderr: str
    truncated: bool
    duration_s: float


class SubmitResult(BaseModel):
    """A graded submission: scores and counts by category, never a hidden case."""

    stage: Stage
    attempt: int
    score: float = Field(
        description="chained score, a whole number 0..100 (rounded down); 60 passes"
    )
    isolated_score: float
    passed: bool
    resurrected: bool
    resurrection_notice: str | None
    reference_dir: str | None = Field(
        description="where the resurrected stage's public reference outputs are "
        "(/ramp/reference/T<k>, read-only)"
    )
    attempts_left: int
    next_open: Stage | None
    feedback: list[str]
    integrity_findings: list[str] = Field(
        description="each finding's category and the stage it concerns, in fixed words (the "
        "evidence is in the run's report); any finding scores the submitted stage 0"
    )
