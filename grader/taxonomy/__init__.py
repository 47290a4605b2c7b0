"""The failure taxonomy: why a run stopped where it did, and why each stage it did not pass
failed, in the RAMP paper's categories (context, planning, tooling and integration,
reasoning, infrastructure) and, where the evidence is clear, a precise failure (time-out,
budget exhausted, build failure, wrong output, crash, integrity violation, context length,
not attempted, infrastructure error).

Deterministic rules over ledger facts only (see docs/failure-taxonomy.md); every decision
carries its evidence, and infrastructure failures are never charged to the model.
"""

from __future__ import annotations

from grader.ledger import STAGES, Ledger
from grader.taxonomy._cases import CaseClass, case_class
from grader.taxonomy._evidence import gather
from grader.taxonomy._models import (
    CATEGORIES,
    PRECISE,
    Category,
    Failure,
    Precise,
    RunDiagnosis,
)
from grader.taxonomy._rules import hard_stop, stage_failure

__all__ = [
    "CATEGORIES",
    "PRECISE",
    "CaseClass",
    "Category",
    "Failure",
    "Precise",
    "RunDiagnosis",
    "case_class",
    "diagnose_run",
]


def diagnose_run(ledger: Ledger, run_id: str) -> RunDiagnosis:
    """The hard stop and the per-stage failures of run ``run_id`` (RunNotFoundError if none)."""
    evidence = gather(ledger, run_id)
    stop = hard_stop(evidence)
    stages = [
        failure for stage in STAGES if (failure := stage_failure(evidence, stage, stop)) is not None
    ]
    return RunDiagnosis(
        run_id=run_id,
        run_status=evidence.run.status,
        provisional=evidence.run.status in ("created", "running"),
        hard_stop=stop,
        stages=stages,
    )
