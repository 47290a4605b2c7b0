"""RAMP's generic usage format (docs/usage-format.md): one :class:`UsageRecord` as a JSON
object per line, written by any harness; and the live path, one record at a time.

A record's dedup key is its ``id``; without one, a hash of its content, so the same line
imported twice counts once. The live path and the file share keys: a harness may report a
call live and write it to a file too, and it is counted once.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from pydantic import ValidationError

from grader.ledger import Ledger
from grader.usage._models import ImportReport, UsageRecord
from grader.usage._store import ImportSession, import_files, insert_rows, read_jsonl, row_of

__all__ = [
    "FILE_SOURCE",
    "LIVE_SOURCE",
    "import_jsonl",
    "record_fields",
    "record_key",
    "report_usage",
]

FILE_SOURCE: Final = "jsonl"
LIVE_SOURCE: Final = "self_report"
_FIX: Final = "see docs/usage-format.md for the fields of a usage line and an example"


def record_key(record: UsageRecord) -> str:
    """``record:<id>``, or ``record:sha256-...`` of its content when it has no id."""
    if record.id is not None:
        return f"record:{record.id}"
    content = record.model_dump(mode="json", exclude={"attributes", "id"})
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return "record:sha256-" + hashlib.sha256(canonical.encode()).hexdigest()[:32]


def record_fields(record: UsageRecord) -> dict[str, Any]:
    """The ledger columns of ``record`` (besides run, kind, source, time and key)."""
    common: dict[str, Any] = {
        "provider": record.provider,
        "request_model": record.model,
        "conversation_id": record.conversation_id,
    }
    if record.kind == "error":
        return common | {"outcome": record.error_type, "detail": record.message}
    return common | {
        "input_tokens": record.input_tokens,
        "cache_read_input_tokens": record.cached_input_tokens,
        "cache_creation_input_tokens": record.cache_write_tokens,
        "output_tokens": record.output_tokens,
        "reasoning_output_tokens": record.reasoning_tokens,
        "cost_usd": record.cost_usd,
        "cost_source": None if record.cost_usd is None else "reported",
    }


def import_jsonl(ledger: Ledger, run_id: str, path: Path) -> ImportReport:
    """Import a file in the generic usage format, or every ``*.jsonl`` under a directory."""
    return import_files(ledger, run_id, path, "jsonl", _import_file)


def _import_file(session: ImportSession, file: Path) -> None:
    for number, line in read_jsonl(file, session):
        try:
            record = UsageRecord.model_validate(line)
        except ValidationError as exc:
            session.problem(file, number, _explain(exc), _FIX)
            continue
        if record.at is None:
            session.problem(
                file,
                number,
                "no 'at': a line in a file must say when the call ended",
                'add e.g. "at": "2026-11-25T10:00:00Z"',
            )
            continue
        session.add(
            record.kind,
            FILE_SOURCE,
            record.at.astimezone(UTC),
            record_key(record),
            **record_fields(record),
        )


def report_usage(ledger: Ledger, run_id: str, record: UsageRecord) -> bool:
    """Store one record for run ``run_id`` now (the live path); False if its ``id`` (or, with
    no id, the same content) was stored before. Without ``at`` the record is stamped now."""
    ledger.get_run(run_id)
    at = record.at.astimezone(UTC) if record.at is not None else datetime.now(UTC)
    stamped = record.model_copy(update={"at": at})
    row = row_of(run_id, record.kind, LIVE_SOURCE, at, record_key(stamped), record_fields(stamped))
    return bool(insert_rows(ledger, [row]))


def _explain(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "line"
        message = error["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}")
    return "; ".join(parts)
