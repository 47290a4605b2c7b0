"""The epoch's boundaries: its manifest on disk and what ``ramp golden epoch`` prints.

An epoch is a hidden case set made by the generator from one seed (golden.generator) and
fixed by differential execution (golden._expected) and the reference pipeline
(golden._builder). ``0`` is the built-in corpus, which is not generated.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from golden._corpus import CaseKind
from golden._reference import Stage
from toolchain import RampError

__all__ = [
    "BUILTIN_EPOCH",
    "EpochCase",
    "EpochCaseRecord",
    "EpochError",
    "EpochManifest",
    "EpochSummary",
    "EpochVerdict",
    "EpochView",
    "Rejection",
]

BUILTIN_EPOCH = "0"


class EpochError(RampError):
    """An epoch is missing, malformed, or could not be made or verified."""


class Rejection(BaseModel):
    """A generated candidate that was not kept, and why (a generator or pipeline bug)."""

    name: str
    reason: str


class EpochCaseRecord(BaseModel):
    """One case in ``manifest.json``: what its files and golden artifacts must hash to."""

    model_config = ConfigDict(extra="forbid")

    name: str
    kind: CaseKind
    features: list[str]
    source_sha256: str
    input_sha256: str | None
    expected_stdout_sha256: str
    expected_exit_code: int
    golden: dict[Stage, str]


class EpochManifest(BaseModel):
    """``manifest.json`` of an epoch: enough to check every byte of it again."""

    model_config = ConfigDict(extra="forbid")

    epoch: str
    seed: int
    generator_version: int
    functional: int
    performance: int
    golden_key: str
    cases: list[EpochCaseRecord]
    rejected: list[Rejection] = []


class EpochCase(BaseModel):
    """One case as ``ramp golden epoch ... --json`` shows it; paths are absolute."""

    name: str
    kind: CaseKind
    source: Path
    input: Path | None
    expected_stdout: Path
    expected_exit_code: int
    features: list[str] = []


class EpochView(BaseModel):
    """An epoch as ``new`` and ``show`` print it."""

    epoch: str
    seed: int | None = Field(description="None for the built-in corpus (epoch 0)")
    generator_version: int | None
    dir: Path
    current: bool = False
    cases: list[EpochCase]
    coverage: dict[str, float] = Field(
        default={}, description="feature -> share of the epoch's programs that use it"
    )
    rejected: list[Rejection] = []
    seconds: float | None = Field(default=None, description="how long `new` took")


class EpochSummary(BaseModel):
    """One row of ``ramp golden epoch list``."""

    epoch: str
    seed: int | None
    generator_version: int | None
    functional: int
    performance: int
    dir: Path
    current: bool


class EpochVerdict(BaseModel):
    """What ``ramp golden epoch verify`` found: nothing, or every problem by case."""

    epoch: str
    ok: bool
    checked: int
    problems: list[str]
