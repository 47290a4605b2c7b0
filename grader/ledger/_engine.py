"""Where the ledger lives and how RAMP connects to it.

Two databases are supported:

- SQLite (the default, ``<ramp_home>/ledger.sqlite3``): write-ahead logging so readers never
  wait for a writer, foreign keys enforced, a 30 s busy timeout, and every write transaction
  opened with ``BEGIN IMMEDIATE``, which takes the database's write lock at once, so
  concurrent writers queue instead of failing halfway through;
- PostgreSQL through psycopg 3 (``postgresql+psycopg://user@host:port/db``), for a ledger
  shared between machines: ordinary transactions, row locks where the ledger asks for them.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

from grader.ledger._errors import LedgerConfigError
from toolchain import ramp_home

__all__ = [
    "BUSY_TIMEOUT_S",
    "LEDGER_URL_ENV",
    "READ_ONLY_OPTION",
    "create_ledger_engine",
    "display_url",
    "ledger_url",
    "parse_ledger_url",
    "sqlite_path",
]

LEDGER_URL_ENV: Final = "RAMP_LEDGER_URL"
BUSY_TIMEOUT_S: Final = 30.0
# Execution option: a transaction that only reads (SQLite opens it with a deferred BEGIN).
READ_ONLY_OPTION: Final = "ramp_ledger_read_only"
_PG_CONNECT_TIMEOUT_S: Final = 10


def ledger_url() -> str:
    """``$RAMP_LEDGER_URL``, else ``sqlite:///<ramp_home()>/ledger.sqlite3``."""
    explicit = os.environ.get(LEDGER_URL_ENV, "").strip()
    if explicit:
        return explicit
    return f"sqlite:///{ramp_home() / 'ledger.sqlite3'}"


def display_url(url: URL) -> str:
    """The URL with any password masked, for messages."""
    return url.render_as_string(hide_password=True)


def parse_ledger_url(url: str) -> URL:
    """Parse and normalise a ledger URL; ``postgresql://`` means psycopg 3."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise LedgerConfigError(
            f"cannot parse the ledger URL {url!r}: {exc}; use sqlite:///ABSOLUTE/PATH or "
            f"postgresql+psycopg://USER@HOST:PORT/DATABASE (in ${LEDGER_URL_ENV})"
        ) from exc
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "postgres":
        backend = "postgresql"
    if backend == "postgresql" and driver in ("", "psycopg"):
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite" and driver in ("", "pysqlite"):
        return parsed.set(drivername="sqlite")
    raise LedgerConfigError(
        f"the ledger URL {display_url(parsed)} names the database driver "
        f"{parsed.drivername!r}, which RAMP does not support: use sqlite:///ABSOLUTE/PATH or "
        f"postgresql+psycopg://USER@HOST:PORT/DATABASE (in ${LEDGER_URL_ENV})"
    )


def _is_memory(url: URL) -> bool:
    return url.database in (None, "", ":memory:")


def sqlite_path(url: URL) -> Path | None:
    """The database file of a SQLite URL, or ``None`` for an in-memory database."""
    return None if _is_memory(url) else Path(str(url.database))


def create_ledger_engine(url: str | URL) -> Engine:
    """An engine for ``url`` set up as the module docstring says. Connects lazily."""
    parsed = parse_ledger_url(url) if isinstance(url, str) else url
    try:
        if parsed.get_backend_name() == "sqlite":
            return _sqlite_engine(parsed)
        return create_engine(
            parsed,
            pool_pre_ping=True,
            connect_args={"connect_timeout": _PG_CONNECT_TIMEOUT_S},
        )
    except (ArgumentError, NoSuchModuleError) as exc:
        raise LedgerConfigError(
            f"cannot make a database engine for the ledger URL {display_url(parsed)}: {exc}"
        ) from exc


def _enter_wal(cursor: sqlite3.Cursor) -> None:
    """Switch to write-ahead logging, waiting out other connections doing the same.

    The switch needs the database's exclusive lock. When two connections to a new file try it
    at once, SQLite answers one of them "database is locked" at once, without the busy
    handler, because waiting could deadlock; so the wait is ours, within the busy timeout.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _sqlite_engine(url: URL) -> Engine:
    if _is_memory(url):
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        engine = create_engine(url, connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        assert isinstance(dbapi_connection, sqlite3.Connection)
        # We issue BEGIN ourselves (see _on_begin); pysqlite's implicit one would be deferred.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            cursor.execute("PRAGMA foreign_keys = ON")
            _enter_wal(cursor)
            # In WAL mode NORMAL keeps every commit through a killed process (the crash a
            # harness meets); only an OS crash or power loss may drop the last commits, and
            # it saves an fsync on each of the many small usage writes.
            cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        read_only = bool(connection.get_execution_options().get(READ_ONLY_OPTION, False))
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine
