"""A throwaway PostgreSQL for the tests that need a real one (the ledger's backends, a
campaign's shared ledger).

The cluster is made once per session with the Debian binaries (``/usr/lib/postgresql/<ver>/bin``):
``initdb --auth=trust`` in a temporary directory owned by the ``postgres`` user (initdb refuses
to run as root), started with ``pg_ctl`` on a free localhost port with its socket in that
directory, stopped and deleted at the end. :func:`new_database` gives a test a database of
its own in it.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.support import free_port

__all__ = ["drop_database", "new_database", "postgres_server"]


def _pg_bindir() -> Path | None:
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return candidates[-1].parent if candidates else None


def _as_postgres(argv: list[str]) -> list[str]:
    """Run as the postgres user when we are root (initdb and postgres refuse root)."""
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "postgres", "--", *argv]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A running throwaway PostgreSQL cluster; yields the URL of its ``ramp_test`` database."""
    bindir = _pg_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin")
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no postgres user to run initdb as")
    base = Path(tempfile.mkdtemp(prefix="ramp-test-pg-", dir="/tmp"))
    if os.geteuid() == 0:
        os.chown(base, owner.pw_uid, owner.pw_gid)
    data, log, port = base / "data", base / "server.log", free_port()
    pg_ctl = [str(bindir / "pg_ctl"), "-D", str(data)]
    started = False
    try:
        subprocess.run(
            _as_postgres(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(data),
                    "--auth=trust",
                    "--username=postgres",
                    "--encoding=UTF8",
                    "--no-locale",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
            text=True,
        )
        options = f"-k {base} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off"
        start = subprocess.run(
            _as_postgres([*pg_ctl, "-l", str(log), "-o", options, "-w", "-t", "60", "start"]),
            capture_output=True,
            text=True,
        )
        if start.returncode != 0:
            server_log = log.read_text() if log.exists() else ""
            pytest.fail(f"pg_ctl start failed: {start.stdout}{start.stderr}\n{server_log}")
        started = True
        with psycopg.connect(
            f"host=127.0.0.1 port={port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute("CREATE DATABASE ramp_test")
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/ramp_test"
    finally:
        if started:
            subprocess.run(
                _as_postgres([*pg_ctl, "-m", "fast", "-w", "stop"]),
                capture_output=True,
                check=False,
            )
        shutil.rmtree(base, ignore_errors=True)


def _admin_dsn(server_url: str) -> str:
    hostport = server_url.split("@", 1)[1].split("/", 1)[0]
    host, port = hostport.split(":")
    return f"host={host} port={port} user=postgres dbname=postgres"


def new_database(server_url: str) -> str:
    """The URL of a new, empty database on the server at ``server_url``."""
    name = f"ramp_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_admin_dsn(server_url), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return server_url.rsplit("/", 1)[0] + "/" + name


def drop_database(url: str) -> None:
    """Drop the database of ``url`` (made by :func:`new_database`), connections and all."""
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(_admin_dsn(url), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
