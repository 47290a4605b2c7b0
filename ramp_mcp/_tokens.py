"""Per-run bearer tokens for the HTTP transport.

A run's token lives in ``<run workspace parent>/mcp-token`` (mode 0600): next to the
workspace, never inside it, so the agent cannot read another run's token through the file
tools, and a token names exactly one run.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import threading
from pathlib import Path

import anyio.to_thread
from mcp.server.auth.provider import AccessToken

from grader.ledger import Ledger, LedgerError, Run

__all__ = ["TOKEN_FILE", "RunTokenVerifier", "ensure_token", "read_token", "token_path"]

TOKEN_FILE = "mcp-token"
_log = logging.getLogger(__name__)


def token_path(run: Run) -> Path:
    return Path(run.workspace).parent / TOKEN_FILE


def read_token(run: Run) -> str | None:
    try:
        text = token_path(run).read_text(encoding="ascii").strip()
    except OSError:
        return None
    return text or None


def ensure_token(run: Run) -> str:
    """The run's token, made (random, 0600) on first use."""
    existing = read_token(run)
    if existing is not None:
        return existing
    path = token_path(run)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(token + "\n")
    return token


class RunTokenVerifier:
    """Maps a bearer token to the run it was issued for (``AccessToken.client_id``)."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger
        self._known: dict[str, str] = {}
        self._lock = threading.Lock()

    def _lookup(self, token: str) -> str | None:
        with self._lock:
            for known, run_id in self._known.items():
                if hmac.compare_digest(known, token):
                    return run_id
            try:
                runs = self._ledger.list_runs()
            except LedgerError as exc:
                _log.warning("cannot list runs to check a token: %s", exc)
                return None
            found: str | None = None
            for run in runs:
                stored = read_token(run)
                if stored is None:
                    continue
                self._known[stored] = run.id
                if hmac.compare_digest(stored, token):
                    found = run.id
            return found

    async def verify_token(self, token: str) -> AccessToken | None:
        run_id = await anyio.to_thread.run_sync(self._lookup, token)
        if run_id is None:
            return None
        return AccessToken(token=token, client_id=run_id, scopes=["ramp"])
