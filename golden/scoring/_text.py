"""T0: the preprocessed text must equal clang's, line for line."""

from __future__ import annotations

from ._models import CaseScore, make_score

__all__ = ["score_t0"]

# Exactness is the point of T0: a near miss stays just under the pass mark of 60.
_PARTIAL_CAP = 59.0


def _as_text(value: str | bytes) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="surrogateescape")
    return value


def _lines(text: str) -> list[str]:
    if text.endswith("\n"):
        text = text[:-1]
    return text.split("\n") if text else []


def score_t0(golden: str | bytes, produced: str | bytes) -> CaseScore:
    """100 on an exact match (CRLF as LF, one trailing newline either way), else at most 59."""
    want = _as_text(golden).replace("\r\n", "\n")
    got = _as_text(produced).replace("\r\n", "\n")
    if got in (want, want + "\n") or got + "\n" == want:
        lines = len(_lines(want))
        return make_score(100.0, "identical", {"golden_lines": lines, "equal_lines": lines})
    want_lines, got_lines = _lines(want), _lines(got)
    total = max(len(want_lines), len(got_lines))
    equal = sum(1 for a, b in zip(want_lines, got_lines, strict=False) if a == b)
    first = next(
        (i for i, (a, b) in enumerate(zip(want_lines, got_lines, strict=False)) if a != b),
        min(len(want_lines), len(got_lines)),
    )
    if first < len(want_lines) and first < len(got_lines):
        a, b = want_lines[first], got_lines[first]
        col = next(
            (j for j, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
        )
        diagnosis = f"line {first + 1} differs at column {col + 1}"
    elif first < len(got_lines):
        diagnosis = f"line {first + 1}: produced text has extra lines"
    elif first < len(want_lines):
        diagnosis = f"line {first + 1}: produced text ends early"
    else:
        diagnosis = "texts differ only in trailing newlines"
    differing = total - equal
    diagnosis += f" ({differing} of {total} lines differ)" if differing else ""
    value = min(_PARTIAL_CAP, 100.0 * equal / total) if total else 0.0
    details: dict[str, float | int | str] = {
        "golden_lines": len(want_lines),
        "produced_lines": len(got_lines),
        "equal_lines": equal,
        "first_differing_line": first + 1,
    }
    return make_score(value, diagnosis, details)
