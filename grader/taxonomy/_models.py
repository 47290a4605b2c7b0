"""The failure taxonomy's vocabulary and results."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from grader.ledger import StageName

__all__ = ["CATEGORIES", "PRECISE", "Category", "Failure", "Precise", "RunDiagnosis"]

Category = Literal["context", "planning", "tooling_integration", "reasoning", "infrastructure"]
Precise = Literal[
    "timeout",
    "budget_exhausted",
    "build_failure",
    "wrong_output",
    "crash",
    "integrity_violation",
    "context_length",
    "not_attempted",
    "infrastructure_error",
]
CATEGORIES: tuple[Category, ...] = get_args(Category)
PRECISE: tuple[Precise, ...] = get_args(Precise)


class Failure(BaseModel):
    """Why a run stopped, or why one stage failed, with the evidence that says so."""

    model_config = ConfigDict(frozen=True)

    stage: StageName | None
    category: Category = Field(description="the RAMP paper's failure category")
    precise: Precise | None = Field(description="the precise failure, where the evidence is clear")
    rule: str = Field(description="the rule of docs/failure-taxonomy.md that decided, e.g. H3")
    evidence: list[str] = Field(description="the ledger facts behind the decision")
    charged_to_model: bool = Field(description="False for infrastructure: never the model's")


class RunDiagnosis(BaseModel):
    """A run's hard stop (None when it graded every stage) and one failure per stage that was
    not passed (failed, resurrected, never submitted or never reached)."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    run_status: str
    provisional: bool = Field(description="the run is not finished: the agent may still be working")
    hard_stop: Failure | None
    stages: list[Failure]
