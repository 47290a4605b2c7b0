"""T0: exact preprocessed text, partial credit capped below the pass mark."""

from __future__ import annotations

from typing import Any

from golden.scoring import score_t0


def test_golden_against_itself_scores_100(clang: Any, program: str) -> None:
    golden = clang.preprocess(program)
    result = score_t0(golden, golden)
    assert result.score == 100.0
    assert result.diagnosis == "identical"


def test_crlf_and_one_trailing_newline_are_ignored(clang: Any, program: str) -> None:
    golden = clang.preprocess(program)
    assert golden.endswith("\n")
    assert score_t0(golden, golden.replace("\n", "\r\n")).score == 100.0
    assert score_t0(golden, golden[:-1]).score == 100.0
    assert score_t0(golden, golden + "\n").score == 100.0
    assert score_t0(golden, golden + "\n\n").score < 60.0


def test_one_changed_line_is_capped_at_59(clang: Any, program: str) -> None:
    golden = clang.preprocess(program)
    produced = clang.preprocess(program.replace("putint(b);", "putint(a);"))
    changed = [
        i
        for i, (a, b) in enumerate(zip(golden.split("\n"), produced.split("\n"), strict=True))
        if a != b
    ]
    assert len(changed) == 1
    result = score_t0(golden, produced)
    assert result.score == 59.0
    assert result.diagnosis.startswith(f"line {changed[0] + 1} differs at column 10")
    assert result.details["equal_lines"] == len(golden.splitlines()) - 1


def test_partial_credit_is_the_share_of_equal_lines(clang: Any, program: str) -> None:
    golden = clang.preprocess(program)
    lines = golden.splitlines()
    kept = len(lines) // 3
    produced = "\n".join(lines[:kept]) + "\n"
    result = score_t0(golden, produced)
    assert result.score == round(100 * kept / len(lines), 4)
    assert result.diagnosis.startswith(f"line {kept + 1}: produced text ends early")


def test_empty_and_binary_output_score_0(clang: Any, program: str) -> None:
    golden = clang.preprocess(program)
    assert score_t0(golden, "").score == 0.0
    assert score_t0(golden, b"\xff\xfe\x00garbage").score == 0.0
