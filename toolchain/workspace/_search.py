"""Listing, glob and grep over a tree (run in a worker), bounded in entries, depth and time."""

from __future__ import annotations

import os
import re
import stat
import time

import regex as _regex

from toolchain._errors import WorkspaceError, WorkspaceLimitError
from toolchain.workspace._glob import GlobMatcher, glob_segments, has_magic
from toolchain.workspace._models import (
    EntryKind,
    GlobResult,
    GrepMatch,
    GrepResult,
    TreeEntry,
    TreeListing,
)
from toolchain.workspace._names import MAX_COMPONENTS, join, parse_name, parse_path, show
from toolchain.workspace._syscalls import STRICT_RESOLVE, openat2
from toolchain.workspace._text import is_binary
from toolchain.workspace._tree import Tree
from toolchain.workspace._walk import UNBOUNDED, Child, Walker

__all__ = ["GREP_SECONDS", "compile_pattern", "glob", "grep", "list_tree"]

# An agent's regular expression may backtrack for ever; grep gives up after this.
GREP_SECONDS = 5.0
_GREP_LINE_CHARS = 500
_GREP_LINE_LEAD = 100
_NARROW = "narrow the request (a subdirectory, a more specific pattern) to see the rest"


def _note(walker: Walker) -> str | None:
    notes = []
    if walker.stopped is not None:
        notes.append(f"{walker.stopped}; {_NARROW}")
    if walker.unreadable:
        names = ", ".join(f"'{show(rel) or '.'}'" for rel in walker.unreadable[:5])
        notes.append(f"could not read directories (permission denied): {names}")
    return "; ".join(notes) or None


def _prefixed(prefix: str, rel: bytes) -> str:
    shown = show(rel)
    return f"{prefix}/{shown}" if prefix else shown


def _link_text(walker: Walker, child: Child) -> str:
    parent = child.path.rpartition(b"/")[0]
    try:
        fd = walker.open(parent, os.O_PATH | os.O_DIRECTORY)
    except OSError:
        return "?"
    try:
        return show(os.readlink(child.name, dir_fd=fd))
    except OSError:
        return "?"
    finally:
        os.close(fd)


def list_tree(tree: Tree, path: str, depth: int, deadline: float, budget_s: float) -> TreeListing:
    """Entries below a directory, ``depth`` levels deep (1 = direct children), level by level."""
    if depth < 1:
        raise WorkspaceError(
            f"depth must be at least 1 (1 lists only direct children); got {depth}"
        )
    parts = parse_path(path)
    shown = show(join(parts))
    base = tree.lookup(parts, os.O_PATH, shown)
    try:
        if not stat.S_ISDIR(os.fstat(base).st_mode):
            raise WorkspaceError(
                f"'{shown}' is not a directory; use read_file to see a file, or list its "
                "parent directory"
            )
        walker = Walker(
            base,
            visit_cap=tree.limits.max_visits,
            deadline=deadline,
            budget_s=budget_s,
            max_depth=MAX_COMPONENTS - len(parts),
        )
        found: list[tuple[list[bytes], TreeEntry]] = []
        truncated = False
        for child in walker.breadth_first(depth):
            if len(found) >= tree.limits.max_list_entries:
                truncated = True
                break
            entry = TreeEntry(
                path=_prefixed(shown, child.path),
                kind=child.kind,
                size=child.size if child.kind is EntryKind.FILE else None,
                target=_link_text(walker, child) if child.kind is EntryKind.SYMLINK else None,
            )
            found.append((child.path.split(b"/"), entry))
    finally:
        os.close(base)
    found.sort(key=lambda item: item[0])
    return TreeListing(
        path=shown,
        depth=depth,
        entries=tuple(entry for _, entry in found),
        truncated=truncated or walker.stopped is not None,
        note=_note(walker),
    )


def _literal_prefix(segments: tuple[str, ...]) -> tuple[bytes, ...] | None:
    """The leading plain directory names of a pattern as bytes; None if one cannot exist."""
    literal: list[bytes] = []
    for segment in segments[:-1]:
        if has_magic(segment):
            break
        raw = parse_name(segment)
        if raw in (b".", b"..") or b"/" in raw or b"\0" in raw:
            return None
        literal.append(raw)
    return tuple(literal)


def glob(tree: Tree, pattern: str, deadline: float, budget_s: float) -> GlobResult:
    """Paths matching a glob; symlinks are reported when they match but never entered."""
    segments = glob_segments(pattern, "glob pattern")
    literal = _literal_prefix(segments)
    if literal is None:
        return GlobResult(pattern=pattern, matches=(), truncated=False)
    try:
        # Only walk from a prefix of real directories, never through a symlink.
        base = openat2(tree.root, join(literal), os.O_PATH | os.O_DIRECTORY, STRICT_RESOLVE)
    except OSError:
        return GlobResult(pattern=pattern, matches=(), truncated=False)
    rest = segments[len(literal) :]
    matcher = GlobMatcher(rest)
    prefix = show(join(literal))
    states: dict[bytes, frozenset[int]] = {b"": matcher.start}
    matches: list[str] = []
    truncated = False
    walker = Walker(
        base,
        visit_cap=tree.limits.max_visits,
        deadline=deadline,
        budget_s=budget_s,
        max_depth=MAX_COMPONENTS - len(literal),
    )
    reach = UNBOUNDED if "**" in rest else len(rest)
    try:
        for child in walker.breadth_first(reach, lambda child: child.path in states):
            reached = matcher.step(states[child.path.rpartition(b"/")[0]], show(child.name))
            if child.kind is EntryKind.DIR and matcher.alive(reached):
                states[child.path] = reached
            if matcher.accepts(reached):
                if len(matches) >= tree.limits.max_glob_results:
                    truncated = True
                    break
                matches.append(_prefixed(prefix, child.path))
    finally:
        os.close(base)
    return GlobResult(
        pattern=pattern,
        matches=tuple(sorted(matches)),
        truncated=truncated or walker.stopped is not None,
        note=_note(walker),
    )


def compile_pattern(pattern: str, ignore_case: bool) -> _regex.Pattern[str]:
    try:
        # 're' checks the syntax (its messages are the ones Python users know); the
        # compatible 'regex' engine searches, because its searches can time out.
        re.compile(pattern)
        return _regex.compile(pattern, _regex.IGNORECASE if ignore_case else 0)
    except (re.error, _regex.error) as exc:
        raise WorkspaceError(
            f"invalid regular expression {pattern!r}: {exc}; grep uses Python 're' "
            "syntax, so escape literal special characters such as '(' or '[' with a "
            "backslash"
        ) from exc


class _Search:
    """One grep: the compiled pattern, the filter, the matches so far."""

    def __init__(self, tree: Tree, pattern: str, ignore_case: bool, cap: int) -> None:
        self.tree = tree
        self.pattern = pattern
        self.regex = compile_pattern(pattern, ignore_case)
        self.cap = cap
        self.matches: list[GrepMatch] = []
        self.truncated = False
        self.searched = 0
        self.skipped = 0
        self.regex_deadline = time.monotonic() + GREP_SECONDS

    def text_of(self, fd: int, shown: str) -> str | None:
        """The file's text, or None when it is binary, too large, hard-linked or unreadable."""
        try:
            data, _ = self.tree.load(fd, shown)
        except WorkspaceError:
            return None
        if is_binary(data):
            return None
        return data.decode("utf-8")

    def search_file(self, fd: int, shown: str) -> None:
        text = self.text_of(fd, shown)
        if text is None:
            self.skipped += 1
            return
        self.searched += 1
        lines = text.split("\n")
        if lines and not lines[-1]:
            lines.pop()
        for number, raw in enumerate(lines, start=1):
            line = raw.removesuffix("\r")
            left = max(0.001, self.regex_deadline - time.monotonic())
            try:
                found = self.regex.search(line, timeout=left)
            except TimeoutError as exc:
                raise WorkspaceLimitError(
                    f"grep for {self.pattern!r} took more than {GREP_SECONDS:g} s (stopped in "
                    f"'{shown}' line {number}); nested repetition like '(a|aa)+' can take "
                    "exponential time: simplify the expression or narrow path/glob"
                ) from exc
            if found is None:
                continue
            if len(self.matches) >= self.cap:
                self.truncated = True
                return
            self.matches.append(_grep_match(shown, number, line, found.start()))


def _grep_match(shown: str, number: int, line: str, column: int) -> GrepMatch:
    if len(line) <= _GREP_LINE_CHARS:
        return GrepMatch(path=shown, line_number=number, column=column + 1, line=line)
    # Show the part of a long line around the match.
    begin = max(0, min(column - _GREP_LINE_LEAD, len(line) - _GREP_LINE_CHARS))
    return GrepMatch(
        path=shown,
        line_number=number,
        column=column + 1,
        line=line[begin : begin + _GREP_LINE_CHARS],
        line_truncated=True,
    )


def grep(
    tree: Tree,
    pattern: str,
    path: str,
    glob_filter: str | None,
    ignore_case: bool,
    max_matches: int | None,
    deadline: float,
    budget_s: float,
) -> GrepResult:
    """Search text files line by line. ``glob_filter`` without ``/`` matches file names
    anywhere, with ``/`` the path from the root. Symlinks are skipped."""
    cap = tree.limits.max_grep_matches
    if max_matches is not None:
        if max_matches < 1:
            raise WorkspaceError(f"max_matches must be at least 1; got {max_matches}")
        cap = min(cap, max_matches)
    search = _Search(tree, pattern, ignore_case, cap)
    matcher = (
        None if glob_filter is None else GlobMatcher(glob_segments(glob_filter, "glob filter"))
    )
    by_name = glob_filter is not None and "/" not in glob_filter.strip("/")
    parts = parse_path(path)
    shown = show(join(parts))
    start = tree.lookup(parts, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY, shown)
    walker: Walker | None = None
    try:
        info = os.fstat(start)
        if stat.S_ISREG(info.st_mode):
            search.search_file(start, shown)
        elif stat.S_ISDIR(info.st_mode):
            walker = Walker(
                start,
                visit_cap=tree.limits.max_visits,
                deadline=deadline,
                budget_s=budget_s,
                max_depth=MAX_COMPONENTS - len(parts),
            )
            top = tuple(show(part) for part in parts)
            for child in walker.depth_first():
                if child.kind is not EntryKind.FILE:
                    continue
                if matcher is not None:
                    names = tuple(show(name) for name in child.path.split(b"/"))
                    if not matcher.matches(names[-1:] if by_name else top + names):
                        continue
                _search_child(search, walker, child, _prefixed(shown, child.path))
                if search.truncated:
                    break
    finally:
        os.close(start)
    return GrepResult(
        pattern=pattern,
        matches=tuple(search.matches),
        truncated=search.truncated or (walker is not None and walker.stopped is not None),
        files_searched=search.searched,
        files_skipped=search.skipped,
        note=None if walker is None else _note(walker),
    )


def _search_child(search: _Search, walker: Walker, child: Child, shown: str) -> None:
    opened = walker.open_file(child.path)
    if opened is None:
        search.skipped += 1
        return
    fd, _ = opened
    try:
        search.search_file(fd, shown)
    finally:
        os.close(fd)
