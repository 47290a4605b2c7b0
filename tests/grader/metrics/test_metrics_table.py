"""The score-table reader and the AEI table built from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.metrics import TableError, aei_table, parse_table, read_table
from toolchain._errors import RampError

HEADER = "model,T0,T1,T2,T3,T4,T5,elapsed_s,cost_usd,total_tokens\n"


def test_published_rows(published_csv: Path) -> None:
    rows = read_table(published_csv)
    assert [row.model for row in rows] == ["gpt-5.5", "claude-opus-4-7"]
    assert rows[0].total_tokens == 22_179_194
    assert rows[1].total_tokens == 218_860_749
    assert [row.line for row in rows] == [2, 3]
    table = aei_table(rows).rounded()
    gpt, opus = table.rows
    assert (gpt.tier, gpt.mean_reward, gpt.aei) == (3, 65.91, 81.57)
    assert (opus.tier, opus.mean_reward, opus.aei) == (3, 93.39, 40.00)
    assert (gpt.pipeline_score, gpt.pass_score) == (74.71, 66.67)
    assert (opus.pipeline_score, opus.pass_score) == (94.73, 94.44)
    by_hand = (
        3 / 5 * 100
        + (960 + 48.25 * 3.6) / 17.2 / 93.39 * 100
        + (11913.79 - 5440.69) / 11913.79 * 100
        + (126.24 - 8.770572) / 126.24 * 100
        + (218_860_749 - 22_179_194) / 218_860_749 * 100
    ) / 5
    assert gpt.stable_aei == round(by_hand, 2) == 73.57


def test_adding_a_row_moves_cohort_aei_but_not_stable_aei(published_csv: Path) -> None:
    text = published_csv.read_text(encoding="utf-8")
    two = aei_table(parse_table(text)).rows
    three = aei_table(parse_table(text + "frugal,100,100,100,100,100,100,1.5,0.01,1000\n")).rows
    assert [row.stable_aei for row in three[:2]] == [row.stable_aei for row in two]
    assert [row.stable for row in three[:2]] == [row.stable for row in two]
    assert three[0].aei != two[0].aei
    assert three[1].aei != two[1].aei


def test_header_order_case_extra_columns_bom_and_blank_lines() -> None:
    text = (
        "\ufeffnotes, TOTAL_TOKENS ,Model,t5,t4,t3,t2,t1,t0,cost_usd,elapsed_s,seed\n"
        "\n"
        'ok run,"1,000",m,0,0,100,100,100,100,1.5,10,7\n'
        "x,12,n,0,0,0,0,0,0,0,0,\n"
    )
    first, second = parse_table(text)
    assert first.model == "m"
    assert first.scores.scores == (100, 100, 100, 100, 0, 0)
    assert (first.elapsed_s, first.cost_usd, first.total_tokens, first.line) == (10, 1.5, 1000, 3)
    assert second.line == 4


def test_every_problem_is_reported_with_line_and_column() -> None:
    text = (
        HEADER
        + "good,100,100,100,100,100,100,1,1,1\n"
        + "bad,100,abc,100,100,101,100,1,1,1\n"
        + "short,100,100\n"
        + 'tok,0,0,0,0,0,0,-1,1,"1,00"\n'
        + ",0,0,0,0,0,0,1,1,1_000\n"
    )
    with pytest.raises(TableError) as caught:
        parse_table(text, source="scores.csv")
    problems = [str(problem) for problem in caught.value.problems]
    assert problems == [
        "line 3, column T1: 'abc' is not a number",
        "line 3, column T4: '101' must be within [0, 100]",
        "line 4, column T2: missing value (the row has 3 fields)",
        "line 4, column T3: missing value (the row has 3 fields)",
        "line 4, column T4: missing value (the row has 3 fields)",
        "line 4, column T5: missing value (the row has 3 fields)",
        "line 4, column elapsed_s: missing value (the row has 3 fields)",
        "line 4, column cost_usd: missing value (the row has 3 fields)",
        "line 4, column total_tokens: missing value (the row has 3 fields)",
        "line 5, column elapsed_s: '-1' must be at least 0",
        "line 5, column total_tokens: '1,00' is not a whole number of tokens "
        '(digits, optionally grouped like "22,179,194" in quotes)',
        "line 6, column model: empty value",
        "line 6, column total_tokens: '1_000' is not a whole number of tokens "
        '(digits, optionally grouped like "22,179,194" in quotes)',
    ]
    message = str(caught.value)
    assert message.startswith("scores.csv: 13 problems")
    assert "line 3, column T1" in message
    assert isinstance(caught.value, RampError)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "the file is empty; a header row is required"),
        (HEADER, "no data rows after the header"),
        ("gpt,100,100\n", "line 1: the header row lacks columns model, T0"),
        ("model,T0,T0,T1,T2,T3,T4,T5,elapsed_s,cost_usd,total_tokens\n", "column T0: the header"),
        (HEADER + 'a,"1\n', "malformed CSV"),
        (HEADER + "a,nan,0,0,0,0,0,1,1,1\n", "line 2, column T0: 'nan' is not a number"),
        (HEADER + "a,0,0,0,0,0,0,1e999,1,1\n", "line 2, column elapsed_s: '1e999' is too large"),
    ],
)
def test_malformed_tables(text: str, expected: str) -> None:
    with pytest.raises(TableError, match=expected.replace("[", r"\[")):
        parse_table(text)


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(TableError, match="cannot read the file"):
        read_table(tmp_path / "missing.csv")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(TableError, match="not UTF-8"):
        read_table(binary)
