"""`ramp-grade usage import|report|show|pricing`: in-process through click, and once through
the installed console script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.ledger import Ledger
from tests.grader.usage.transcripts import claude_assistant, new_run, write_jsonl

BIN = Path(sys.executable).parent


class Ran:
    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def grade(*argv: str, ledger: str) -> Ran:
    result = CliRunner().invoke(main, ["usage", *argv, "--ledger", ledger])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Ran(result.exit_code, result.stdout, result.stderr)


def test_the_console_script_runs(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    with Ledger.open(url) as ledger:
        run = ledger.create_run(
            agent="a", model="m", workspace="/tmp", sandbox="bwrap", golden_key="g"
        )
    script = subprocess.run(
        [str(BIN / "ramp-grade"), "usage", "show", run.id, "--json", "--ledger", url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert script.returncode == 0, script.stderr
    assert json.loads(script.stdout)["tokens"]["reports"] == 0


@pytest.fixture
def run_id(ledger: Ledger) -> str:
    return new_run(ledger, "claude-code", "claude-opus-4-7").id


def test_import_report_and_show(fresh_url: str, run_id: str, tmp_path: Path) -> None:
    transcript = write_jsonl(
        tmp_path / "session.jsonl",
        [
            claude_assistant(
                "msg_1",
                uuid="a",
                at="2026-11-25T10:00:00Z",
                uncached=100,
                cache_read=900,
                output=10,
            ),
            claude_assistant(
                "msg_1",
                uuid="b",
                at="2026-11-25T10:00:01Z",
                uncached=100,
                cache_read=900,
                output=50,
            ),
            "{broken",
        ],
    )
    imported = grade("import", run_id, "--claude-code", str(transcript), "--json", ledger=fresh_url)
    assert imported.returncode == 0, imported.stderr
    (report,) = json.loads(imported.stdout)["imports"]
    assert (report["records_added"], report["lines_merged"]) == (1, 1)
    assert [p["line"] for p in report["problems"]] == [3]
    strict = grade("import", run_id, "--claude-code", str(transcript), "--strict", ledger=fresh_url)
    assert strict.returncode == 2
    assert "0 records added" in strict.stdout and f"{transcript}:3: not valid JSON" in strict.stderr

    live = grade(
        "report",
        run_id,
        "--model",
        "gpt-5.5",
        "--input-tokens",
        "1000",
        "--cached-input-tokens",
        "400",
        "--output-tokens",
        "50",
        "--id",
        "call-1",
        "--json",
        ledger=fresh_url,
    )
    assert live.returncode == 0, live.stderr
    assert json.loads(live.stdout) == {"run_id": run_id, "stored": True}
    again = grade("report", run_id, "--input-tokens", "1000", "--id", "call-1", ledger=fresh_url)
    assert again.returncode == 0 and "already stored" in again.stdout

    shown = grade("show", run_id, "--json", ledger=fresh_url)
    assert shown.returncode == 0, shown.stderr
    usage = json.loads(shown.stdout)
    assert usage["tokens"]["reports"] == 2
    assert usage["tokens"]["input"] == 1000 + 1000
    assert usage["tokens"]["output"] == 100
    expected = (100 * 5 + 900 * 0.5 + 50 * 25 + 600 * 5 + 400 * 0.5 + 50 * 30) / 1e6
    assert usage["cost_usd"] == pytest.approx(expected) and usage["cost_source"] == "priced"
    table = grade("show", run_id, ledger=fresh_url)
    assert table.returncode == 0 and "claude-opus-4-7" in table.stdout and "gpt-5.5" in table.stdout


def test_pricing_override_on_show(fresh_url: str, run_id: str, tmp_path: Path) -> None:
    grade(
        "report",
        run_id,
        "--model",
        "house-model",
        "--input-tokens",
        "1000000",
        "--id",
        "x",
        ledger=fresh_url,
    )
    unknown = json.loads(grade("show", run_id, "--json", ledger=fresh_url).stdout)
    assert unknown["cost_usd"] is None and unknown["unpriced_models"] == ["house-model"]
    prices = tmp_path / "prices.toml"
    prices.write_text(
        'version = "house"\n[models."house-model"]\ninput = 2\ncached_input = 0.2\noutput = 8\n'
    )
    priced = json.loads(
        grade("show", run_id, "--pricing", str(prices), "--json", ledger=fresh_url).stdout
    )
    assert (
        priced["cost_usd"] == pytest.approx(2.0) and priced["pricing_version"] == "2026-11-25+house"
    )
    listed = subprocess.run(
        [str(BIN / "ramp-grade"), "usage", "pricing", "--pricing", str(prices), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert json.loads(listed.stdout)["models"]["house-model"]["output"] == 8.0


def test_bad_input_exits_2_with_the_reason(fresh_url: str, run_id: str, tmp_path: Path) -> None:
    nothing = grade("import", run_id, ledger=fresh_url)
    assert nothing.returncode == 2 and "nothing to import" in nothing.stderr
    missing = grade("import", run_id, "--codex", str(tmp_path / "nope.jsonl"), ledger=fresh_url)
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    unknown = grade("show", "r-0000000000", ledger=fresh_url)
    assert unknown.returncode == 2 and "not in the ledger" in unknown.stderr
    invalid = grade(
        "report", run_id, "--input-tokens", "5", "--cached-input-tokens", "9", ledger=fresh_url
    )
    assert invalid.returncode == 2 and "exceed input_tokens" in invalid.stderr
    bad_prices = tmp_path / "bad.toml"
    bad_prices.write_text("[models.x\n")
    priced = grade("show", run_id, "--pricing", str(bad_prices), ledger=fresh_url)
    assert priced.returncode == 2 and "not valid TOML" in priced.stderr
