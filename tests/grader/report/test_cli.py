"""``ramp-grade report`` and ``ramp-grade leaderboard`` through the real command line group."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.ledger import Ledger
from tests.grader.report.factory import TokenReport, make_run


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.sqlite3'}"


@pytest.fixture
def run_ids(url: str) -> list[str]:
    with Ledger.open(url) as ledger:
        return [
            make_run(
                ledger,
                agent="a",
                model="m",
                scores=[100, 50],
                tokens=[TokenReport(at_s=3, cost_usd=0.2)],
            ),
            make_run(
                ledger,
                agent="a",
                model="m",
                scores=[100, 100, 100],
                tokens=[TokenReport(at_s=3, cost_usd=0.9)],
            ),
            make_run(ledger, agent="b", model="n", scores=[0]),
        ]


def test_report_to_stdout_and_to_a_file(url: str, run_ids: list[str], tmp_path: Path) -> None:
    runner = CliRunner()
    shown = runner.invoke(main, ["report", *run_ids[:2], "--ledger", url])
    assert shown.exit_code == 0, shown.output
    assert "Stages" in shown.output and run_ids[1] in shown.output
    out = tmp_path / "out" / "report.json"
    written = runner.invoke(
        main, ["report", run_ids[0], "--ledger", url, "--format", "json", "-o", str(out)]
    )
    assert written.exit_code == 0, written.output
    payload = json.loads(out.read_text())
    assert [r["run"]["run_id"] for r in payload["runs"]] == [run_ids[0]]
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no temp left


def test_cohort_given_versus_all(url: str, run_ids: list[str]) -> None:
    runner = CliRunner()

    def cohort(*extra: str) -> list[str]:
        result = runner.invoke(
            main, ["report", run_ids[0], "--ledger", url, "--format", "json", *extra]
        )
        assert result.exit_code == 0, result.output
        runs: list[str] = json.loads(result.output)["runs"][0]["aei"]["cohort_runs"]
        return runs

    assert cohort("--cohort", "given") == [run_ids[0]]
    assert cohort() == [run_ids[0], run_ids[1]]  # the third run has no usage, so no AEI


def test_leaderboard_formats(url: str, run_ids: list[str], tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["leaderboard", "--ledger", url, "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["rows"]
    assert [(r["agent"], r["trials"]) for r in rows] == [("a", 2), ("b", 1)]
    page = tmp_path / "board.html"
    result = runner.invoke(
        main, ["leaderboard", "--ledger", url, "--format", "html", "-o", str(page)]
    )
    assert result.exit_code == 0 and page.read_text().startswith("<!DOCTYPE html>")
    term = runner.invoke(main, ["leaderboard", "--ledger", url])
    assert term.exit_code == 0 and "pass^k" in term.output


def test_bad_input_is_explained_and_writes_nothing(
    url: str, run_ids: list[str], tmp_path: Path
) -> None:
    runner = CliRunner()
    out = tmp_path / "report.md"
    out.write_text("the previous report")
    missing = runner.invoke(
        main, ["report", run_ids[0], "r-missing", "--ledger", url, "-o", str(out)]
    )
    assert missing.exit_code == 2
    assert "run 'r-missing' is not in the ledger" in missing.output
    assert "ramp-grade runs" in missing.output
    assert out.read_text() == "the previous report"  # nothing lost
    bad_prices = tmp_path / "prices.toml"
    bad_prices.write_text("[models.x]\ninput = 'cheap'\n")
    priced = runner.invoke(
        main, ["report", run_ids[0], "--ledger", url, "--pricing", str(bad_prices)]
    )
    assert priced.exit_code == 2 and str(bad_prices) in priced.output
    fmt = runner.invoke(main, ["report", run_ids[0], "--ledger", url, "--format", "pdf"])
    assert fmt.exit_code == 2 and "'pdf' is not one of" in fmt.output
    empty = runner.invoke(
        main, ["leaderboard", "--ledger", f"sqlite:///{tmp_path / 'empty.sqlite3'}"]
    )
    assert empty.exit_code == 2 and "holds no runs" in empty.output
