"""The generic JSONL format (docs/usage-format.md) and the live path, on the real ledger."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from grader.ledger import Ledger, Run, RunNotFoundError
from grader.usage import UsageRecord, import_jsonl, report_usage, run_usage
from tests.grader.usage.transcripts import new_run, write_jsonl

DOC = Path(__file__).resolve().parents[3] / "docs" / "usage-format.md"


@pytest.fixture
def run(ledger: Ledger) -> Run:
    return new_run(ledger, "harness", "mixed")


def _documented_example() -> list[str]:
    block = re.search(r"```jsonl\n(.*?)```", DOC.read_text(), re.DOTALL)
    assert block is not None, "docs/usage-format.md lost its example"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_the_documented_example_imports_as_documented(
    ledger: Ledger, run: Run, tmp_path: Path
) -> None:
    lines = _documented_example()
    path = tmp_path / "usage.jsonl"
    path.write_text("\n".join(lines) + "\n")
    report = import_jsonl(ledger, run.id, path)
    assert report.ok and report.added_by_kind == {"error": 1, "tokens": 3}
    records = [json.loads(line) for line in lines]
    usage = run_usage(ledger, run.id)
    tokens = [r for r in records if r.get("kind", "tokens") == "tokens"]
    assert usage.tokens.input == sum(r["input_tokens"] for r in tokens)
    assert usage.tokens.cache_read == sum(r.get("cached_input_tokens", 0) for r in tokens)
    assert usage.tokens.cache_write == sum(r.get("cache_write_tokens", 0) for r in tokens)
    assert usage.tokens.reasoning == 1500 and usage.errors == {"context_length": 1}
    # Call 2 reported its cost; calls 1 and 3 are priced from the shipped table.
    call1 = (200 * 5.00 + 14000 * 6.25 + 380 * 25.00) / 1e6
    call3 = (6000 * 5.00 + 24000 * 0.50 + 2000 * 30.00) / 1e6
    assert usage.cost_reported_usd == pytest.approx(0.04275)
    assert usage.cost_priced_usd == pytest.approx(call1 + call3)
    assert usage.cost_source == "mixed"
    assert import_jsonl(ledger, run.id, path).records_added == 0


def test_ids_and_identical_lines_deduplicate(ledger: Ledger, run: Run, tmp_path: Path) -> None:
    call = {
        "at": "2026-11-25T10:00:00Z",
        "model": "gpt-5.4",
        "input_tokens": 100,
        "output_tokens": 10,
    }
    path = write_jsonl(
        tmp_path / "u.jsonl",
        [
            {"id": "a", **call},
            {"id": "a", **call, "output_tokens": 10},  # a retried write of call a
            {"id": "b", **call},
            call,  # no id: keyed by its content
            call,
        ],
    )
    report = import_jsonl(ledger, run.id, path)
    assert (report.records_added, report.lines_merged) == (3, 2)
    assert run_usage(ledger, run.id).tokens.input == 300


def test_invalid_records_are_reported_with_their_line(
    ledger: Ledger, run: Run, tmp_path: Path
) -> None:
    at = "2026-11-25T10:00:00Z"
    path = write_jsonl(
        tmp_path / "u.jsonl",
        [
            {"id": "ok-1", "at": at, "model": "gpt-5.4", "input_tokens": 10, "output_tokens": 1},
            {"id": "x-2", "at": at, "input_tokens": 10, "cached_input_tokens": 50},
            {"id": "x-3", "at": at, "input_token": 10},
            {"id": "x-4", "input_tokens": 10},
            {"id": "x-5", "at": "2026-11-25T10:00:00", "input_tokens": 10},
            {"id": "x-6", "at": at, "output_tokens": -1},
            {"id": "x-7", "at": at, "kind": "error"},
            {"id": "ok-8", "at": at, "kind": "error", "error_type": "overloaded", "message": "529"},
        ],
    )
    report = import_jsonl(ledger, run.id, path)
    problems = {p.line: p.problem for p in report.problems}
    assert set(problems) == {2, 3, 4, 5, 6, 7}
    assert "exceed input_tokens" in problems[2]
    assert "input_token" in problems[3] and "Extra inputs" in problems[3]
    assert "no 'at'" in problems[4]
    assert "no time zone" in problems[5]
    assert "output_tokens" in problems[6]
    assert "error_type" in problems[7]
    assert all(p.fix for p in report.problems)
    assert report.added_by_kind == {"error": 1, "tokens": 1}


def test_live_reports_are_idempotent_by_id(ledger: Ledger, run: Run) -> None:
    record = UsageRecord(
        id="call-0042",
        model="claude-opus-4-7",
        input_tokens=15_100,
        cached_input_tokens=14_000,
        cache_write_tokens=900,
        output_tokens=1_210,
    )
    assert report_usage(ledger, run.id, record) is True
    assert report_usage(ledger, run.id, record) is False  # a retry
    events = ledger.usage_events(run.id)
    assert len(events) == 1 and events[0].source == "self_report"
    assert (datetime.now(UTC) - events[0].at).total_seconds() < 60
    # The same call written to a generic file later counts once.
    usage = run_usage(ledger, run.id)
    assert usage.tokens.input == 15_100 and usage.tokens.cache_write == 900
    assert usage.cost_usd == pytest.approx((200 * 5 + 14_000 * 0.5 + 900 * 6.25 + 1_210 * 25) / 1e6)


def test_live_and_file_share_keys(ledger: Ledger, run: Run, tmp_path: Path) -> None:
    at = datetime(2026, 11, 25, 10, tzinfo=UTC)
    report_usage(ledger, run.id, UsageRecord(id="c1", at=at, model="gpt-5.4", input_tokens=5))
    path = write_jsonl(
        tmp_path / "u.jsonl",
        [{"id": "c1", "at": "2026-11-25T10:00:00Z", "model": "gpt-5.4", "input_tokens": 5}],
    )
    assert import_jsonl(ledger, run.id, path).duplicates_skipped == 1


def test_bad_live_records_are_refused_before_the_ledger(ledger: Ledger, run: Run) -> None:
    with pytest.raises(ValidationError, match="reasoning_tokens"):
        UsageRecord(output_tokens=5, reasoning_tokens=9)
    with pytest.raises(ValidationError, match="no time zone"):
        UsageRecord(at=datetime(2026, 11, 25, 10), input_tokens=1)
    with pytest.raises(RunNotFoundError):
        report_usage(ledger, "r-0000000000", UsageRecord(input_tokens=1))
    assert ledger.usage_events(run.id) == []
