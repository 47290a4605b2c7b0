"""T1: token dumps, each known-bad variant losing exactly what the formula says."""

from __future__ import annotations

from typing import Any

import pytest

from golden.scoring import GoldenArtifactError, parse_token_dump, score_t1


def _expected(n: int, wrong_kind: int = 0, wrong_loc: int = 0, wrong_flags: int = 0) -> float:
    lost = 100 * wrong_kind / n + (0.3 + 0.1) * wrong_loc / n * 100 + 0.1 * wrong_flags / n * 100
    return round(100 - lost, 4)


def test_parser_reads_every_field(clang: Any, program: str) -> None:
    tokens = parse_token_dump(clang.tokens(program))
    assert all(token.valid for token in tokens)
    assert tokens[0].kind == "int"
    assert tokens[0].flags == frozenset({"StartOfLine"})
    assert tokens[1].flags == frozenset({"LeadingSpace"})
    assert (tokens[-1].kind, tokens[-1].spelling, tokens[-1].flags) == ("eof", "", frozenset())
    plus = next(token for token in tokens if token.spelling == "+")
    assert (plus.kind, plus.file, plus.line, plus.col) == ("plus", "x.sy", 3, 13)


def test_golden_against_itself_scores_100(clang: Any, program: str) -> None:
    golden = clang.tokens(program)
    result = score_t1(golden, golden)
    assert result.score == 100.0
    assert result.details["golden_tokens"] == len(golden.splitlines())


def test_crlf_and_missing_trailing_newline_are_tolerated(clang: Any, program: str) -> None:
    golden = clang.tokens(program)
    assert score_t1(golden, golden.replace("\n", "\r\n")).score == 100.0
    assert score_t1(golden, golden.rstrip("\n")).score == 100.0


def test_dropped_token_scores_0(clang: Any, program: str) -> None:
    golden = clang.tokens(program)
    produced = clang.tokens(program.replace("a + 4;", "a + 4"))
    result = score_t1(golden, produced)
    n = len(golden.splitlines())
    assert result.score == 0.0
    assert result.diagnosis.startswith(f"produced {n - 1} tokens, expected {n}")


def test_wrong_location_on_k_tokens(clang: Any, program: str) -> None:
    golden = clang.tokens(program)
    # clang -E keeps indentation but squeezes inner spaces: indenting line 5 one more
    # column moves its five tokens one column right and keeps their flags.
    produced = clang.tokens(program.replace("  return", "   return"))
    n = len(golden.splitlines())
    result = score_t1(golden, produced)
    assert result.score == _expected(n, wrong_loc=5)
    assert result.details["location_matches"] == n - 5
    assert result.details["flag_matches"] == n - 5
    assert result.diagnosis.endswith("('return'): expected Loc=<x.sy:5:3>, got Loc=<x.sy:5:4>")


def test_wrong_flags_on_k_tokens(clang: Any, program: str) -> None:
    golden = clang.tokens(program)
    lines = golden.splitlines(keepends=True)
    spaced = [i for i, line in enumerate(lines) if "\t [LeadingSpace]\t" in line]
    for i in spaced[:2]:
        lines[i] = lines[i].replace("\t [LeadingSpace]\t", "\t\t")
    result = score_t1(golden, "".join(lines))
    assert result.score == _expected(len(lines), wrong_flags=2)
    assert result.diagnosis.endswith("expected flags [LeadingSpace], got none")
    assert result.diagnosis.startswith(f"token {spaced[0] + 1} ")


def test_wrong_kind_on_one_token(clang: Any, program: str) -> None:
    golden = clang.tokens(program)
    lines = golden.splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith("semi "))
    lines[at] = lines[at].replace("semi ';'", "comma ';'")
    result = score_t1(golden, "".join(lines))
    assert result.score == _expected(len(lines), wrong_kind=1)
    assert result.diagnosis == f"token {at + 1}: expected kind 'semi', got 'comma'"


def test_lines_not_in_the_format_are_left_out(clang: Any, program: str) -> None:
    golden = clang.tokens(program)
    lines = golden.splitlines(keepends=True)
    # An extra line (a payload, say) is not a token: the dump still scores 100.
    padded = "".join([*lines[:4], "\x00\xff not a token line\n", *lines[4:]])
    result = score_t1(golden, padded)
    assert result.score == 100.0 and result.details["unparsed_lines"] == 1
    # A token line spoiled into garbage is a missing token: the count differs, 0.
    lines[4] = "\x00\xff not a token line\n"
    result = score_t1(golden, "".join(lines))
    assert result.score == 0.0 and result.details["produced_tokens"] == len(lines) - 1
    assert "1 lines not in the token format were left out" in result.diagnosis


def test_huge_line_numbers_are_not_tokens(clang: Any, program: str) -> None:
    golden = clang.tokens(program)
    spoiled = golden.replace(":1:", ":" + "9" * 5000 + ":", 1)
    result = score_t1(golden, spoiled)
    assert result.details["unparsed_lines"] == 1 and result.score == 0.0


def test_garbage_and_empty_input_score_0(clang: Any, program: str) -> None:
    golden = clang.tokens(program)
    assert score_t1(golden, "").score == 0.0
    assert score_t1(golden, b"\x89PNG\r\n\x1a\n\x00\x00").score == 0.0


def test_malformed_golden_raises() -> None:
    with pytest.raises(GoldenArtifactError):
        score_t1("", "eof ''\t\tLoc=<x.sy:1:1>")
