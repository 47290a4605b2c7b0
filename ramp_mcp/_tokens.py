"""Checking per-run bearer tokens on the HTTP transport (the grader issues them with the run)."""

from __future__ import annotations

import hmac
import logging
import threading

import anyio.to_thread
from mcp.server.auth.provider import AccessToken

from grader import TOKEN_FILE, ensure_token, read_token, token_path
from grader.ledger import Ledger, LedgerError

__all__ = ["TOKEN_FILE", "RunTokenVerifier", "ensure_token", "read_token", "token_path"]

_log = logging.getLogger(__name__)


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
