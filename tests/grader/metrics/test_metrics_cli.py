"""`ramp-grade aei` through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from grader.metrics import aei_command


def test_json_output_of_the_published_rows(published_csv: Path) -> None:
    result = CliRunner().invoke(aei_command, ["--table", str(published_csv), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "rows": [
            {
                "model": "gpt-5.5",
                "tier": 3,
                "mean_reward": 65.91,
                "pipeline_score": 74.71,
                "pass_score": 66.67,
                "aei": 81.57,
                "stable_aei": 73.57,
            },
            {
                "model": "claude-opus-4-7",
                "tier": 3,
                "mean_reward": 93.39,
                "pipeline_score": 94.73,
                "pass_score": 94.44,
                "aei": 40.0,
                "stable_aei": 32.0,
            },
        ]
    }


def test_rich_table_output(published_csv: Path) -> None:
    result = CliRunner().invoke(aei_command, ["--table", str(published_csv)], terminal_width=160)
    assert result.exit_code == 0, result.output
    for text in ("gpt-5.5", "claude-opus-4-7", "65.91", "93.39", "81.57", "40.00", "T3"):
        assert text in result.stdout


def test_malformed_csv_names_line_and_column_and_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "model,T0,T1,T2,T3,T4,T5,elapsed_s,cost_usd,total_tokens\n"
        "ok,100,100,100,100,100,100,1,1,1\n"
        "broken,100,100,oops,100,100,100,1,1,1\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(aei_command, ["--table", str(bad), "--json"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "error:" in result.stderr
    assert "line 3, column T2: 'oops' is not a number" in result.stderr


def test_missing_file_and_missing_option_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(aei_command, ["--table", str(tmp_path / "nope.csv")])
    assert result.exit_code == 2
    assert "cannot read the file" in result.stderr
    assert CliRunner().invoke(aei_command, []).exit_code == 2
