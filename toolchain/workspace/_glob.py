"""Glob patterns over shown names, matched in polynomial time.

A pattern is ``/``-separated segments; ``*``, ``?`` and ``[...]`` work within one name (as
:mod:`fnmatch`, whose translation in Python 3.11+ uses atomic groups, so one name matches in
time polynomial in its length), and ``**`` spans any number of directories. Segments are
capped and runs of ``**`` collapse into one, and a path is matched by carrying the *set* of
segment positions reached so far (an NFA), never by backtracking over ``**``s, so a pattern
of hundreds of ``**/`` costs no more than a few. Names are matched as the tools show them
(see ``_names``), so any name that is listed can be matched.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from fnmatch import translate

from toolchain._errors import PathOutsideWorkspaceError, WorkspaceError, WorkspaceLimitError
from toolchain.workspace._names import require_text

__all__ = ["MAX_SEGMENTS", "GlobMatcher", "glob_segments", "has_magic"]

MAX_SEGMENTS = 64
_MAGIC = frozenset("*?[")
_EXAMPLE = "like '**/*.c' or 'src/*.h'"


def has_magic(segment: str) -> bool:
    return segment == "**" or bool(_MAGIC & set(segment))


def glob_segments(pattern: object, what: str) -> tuple[str, ...]:
    """The segments of a glob pattern, refusing what could leave the workspace."""
    text = require_text(pattern, what)
    if "\0" in text:
        raise PathOutsideWorkspaceError(
            f"{what} {text!r} contains a NUL byte; give a plain pattern, {_EXAMPLE}"
        )
    if text.startswith("/"):
        raise PathOutsideWorkspaceError(
            f"{what} {text!r} is absolute; give a pattern relative to the workspace root, "
            f"{_EXAMPLE}"
        )
    segments = [part for part in text.split("/") if part not in ("", ".")]
    if ".." in segments:
        raise PathOutsideWorkspaceError(
            f"{what} {text!r} contains a '..' component, which is not allowed; give a "
            f"pattern relative to the workspace root, {_EXAMPLE}"
        )
    if not segments:
        raise WorkspaceError(f"{what} {text!r} is empty; give a pattern, {_EXAMPLE}")
    collapsed: list[str] = []
    for segment in segments:
        if segment == "**" and collapsed and collapsed[-1] == "**":
            continue
        collapsed.append(segment)
    if len(collapsed) > MAX_SEGMENTS:
        raise WorkspaceLimitError(
            f"{what} has {len(collapsed)} segments, more than the {MAX_SEGMENTS} a pattern may "
            f"have; use a shorter pattern, {_EXAMPLE}"
        )
    return tuple(collapsed)


class GlobMatcher:
    """Matches paths, one name at a time, against glob segments."""

    def __init__(self, segments: tuple[str, ...]) -> None:
        self._segments = segments
        self._end = len(segments)
        self._match: list[Callable[[str], object] | None] = [
            None if segment == "**" else re.compile(translate(segment)).match
            for segment in segments
        ]
        self.start = self._closure({0})

    def _closure(self, states: set[int]) -> frozenset[int]:
        """Add the positions reached by letting a ``**`` match no name at all."""
        pending = list(states)
        while pending:
            index = pending.pop()
            if index < self._end and self._match[index] is None and index + 1 not in states:
                states.add(index + 1)
                pending.append(index + 1)
        return frozenset(states)

    def step(self, states: frozenset[int], name: str) -> frozenset[int]:
        """The positions reached after one more path component ``name``."""
        following: set[int] = set()
        for index in states:
            if index == self._end:
                continue
            match = self._match[index]
            if match is None:
                following.add(index)
            elif match(name):
                following.add(index + 1)
        return self._closure(following)

    def accepts(self, states: frozenset[int]) -> bool:
        return self._end in states

    def alive(self, states: frozenset[int]) -> bool:
        """Whether anything below a directory with these positions could still match."""
        return any(index < self._end for index in states)

    def matches(self, names: tuple[str, ...]) -> bool:
        states = self.start
        for name in names:
            states = self.step(states, name)
            if not states:
                return False
        return self.accepts(states)
