"""Per-run bearer tokens: issued when a run is created, stored next to its workspace.

A run's token lives in ``<run workspace parent>/mcp-token`` (mode 0600): next to the
workspace, never inside it, so an agent cannot read another run's token through the file
tools, and a token names exactly one run. The HTTP transport of the MCP server checks it.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from grader.ledger import Run

__all__ = ["TOKEN_FILE", "ensure_token", "read_token", "token_path"]

TOKEN_FILE = "mcp-token"


def token_path(run: Run) -> Path:
    return Path(run.workspace).parent / TOKEN_FILE


def read_token(run: Run) -> str | None:
    try:
        text = token_path(run).read_text(encoding="ascii").strip()
    except OSError:
        return None
    return text or None


def ensure_token(run: Run) -> str:
    """The run's token, made (random, 0600) if it has none yet."""
    existing = read_token(run)
    if existing is not None:
        return existing
    path = token_path(run)
    token = secrets.token_urlsafe(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # Someone else issued it between our read and our create: theirs stands.
        return read_token(run) or ensure_token(run)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(token + "\n")
    return token
