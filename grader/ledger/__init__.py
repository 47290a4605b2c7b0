"""The grader's ledger: runs, stage states, submissions, case results, resurrections, usage
and integrity findings, in SQLite (default) or PostgreSQL, migrated with alembic.

The ledger stores and locks; the grader's stage machine decides.
"""

from __future__ import annotations

from grader.ledger._engine import (
    LEDGER_URL_ENV,
    create_ledger_engine,
    ledger_url,
    parse_ledger_url,
)
from grader.ledger._errors import (
    LedgerBusyError,
    LedgerConfigError,
    LedgerError,
    LedgerIntegrityError,
    LedgerMigrationError,
    LedgerUnavailableError,
    RunNotFoundError,
)
from grader.ledger._ledger import Ledger, LockedRun
from grader.ledger._migrate import current_revision, head_revision, upgrade_to, upgrade_to_head
from grader.ledger._tables import (
    CASE_MODES,
    COST_SOURCES,
    STAGES,
    USAGE_KINDS,
    CaseMode,
    CaseResult,
    CostSource,
    IntegrityFinding,
    ResurrectionEvent,
    Run,
    RunStatus,
    StageName,
    StageOutput,
    StageState,
    StageStateName,
    Submission,
    SubmissionStatus,
    UsageEvent,
    UsageKind,
    new_run_id,
    utc_now,
)

__all__ = [
    "CASE_MODES",
    "COST_SOURCES",
    "LEDGER_URL_ENV",
    "STAGES",
    "USAGE_KINDS",
    "CaseMode",
    "CaseResult",
    "CostSource",
    "IntegrityFinding",
    "Ledger",
    "LedgerBusyError",
    "LedgerConfigError",
    "LedgerError",
    "LedgerIntegrityError",
    "LedgerMigrationError",
    "LedgerUnavailableError",
    "LockedRun",
    "ResurrectionEvent",
    "Run",
    "RunNotFoundError",
    "RunStatus",
    "StageName",
    "StageOutput",
    "StageState",
    "StageStateName",
    "Submission",
    "SubmissionStatus",
    "UsageEvent",
    "UsageKind",
    "create_ledger_engine",
    "current_revision",
    "head_revision",
    "ledger_url",
    "new_run_id",
    "parse_ledger_url",
    "upgrade_to",
    "upgrade_to_head",
    "utc_now",
]
