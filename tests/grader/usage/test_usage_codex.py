"""Codex rollouts into the real ledger: token_count events, deduplicated, priced."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.ledger import Ledger, Run
from grader.usage import import_codex, run_usage
from tests.grader.usage.transcripts import (
    codex_line,
    codex_token_count,
    codex_usage,
    new_run,
    write_jsonl,
)

THREAD = "019a7c2e-55aa-7d10-b0c1-3e9f00c0ffee"


@pytest.fixture
def run(ledger: Ledger) -> Run:
    return new_run(ledger, "codex", "gpt-5.5")


def _rollout() -> list[dict[str, object]]:
    t1 = codex_usage(20_000, 0, 900, 600)
    t2 = codex_usage(20_000 + 24_000, 19_000, 900 + 1_500, 600 + 1_000)
    t3 = codex_usage(44_000 + 30_000, 19_000 + 23_500, 2_400 + 300, 1_600 + 0)
    return [
        codex_line(
            "2026-11-25T10:00:00.000Z",
            "session_meta",
            {
                "id": THREAD,
                "timestamp": "2026-11-25T10:00:00.000Z",
                "cwd": "/app",
                "originator": "codex_exec",
                "cli_version": "0.63.0",
                "instructions": None,
                "model_provider": "openai",
            },
        ),
        codex_line(
            "2026-11-25T10:00:00.100Z",
            "turn_context",
            {"cwd": "/app", "approval_policy": "never", "model": "gpt-5.5", "summary": "auto"},
        ),
        codex_line(
            "2026-11-25T10:00:00.200Z",
            "response_item",
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "go"}]},
        ),
        codex_token_count("2026-11-25T10:00:01.000Z", None, None),  # rate limits only
        codex_token_count("2026-11-25T10:00:05.000Z", t1, t1),
        codex_token_count("2026-11-25T10:00:05.100Z", t1, t1),  # the same event again
        codex_line(
            "2026-11-25T10:00:06.000Z",
            "response_item",
            {
                "type": "function_call",
                "name": "mcp__ramp__build",
                "arguments": "{}",
                "call_id": "c1",
            },
        ),
        codex_token_count(
            "2026-11-25T10:00:20.000Z", t2, codex_usage(24_000, 19_000, 1_500, 1_000)
        ),
        codex_token_count("2026-11-25T10:00:40.000Z", t3, codex_usage(30_000, 23_500, 300, 0)),
        codex_line(
            "2026-11-25T10:01:00.000Z",
            "event_msg",
            {
                "type": "error",
                "message": "Your input exceeds the context window of this model. Please adjust your input and try again.",
                "codex_error_info": "context_window_exceeded",
            },
        ),
    ]


def test_token_counts_are_summed_once_with_cache_and_reasoning(
    ledger: Ledger, run: Run, tmp_path: Path
) -> None:
    rollout = write_jsonl(tmp_path / f"rollout-2026-11-25T10-00-00-{THREAD}.jsonl", _rollout())
    report = import_codex(ledger, run.id, rollout)
    assert report.added_by_kind == {"error": 1, "tokens": 3}
    assert report.lines_merged == 1 and report.ok
    usage = run_usage(ledger, run.id)
    tokens = usage.tokens
    # The records sum exactly to the session's final cumulative total.
    assert (tokens.reports, tokens.input, tokens.cache_read, tokens.output, tokens.reasoning) == (
        3,
        74_000,
        42_500,
        2_700,
        1_600,
    )
    assert tokens.total == 74_000 + 2_700 + 1_600 + 42_500
    calls = [(20_000, 0, 900), (24_000, 19_000, 1_500), (30_000, 23_500, 300)]
    expected = sum(((i - c) * 5.00 + c * 0.50 + o * 30.00) / 1e6 for i, c, o in calls)
    assert usage.cost_usd == pytest.approx(expected) and usage.cost_source == "priced"
    assert [m.model for m in usage.models] == ["gpt-5.5"] and usage.models[0].provider == "openai"
    assert usage.errors == {"context_length": 1}
    events = [e for e in ledger.usage_events(run.id) if e.kind == "tokens"]
    assert {e.conversation_id for e in events} == {THREAD}
    assert import_codex(ledger, run.id, rollout).records_added == 0
    assert run_usage(ledger, run.id) == usage


def test_last_token_usage_alone_counts_each_call(ledger: Ledger, run: Run, tmp_path: Path) -> None:
    rollout = write_jsonl(
        tmp_path / "rollout.jsonl",
        [
            codex_line("2026-11-25T10:00:00Z", "turn_context", {"model": "gpt-5.4"}),
            codex_token_count("2026-11-25T10:00:01Z", None, codex_usage(1000, 200, 50, 10)),
            codex_token_count("2026-11-25T10:00:02Z", None, codex_usage(1000, 200, 50, 10)),
        ],
    )
    report = import_codex(ledger, run.id, rollout)
    assert report.records_added == 2
    usage = run_usage(ledger, run.id)
    assert (usage.tokens.input, usage.tokens.cache_read, usage.tokens.output) == (2000, 400, 100)


def test_malformed_token_counts_are_reported(ledger: Ledger, run: Run, tmp_path: Path) -> None:
    good = codex_usage(10, 0, 5, 0)
    rollout = write_jsonl(
        tmp_path / "rollout.jsonl",
        [
            codex_token_count("2026-11-25T10:00:01Z", {**good, "output_tokens": -3}, good),
            codex_line("2026-11-25T10:00:02Z", "event_msg", {"type": "token_count", "info": "x"}),
            codex_token_count("2026-11-25T10:00:03Z", good, good),
        ],
    )
    report = import_codex(ledger, run.id, rollout)
    assert [p.line for p in report.problems] == [1, 2]
    assert "output_tokens is -3" in report.problems[0].problem
    assert report.records_added == 1


def test_a_full_context_window_becomes_a_context_error(
    ledger: Ledger, run: Run, tmp_path: Path
) -> None:
    before = codex_usage(250_000, 200_000, 4_000, 1_000)
    full = {
        "input_tokens": 0,
        "cached_input_tokens": 0,
        "output_tokens": 0,
        "reasoning_output_tokens": 0,
        "total_tokens": 272_000,
    }
    rollout = write_jsonl(
        tmp_path / "rollout.jsonl",
        [
            codex_line("2026-11-25T10:00:00Z", "session_meta", {"id": THREAD}),
            codex_token_count("2026-11-25T10:00:01Z", before, before),
            codex_token_count("2026-11-25T10:00:09Z", full, {**full, "total_tokens": 18_000}),
        ],
    )
    report = import_codex(ledger, run.id, rollout)
    assert report.added_by_kind == {"error": 1, "tokens": 1}
    usage = run_usage(ledger, run.id)
    assert usage.errors == {"context_length": 1} and usage.tokens.input == 250_000
