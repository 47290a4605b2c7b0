"""T3 and T5: the program's stdout and exit code must match the expectation exactly (and,
in golden.scoring._timer.score_program, its timer calls the golden ones)."""

from __future__ import annotations

from ._models import CaseCategory, CaseScore, RunOutcome, make_score

__all__ = ["score_behaviour"]

_CHUNK = 4096
_DIAGNOSTIC_CHARS = 200


def _common_prefix(a: bytes, b: bytes) -> int:
    """Length of the longest common prefix, comparing whole chunks first."""
    limit = min(len(a), len(b))
    start = 0
    while start < limit and a[start : start + _CHUNK] == b[start : start + _CHUNK]:
        start += _CHUNK
    end = min(start + _CHUNK, limit)
    while start < end and a[start] == b[start]:
        start += 1
    return min(start, limit)


def _first_line(text: str) -> str:
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return line[:_DIAGNOSTIC_CHARS] or "no diagnostic"


def _run_details(run: RunOutcome) -> dict[str, float | int | str]:
    return {
        "build_ok": int(run.build_ok),
        "timed_out": int(run.timed_out),
        "stdout_bytes": len(run.stdout),
        "exit_code": "none" if run.exit_code is None else run.exit_code,
    }


def score_behaviour(expected_stdout: bytes, expected_exit: int, run: RunOutcome) -> CaseScore:
    """100 when the build succeeded and stdout and exit code match exactly, else 0.

    The diagnosis speaks only of the agent's own run: a byte offset (from 0) and line
    (from 1) into its stdout, never expected text or the expected exit code.
    """
    details = _run_details(run)
    if not run.build_ok:
        return make_score(
            0.0,
            f"build failed: {_first_line(run.build_diagnostic)}",
            details,
            CaseCategory.BUILD_FAILED,
        )
    if run.timed_out:
        return make_score(0.0, "timed out", details, CaseCategory.TIMED_OUT)
    if run.stdout != expected_stdout:
        offset = _common_prefix(run.stdout, expected_stdout)
        line = run.stdout.count(b"\n", 0, offset) + 1
        return make_score(
            0.0,
            f"stdout differs at byte {offset} (line {line})",
            details,
            CaseCategory.WRONG_STDOUT,
        )
    if run.exit_code is None:
        why = f" ({_first_line(run.detail)})" if run.detail.strip() else ""
        return make_score(0.0, f"no exit code{why}", details, CaseCategory.CRASHED)
    if run.exit_code != expected_exit:
        return make_score(
            0.0,
            f"exit code {run.exit_code}, expected another value",
            details,
            CaseCategory.WRONG_EXIT_CODE,
        )
    return make_score(100.0, "stdout and exit code match", details)
