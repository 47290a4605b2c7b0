"""The token dump format of `clang -cc1 -dump-tokens`: writing it and reading it back."""

from __future__ import annotations

import re

from .lex_tokens import Token

__all__ = ["format_token_dump", "read_token_dump"]

_FLAGS = {
    (False, False): "",
    (True, False): " [StartOfLine]",
    (False, True): " [LeadingSpace]",
    (True, True): " [StartOfLine] [LeadingSpace]",
}


def format_token_dump(tokens: list[Token]) -> str:
    """One line per token, as clang prints them to stderr."""
    lines = [
        f"{t.kind} '{t.spelling}'\t{_FLAGS[t.start_of_line, t.leading_space]}"
        f"\tLoc=<{t.file}:{t.line}:{t.col}>"
        for t in tokens
    ]
    lines.append("")
    return "\n".join(lines)


# kind, quoted spelling, flags, location; other lines (diagnostics) do not match
_TOKEN_LINE = re.compile(
    r"^([A-Za-z_][A-Za-z0-9_]*) '(.*)'\t[^\t\n]*\tLoc=<([^\n]*)>\r?$", re.MULTILINE
)


def read_token_dump(text: str) -> list[tuple[str, str, str]]:
    """(kind, spelling, location) of every token line of a dump, eof included."""
    return _TOKEN_LINE.findall(text)
