"""Sorting an error message from an agent's transcript into an :data:`ErrorClass`.

The first pattern that matches wins, in the order below: context exhaustion before the
generic "400"/"invalid request" it arrives as, an account's usage limit before a rate limit.
"""

from __future__ import annotations

import re
from typing import Final

from grader.usage._models import ErrorClass

__all__ = ["INFRASTRUCTURE_ERRORS", "classify_error", "excerpt"]

# Errors of the provider or the harness, not of the model's work.
INFRASTRUCTURE_ERRORS: Final[frozenset[str]] = frozenset(
    {"usage_limit", "rate_limit", "overloaded", "server_error", "connection", "auth", "aborted"}
)

_PATTERNS: Final[tuple[tuple[ErrorClass, str], ...]] = (
    (
        "context_length",
        r"prompt is too long|context[ _-]?(window|length|limit)|context_length_exceeded"
        r"|maximum context|exceeds? (the )?(model'?s? )?(maximum )?context|too many tokens"
        r"|input is too long|context_window_exceeded",
    ),
    ("max_turns", r"max[_ -]?turns|maximum number of turns|turn limit"),
    ("budget", r"max[_ -]?budget|budget (was )?(exceeded|exhausted|reached)|spending limit"),
    (
        "usage_limit",
        r"usage[_ ]limit|quota|credit balance|billing|insufficient_quota|out of credits",
    ),
    ("rate_limit", r"rate[_ -]?limit|\b429\b|too many requests"),
    ("overloaded", r"overloaded|\b529\b"),
    (
        "auth",
        r"authenticat|unauthori[sz]ed|\b401\b|\b403\b|invalid (x-)?api[_ -]?key"
        r"|not logged in|forbidden",
    ),
    (
        "server_error",
        r"\b50[0-4]\b|internal server error|server[_ ]error|\bapi_error\b"
        r"|service unavailable|bad gateway",
    ),
    (
        "connection",
        r"connection|econnreset|etimedout|timed? ?out|network|socket hang up"
        r"|stream (error|disconnected|closed)|fetch failed|disconnected",
    ),
    ("aborted", r"abort|interrupt|cancel"),
)
_RULES: Final = tuple((name, re.compile(text, re.IGNORECASE)) for name, text in _PATTERNS)


def classify_error(*texts: str | None) -> ErrorClass:
    """The class of an error described by ``texts`` (a code, a message...); ``api_error``
    when no rule matches."""
    joined = " ".join(t for t in texts if t)
    for name, pattern in _RULES:
        if pattern.search(joined):
            return name
    return "api_error"


def excerpt(text: str, limit: int = 500) -> str:
    """``text`` on one line, cut to ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
