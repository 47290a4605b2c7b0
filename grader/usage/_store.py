"""Storing imported usage: JSONL files read line by line, rows inserted in batches,
duplicates skipped by (run, dedup key), problems collected with their line numbers.

Memory stays flat in the size of the file: a line is parsed, turned into at most a few rows
and dropped; rows go to the ledger a batch at a time. What is kept per import is the set of
dedup keys already seen (tens of bytes per model response).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col

from grader.ledger import Ledger, UsageEvent
from grader.usage._errors import UsageInputError
from grader.usage._models import ImportFormat, ImportProblem, ImportReport

__all__ = [
    "EVENT_COLUMNS",
    "ImportSession",
    "file_time",
    "import_files",
    "insert_rows",
    "jsonl_files",
    "parse_time",
    "read_jsonl",
    "row_of",
]

BATCH_ROWS: Final = 2000
MAX_PROBLEMS: Final = 100
EVENT_COLUMNS: Final = tuple(name for name in UsageEvent.model_fields if name != "id")
_FIX_JSON: Final = (
    "each line must be one complete JSON object; a line cut short at the end of a file "
    "usually means it was still being written: import it again later (nothing already "
    "imported is counted twice)"
)


def jsonl_files(path: Path) -> list[Path]:
    """``path`` itself, or every ``*.jsonl`` under the directory ``path``, sorted."""
    if path.is_file():
        return [path]
    if path.is_dir():
        found = sorted(p for p in path.rglob("*.jsonl") if p.is_file())
        if not found:
            raise UsageInputError(
                f"no *.jsonl file under {path}; give a transcript file or the directory "
                "that holds the transcripts"
            )
        return found
    raise UsageInputError(f"{path} does not exist; give a JSONL file or a directory of them")


def read_jsonl(file: Path, session: ImportSession) -> Iterator[tuple[int, dict[str, Any]]]:
    """The JSON objects of ``file`` with their 1-based line numbers; a line that is not a JSON
    object becomes a problem of ``session`` and is skipped."""
    try:
        handle = file.open("rb")
    except OSError as exc:
        session.problem(file, None, f"cannot open the file: {exc}", "check its permissions")
        return
    with handle:
        for number, raw in enumerate(handle, start=1):
            session.lines_read += 1
            if not raw.strip():
                continue
            try:
                value = json.loads(raw.decode("utf-8"))
            except ValueError as exc:  # UnicodeDecodeError is one too
                session.problem(file, number, f"not valid JSON ({_short(exc)})", _FIX_JSON)
                continue
            if not isinstance(value, dict):
                session.problem(
                    file, number, f"a JSON {type(value).__name__}, not an object", _FIX_JSON
                )
                continue
            yield number, value


def parse_time(value: object) -> datetime | None:
    """An ISO-8601 timestamp as an aware UTC datetime; None if absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.astimezone(UTC)


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) <= 160 else text[:157] + "..."


def row_of(
    run_id: str, kind: str, source: str, at: datetime, key: str, fields: dict[str, Any]
) -> dict[str, Any]:
    """A complete usage-event row (every column but the id) for a core INSERT."""
    row: dict[str, Any] = dict.fromkeys(EVENT_COLUMNS)
    row.update(fields, run_id=run_id, kind=kind, source=source, at=at, dedup_key=key)
    return row


def insert_rows(ledger: Ledger, rows: list[dict[str, Any]], connection: Any = None) -> set[str]:
    """Insert ``rows``, skipping keys the run already holds; the keys actually inserted."""
    if connection is None:
        with ledger.session() as session:
            return insert_rows(ledger, rows, session.connection())
    insert = sqlite_insert if ledger.dialect == "sqlite" else pg_insert
    statement = (
        insert(UsageEvent)
        .on_conflict_do_nothing(index_elements=["run_id", "dedup_key"])
        .returning(col(UsageEvent.dedup_key))
    )
    return {key for (key,) in connection.execute(statement, rows)}


# Fields a later line of the same response may carry larger (Claude Code writes a response
# as it streams: the last line has the final output count).
_GROWING: Final = ("output_tokens", "cost_usd")


class ImportSession:
    """One import into one run: batches rows, skips duplicates, collects problems."""

    def __init__(self, ledger: Ledger, run_id: str, path: Path, fmt: ImportFormat) -> None:
        ledger.get_run(run_id)  # RunNotFoundError before anything is read
        self.ledger = ledger
        self.run_id = run_id
        self.path = path
        self.format: ImportFormat = fmt
        self.lines_read = 0
        self.lines_merged = 0
        self._started = time.monotonic()
        self._files: list[str] = []
        self._problems: list[ImportProblem] = []
        self._omitted = 0
        self._seen: dict[str, bool] = {}  # key -> whether its row grows
        self._pending: dict[str, dict[str, Any]] = {}
        # Keys already flushed whose growing fields grew since: key -> those fields.
        self._grown: dict[str, dict[str, Any]] = {}
        self._added: dict[str, int] = {}
        self._duplicates = 0
        self._updated = 0

    # -- input ------------------------------------------------------------------------------

    def begin_file(self, file: Path) -> None:
        self._files.append(str(file))

    def problem(self, file: Path, line: int | None, problem: str, fix: str) -> None:
        if len(self._problems) >= MAX_PROBLEMS:
            self._omitted += 1
            return
        self._problems.append(ImportProblem(file=str(file), line=line, problem=problem, fix=fix))

    def add(
        self, kind: str, source: str, at: datetime, key: str, *, grows: bool = False, **fields: Any
    ) -> None:
        """Queue one row under dedup ``key`` (unique per run). A key this import already
        queued counts as a merged line; with ``grows`` (a response written as it streams) its
        output tokens and cost keep the larger value, here and in the ledger."""
        if key in self._seen:
            self.lines_merged += 1
            if not self._seen[key]:
                return
            row = self._pending.get(key)
            target = row if row is not None else self._grown.setdefault(key, {})
            for name in _GROWING:
                new = fields.get(name)
                if new is not None and (target.get(name) is None or new > target[name]):
                    target[name] = new
            return
        self._seen[key] = grows
        self._pending[key] = row_of(self.run_id, kind, source, at, key, fields)
        if len(self._pending) >= BATCH_ROWS:
            self.flush()

    # -- output -----------------------------------------------------------------------------

    def flush(self) -> None:
        rows, self._pending = list(self._pending.values()), {}
        grown, self._grown = self._grown, {}
        if not rows and not grown:
            return
        kinds = {row["dedup_key"]: row["kind"] for row in rows}
        with self.ledger.session() as session:
            connection = session.connection()
            added: set[str] = set()
            if rows:
                added = insert_rows(self.ledger, rows, connection)
                for key in added:
                    self._added[kinds[key]] = self._added.get(kinds[key], 0) + 1
                self._duplicates += len(rows) - len(added)
            # A response stored by an earlier import (or batch) may have grown since: a
            # transcript imported while the agent was still writing it.
            candidates = {
                row["dedup_key"]: {name: row[name] for name in _GROWING}
                for row in rows
                if row["dedup_key"] not in added and self._seen.get(row["dedup_key"], False)
            }
            for key, values in grown.items():
                merged = candidates.setdefault(key, {})
                for name, value in values.items():
                    if merged.get(name) is None or value > merged[name]:
                        merged[name] = value
            if candidates:
                self._updated += self._grow(connection, candidates)

    def _grow(self, connection: Any, candidates: dict[str, dict[str, Any]]) -> int:
        stored = connection.execute(
            select(col(UsageEvent.dedup_key), *(getattr(UsageEvent, n) for n in _GROWING)).where(
                col(UsageEvent.run_id) == self.run_id,
                col(UsageEvent.dedup_key).in_(list(candidates)),
            )
        ).all()
        updated = 0
        for key, *old in stored:
            changes = {
                name: new
                for name, before in zip(_GROWING, old, strict=True)
                if (new := candidates[key].get(name)) is not None
                and (before is None or new > before)
            }
            if changes:
                connection.execute(
                    update(UsageEvent)
                    .where(
                        col(UsageEvent.run_id) == self.run_id,
                        col(UsageEvent.dedup_key) == key,
                    )
                    .values(**changes)
                )
                updated += 1
        return updated

    def report(self) -> ImportReport:
        self.flush()
        return ImportReport(
            path=str(self.path),
            format=self.format,
            files=self._files,
            lines_read=self.lines_read,
            records_added=sum(self._added.values()),
            added_by_kind=dict(sorted(self._added.items())),
            duplicates_skipped=self._duplicates,
            records_updated=self._updated,
            lines_merged=self.lines_merged,
            problems=self._problems,
            problems_omitted=self._omitted,
            duration_s=round(time.monotonic() - self._started, 3),
        )


def import_files(
    ledger: Ledger,
    run_id: str,
    path: Path,
    fmt: ImportFormat,
    import_file: Callable[[ImportSession, Path], None],
) -> ImportReport:
    """Import ``path``, or every ``*.jsonl`` under the directory ``path``, one file at a time
    through ``import_file``, into run ``run_id``."""
    session = ImportSession(ledger, run_id, path, fmt)
    for file in jsonl_files(path):
        session.begin_file(file)
        import_file(session, file)
    return session.report()


def file_time(file: Path) -> datetime:
    """When ``file`` was last written (now if that cannot be read): the time of lines that
    carry none."""
    try:
        return datetime.fromtimestamp(file.stat().st_mtime, UTC)
    except OSError:
        return datetime.now(UTC)
