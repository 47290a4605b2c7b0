"""A run's diagnosis: its hard stop and why each stage it did not pass failed."""

from __future__ import annotations

from grader.ledger import STAGES, Ledger
from grader.taxonomy._evidence import gather
from grader.taxonomy._models import RunDiagnosis
from grader.taxonomy._rules import hard_stop, stage_failure


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
