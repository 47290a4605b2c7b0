"""Bring a ledger's schema to this RAMP's revision with alembic, without an alembic.ini.

The migration scripts live next to this file (``migrations/``). Each upgrade runs in one
transaction that also serialises concurrent openers: on SQLite the transaction begins with
``BEGIN IMMEDIATE``, on PostgreSQL it takes a transaction-scoped advisory lock first, so two
processes opening an old ledger at once migrate it once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from grader.ledger._engine import display_url
from grader.ledger._errors import LedgerMigrationError

__all__ = [
    "MIGRATIONS_DIR",
    "alembic_config",
    "current_revision",
    "head_revision",
    "upgrade_to",
    "upgrade_to_head",
]

MIGRATIONS_DIR: Final = Path(__file__).resolve().parent / "migrations"
# An arbitrary constant: the PostgreSQL advisory lock that serialises ledger migrations.
_PG_MIGRATION_LOCK: Final = 0x52414D50


def alembic_config(connection: Connection | None = None) -> Config:
    """An alembic ``Config`` for the ledger's scripts, bound to ``connection`` if given."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest schema revision this RAMP knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise LedgerMigrationError(f"no migration scripts found in {MIGRATIONS_DIR}")
    return head


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at, ``None`` for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade_to(engine: Engine, revision: str) -> None:
    """Upgrade the database behind ``engine`` to ``revision`` (``"head"`` for the newest)."""
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
                )
            _check_known(connection)
            command.upgrade(alembic_config(connection), revision)
    except CommandError as exc:
        raise LedgerMigrationError(
            f"cannot migrate the ledger at {display_url(engine.url)} to {revision}: {exc}"
        ) from exc


def upgrade_to_head(engine: Engine) -> None:
    """Upgrade the database behind ``engine`` to the newest schema revision (idempotent)."""
    upgrade_to(engine, "head")


def _check_known(connection: Connection) -> None:
    at = MigrationContext.configure(connection).get_current_revision()
    if at is None:
        return
    script = ScriptDirectory.from_config(alembic_config())
    try:
        known = script.get_revision(at) is not None
    except CommandError:
        known = False
    if not known:
        raise LedgerMigrationError(
            f"the ledger at {display_url(connection.engine.url)} is at schema revision {at!r}, "
            f"which this RAMP does not know (its newest is {head_revision()!r}): it was written "
            "by a newer RAMP; upgrade RAMP, or point RAMP_LEDGER_URL at another ledger"
        )
