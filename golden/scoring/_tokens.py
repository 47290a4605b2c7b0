"""T1: clang's ``-dump-tokens`` listing, compared token by token."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

from ._models import CaseCategory, CaseScore, GoldenArtifactError, make_score, shorten

__all__ = ["Token", "parse_token_dump", "score_t1"]

_KIND = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_FLAGS = re.compile(r"(?: \[[^\[\]\t]+\])*")
_FLAG = re.compile(r" \[([^\[\]\t]+)\]")
# Longer lines are never clang's; refusing them keeps parsing linear on garbage.
_MAX_LINE = 1 << 16
# A line or column number longer than this is not clang's (and int() refuses past 4300 digits).
_MAX_DIGITS = 9


class Token(BaseModel):
    """One line of a token dump; ``valid`` is False when the line could not be parsed."""

    model_config = ConfigDict(frozen=True)

    kind: str
    spelling: str
    flags: frozenset[str]
    file: str
    line: int
    col: int
    valid: bool = True

    def location(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


_INVALID = Token.model_construct(
    kind="", spelling="", flags=frozenset(), file="", line=0, col=0, valid=False
)


def _parse_line(text: str) -> Token:
    if len(text) > _MAX_LINE or not text.endswith(">"):
        return _INVALID
    head, sep, loc = text.rpartition("\tLoc=<")
    if not sep:
        return _INVALID
    loc = loc[:-1]
    spelled_at = loc.find(" <Spelling=")
    if spelled_at >= 0:
        loc = loc[:spelled_at]
    file, _, rest = loc.rpartition(":")
    file, _, line = file.rpartition(":")
    if not all(n.isascii() and n.isdigit() and len(n) <= _MAX_DIGITS for n in (line, rest)):
        return _INVALID
    head, sep, flag_field = head.rpartition("\t")
    if not sep or not _FLAGS.fullmatch(flag_field):
        return _INVALID
    kind, space, spelling = head.partition(" ")
    if not _KIND.fullmatch(kind):
        return _INVALID
    if space:
        if len(spelling) < 2 or spelling[0] != "'" or spelling[-1] != "'":
            return _INVALID
        spelling = spelling[1:-1]
    return Token.model_construct(
        kind=kind,
        spelling=spelling,
        flags=frozenset(_FLAG.findall(flag_field)),
        file=file,
        line=int(line),
        col=int(rest),
        valid=True,
    )


def _as_text(value: str | bytes) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value


def parse_token_dump(text: str | bytes) -> list[Token]:
    """Every non-empty line as a token; unparseable lines become invalid tokens (which
    scoring and the canonical form leave out)."""
    lines = _as_text(text).split("\n")
    return [_parse_line(line.removesuffix("\r")) for line in lines if line not in ("", "\r")]


def _show_flags(flags: frozenset[str]) -> str:
    return " ".join(f"[{flag}]" for flag in sorted(flags)) or "none"


def _describe(index: int, want: Token, got: Token) -> str:
    where = f"token {index + 1}"
    if want.kind != got.kind:
        return f"{where}: expected kind '{want.kind}', got '{shorten(got.kind)}'"
    if want.spelling != got.spelling:
        return (
            f"{where} ({want.kind}): expected spelling '{shorten(want.spelling)}', "
            f"got '{shorten(got.spelling)}'"
        )
    if want.location() != got.location():
        return (
            f"{where} ('{shorten(want.spelling)}'): expected Loc=<{shorten(want.location(), 80)}>, "
            f"got Loc=<{shorten(got.location(), 80)}>"
        )
    return (
        f"{where} ('{shorten(want.spelling)}'): expected flags {_show_flags(want.flags)}, "
        f"got {_show_flags(got.flags)}"
    )


def score_t1(golden: str | bytes, produced: str | bytes) -> CaseScore:
    """100 * (0.6 K + 0.3 L + 0.1 F) / N, or 0 when the token counts differ.

    Lines not in the token format are not tokens: they are left out before comparing, as
    they are from the canonical form that the next stage receives.
    """
    want = parse_token_dump(golden)
    if not want or not all(token.valid for token in want):
        raise GoldenArtifactError("the golden token dump is empty or has unparseable lines")
    parsed = parse_token_dump(produced)
    got = [token for token in parsed if token.valid]
    n = len(want)
    unparsed = len(parsed) - len(got)
    details: dict[str, float | int | str] = {
        "golden_tokens": n,
        "produced_tokens": len(got),
        "unparsed_lines": unparsed,
    }
    first_bad: int | None = None
    same_kind = same_loc = same_flags = 0
    for index, (a, b) in enumerate(zip(want, got, strict=False)):
        kind_ok = a.kind == b.kind and a.spelling == b.spelling
        loc_ok = kind_ok and (a.file, a.line, a.col) == (b.file, b.line, b.col)
        flags_ok = loc_ok and a.flags == b.flags
        same_kind += kind_ok
        same_loc += loc_ok
        same_flags += flags_ok
        if not flags_ok and first_bad is None:
            first_bad = index
    if len(got) != n:
        diagnosis = f"produced {len(got)} tokens, expected {n}"
        if unparsed:
            diagnosis += f" ({unparsed} lines not in the token format were left out)"
        if first_bad is not None:
            diagnosis += (
                f"; first difference at {_describe(first_bad, want[first_bad], got[first_bad])}"
            )
        return make_score(0.0, diagnosis, details, CaseCategory.WRONG_TOKEN_COUNT)
    details |= {
        "kind_spelling_matches": same_kind,
        "location_matches": same_loc,
        "flag_matches": same_flags,
    }
    if first_bad is None:
        return make_score(100.0, f"all {n} tokens match", details)
    # Integer weights (6:3:1) and a single division keep the result exactly reproducible.
    value = 100.0 * (6 * same_kind + 3 * same_loc + same_flags) / (10 * n)
    return make_score(value, _describe(first_bad, want[first_bad], got[first_bad]), details)
