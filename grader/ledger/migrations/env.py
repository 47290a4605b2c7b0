"""Alembic environment of the ledger: online only, on the connection the ledger hands in.

``grader.ledger._migrate`` opens the transaction (and takes the migration lock), puts the
connection in ``config.attributes["connection"]`` and runs alembic's command; nothing here
reads an ``alembic.ini``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from grader.ledger._errors import LedgerMigrationError
from grader.ledger._tables import METADATA

__all__: list[str] = []


def _run_online() -> None:
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise LedgerMigrationError(
            "the ledger's migrations run only through grader.ledger.upgrade_to_head(engine) "
            "(or Ledger.open), which hands alembic a connection; offline SQL generation is "
            "not supported"
        )
    context.configure(connection=connection, target_metadata=METADATA)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise LedgerMigrationError(
        "offline (--sql) migrations of the ledger are not supported: open the ledger with "
        "grader.ledger.Ledger.open(url) to migrate it"
    )
_run_online()
