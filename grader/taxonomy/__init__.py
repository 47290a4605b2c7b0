"""The failure taxonomy: why a run stopped where it did, and why each stage it did not pass
failed, in the RAMP paper's categories (context, planning, tooling and integration,
reasoning, infrastructure) and, where the evidence is clear, a precise failure (time-out,
budget exhausted, build failure, wrong output, crash, integrity violation, context length,
not attempted, infrastructure error).

Deterministic rules over ledger facts only (see docs/failure-taxonomy.md); every decision
carries its evidence, and infrastructure failures are never charged to the model.
"""

from __future__ import annotations

from grader.taxonomy._cases import CaseClass, case_class
from grader.taxonomy._diagnose import diagnose_run
from grader.taxonomy._models import (
    CATEGORIES,
    PRECISE,
    Category,
    Failure,
    Precise,
    RunDiagnosis,
)

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
