"""Grader fixtures: every ledger test runs on SQLite (a file) and on a real, throwaway
PostgreSQL (``postgres_server``, tests/postgres.py), in a database of its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.ledger import Ledger
from tests.postgres import drop_database, new_database
from tests.support import free_port

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture
def unused_port() -> int:
    """A localhost TCP port nothing listens on (at the time of asking)."""
    return free_port()


@pytest.fixture(params=BACKENDS)
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty ledger database, on the backend the test is parametrised with."""
    backend: str = request.param
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger' / 'ledger.sqlite3'}"
        return
    url = new_database(request.getfixturevalue("postgres_server"))
    yield url
    drop_database(url)


@pytest.fixture
def ledger(fresh_url: str) -> Iterator[Ledger]:
    with Ledger.open(fresh_url) as opened:
        yield opened
