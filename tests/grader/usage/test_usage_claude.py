"""Claude Code transcripts into the real ledger (SQLite and PostgreSQL)."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest

from grader.ledger import Ledger, Run
from grader.usage import import_claude_code, run_usage
from tests.grader.usage.transcripts import (
    SESSION,
    claude_api_error,
    claude_assistant,
    claude_user,
    new_run,
    write_jsonl,
)


@pytest.fixture
def run(ledger: Ledger) -> Run:
    return new_run(ledger, "claude-code", "claude-opus-4-7")


def _one_response_in_three_lines() -> list[dict[str, object]]:
    """msg_A streamed as thinking, text, tool_use; output grows to its final 420."""
    msg_a = partial(claude_assistant, "msg_A", uncached=12, cache_read=40_000, cache_write=1_500)
    return [
        claude_user("u-1", "2026-11-25T10:00:00.000Z"),
        msg_a(
            uuid="a-1",
            at="2026-11-25T10:00:03.000Z",
            output=8,
            block={"type": "thinking", "thinking": "plan"},
        ),
        msg_a(uuid="a-2", at="2026-11-25T10:00:04.000Z", output=150),
        msg_a(
            uuid="a-3",
            at="2026-11-25T10:00:05.000Z",
            output=420,
            block={"type": "tool_use", "id": "toolu_1", "name": "mcp__ramp__build", "input": {}},
        ),
        claude_user("u-2", "2026-11-25T10:00:09.000Z", "tool result"),
        claude_assistant(
            "msg_B",
            uuid="b-1",
            at="2026-11-25T10:00:12.000Z",
            uncached=3,
            cache_read=41_600,
            cache_write=200,
            output=77,
        ),
    ]


def test_one_record_per_message_id_with_cache_tokens(
    ledger: Ledger, run: Run, tmp_path: Path
) -> None:
    transcript = write_jsonl(tmp_path / f"{SESSION}.jsonl", _one_response_in_three_lines())
    report = import_claude_code(ledger, run.id, transcript)
    assert (report.lines_read, report.records_added, report.lines_merged) == (6, 2, 2)
    assert report.problems == [] and report.ok
    events = {e.dedup_key: e for e in ledger.usage_events(run.id)}
    first = events["claude:msg:msg_A"]
    # Input counts the whole prompt, cached and cache-written tokens included (OTel).
    assert (
        first.input_tokens,
        first.cache_read_input_tokens,
        first.cache_creation_input_tokens,
    ) == (
        12 + 40_000 + 1_500,
        40_000,
        1_500,
    )
    assert first.output_tokens == 420  # the final line's count, once
    assert (first.request_model, first.provider, first.conversation_id) == (
        "claude-opus-4-7",
        "anthropic",
        SESSION,
    )
    usage = run_usage(ledger, run.id)
    assert usage.tokens.reports == 2
    assert usage.tokens.input == 41_512 + 41_803
    assert usage.tokens.cache_read == 81_600 and usage.tokens.cache_write == 1_700
    assert usage.tokens.output == 497
    assert usage.tokens.total == usage.tokens.input + 497 + 0 + 81_600  # the paper's count
    assert usage.tokens.unique_total == usage.tokens.input + 497


def test_importing_twice_changes_nothing(ledger: Ledger, run: Run, tmp_path: Path) -> None:
    transcript = write_jsonl(tmp_path / "t.jsonl", _one_response_in_three_lines())
    first = import_claude_code(ledger, run.id, transcript)
    before = run_usage(ledger, run.id)
    rows = len(ledger.usage_events(run.id))
    again = import_claude_code(ledger, run.id, transcript)
    assert (again.records_added, again.duplicates_skipped, again.records_updated) == (
        0,
        first.records_added,
        0,
    )
    assert len(ledger.usage_events(run.id)) == rows
    assert run_usage(ledger, run.id) == before


def test_subagent_transcripts_and_sidechains_are_counted(
    ledger: Ledger, run: Run, tmp_path: Path
) -> None:
    projects = tmp_path / "projects" / "-app"
    subagent = partial(
        claude_assistant, model="claude-haiku-4-5", sidechain=True, agent_id="a1b2c3"
    )
    write_jsonl(
        projects / f"{SESSION}.jsonl",
        [
            claude_assistant(
                "msg_main", uuid="m-1", at="2026-11-25T10:00:00Z", uncached=5, output=10
            ),
            claude_assistant(
                "msg_side",
                uuid="s-1",
                at="2026-11-25T10:00:01Z",
                uncached=7,
                output=20,
                sidechain=True,
            ),
        ],
    )
    write_jsonl(
        projects / SESSION / "subagents" / "agent-a1b2c3.jsonl",
        [
            subagent("msg_sub1", uuid="x-1", at="2026-11-25T10:00:02Z", uncached=100, output=30),
            subagent("msg_sub1", uuid="x-2", at="2026-11-25T10:00:03Z", uncached=100, output=31),
            subagent("msg_sub2", uuid="x-3", at="2026-11-25T10:00:04Z", uncached=200, output=40),
        ],
    )
    report = import_claude_code(ledger, run.id, tmp_path / "projects")
    assert len(report.files) == 2 and report.records_added == 4 and report.lines_merged == 1
    usage = run_usage(ledger, run.id)
    by_model = {m.model: m for m in usage.models}
    assert by_model["claude-haiku-4-5"].tokens.reports == 2
    assert by_model["claude-haiku-4-5"].tokens.output == 71
    assert by_model["claude-opus-4-7"].tokens.output == 30
    # A resumed session copies earlier lines into its new file: still counted once.
    write_jsonl(
        projects / "resumed.jsonl",
        [
            claude_assistant(
                "msg_main", uuid="m-1", at="2026-11-25T10:00:00Z", uncached=5, output=10
            )
        ],
    )
    assert import_claude_code(ledger, run.id, tmp_path / "projects").records_added == 0


def test_bad_lines_are_reported_and_good_ones_kept(
    ledger: Ledger, run: Run, tmp_path: Path
) -> None:
    broken_usage = claude_assistant(
        "msg_2", uuid="a-2", at="2026-11-25T10:00:02Z", uncached=1, output=1
    )
    broken_usage["message"]["usage"]["output_tokens"] = "many"
    transcript = write_jsonl(
        tmp_path / "t.jsonl",
        [
            claude_assistant("msg_1", uuid="a-1", at="2026-11-25T10:00:01Z", uncached=10, output=5),
            '{"type": "assistant", "message": {"id": "msg_cut',  # cut short while being written
            broken_usage,
            "[1, 2, 3]",
            "Traceback (most recent call last): not JSON at all",
            claude_assistant("msg_3", uuid="a-3", at="2026-11-25T10:00:03Z", uncached=20, output=6),
        ],
    )
    report = import_claude_code(ledger, run.id, transcript)
    assert [p.line for p in report.problems] == [2, 3, 4, 5]
    assert "not valid JSON" in report.problems[0].problem and report.problems[0].fix
    assert "output_tokens is 'many'" in report.problems[1].problem
    assert report.records_added == 2 and not report.ok
    assert {e.dedup_key for e in ledger.usage_events(run.id)} == {
        "claude:msg:msg_1",
        "claude:msg:msg_3",
    }


def test_invalid_utf8_line_is_a_problem_not_a_crash(
    ledger: Ledger, run: Run, tmp_path: Path
) -> None:
    good = write_jsonl(
        tmp_path / "t.jsonl",
        [claude_assistant("msg_1", uuid="a-1", at="2026-11-25T10:00:01Z", uncached=10, output=5)],
    )
    with good.open("ab") as out:
        out.write(b'{"type": "user", "text": "\xff\xfe"}\n')
    report = import_claude_code(ledger, run.id, good)
    assert [p.line for p in report.problems] == [2] and report.records_added == 1


def test_a_transcript_imported_while_written_grows_on_reimport(
    ledger: Ledger, run: Run, tmp_path: Path
) -> None:
    lines = _one_response_in_three_lines()
    partial = write_jsonl(tmp_path / "t.jsonl", lines[:2])  # only msg_A's first line so far
    assert import_claude_code(ledger, run.id, partial).records_added == 1
    assert run_usage(ledger, run.id).tokens.output == 8
    full = write_jsonl(tmp_path / "t.jsonl", lines)
    report = import_claude_code(ledger, run.id, full)
    assert (report.records_added, report.duplicates_skipped, report.records_updated) == (1, 1, 1)
    assert run_usage(ledger, run.id).tokens.output == 420 + 77


def test_api_errors_become_evidence_not_tokens(ledger: Ledger, run: Run, tmp_path: Path) -> None:
    transcript = write_jsonl(
        tmp_path / "t.jsonl",
        [
            claude_assistant("msg_1", uuid="a-1", at="2026-11-25T10:00:01Z", uncached=10, output=5),
            claude_api_error(
                "e-1",
                "2026-11-25T10:05:00Z",
                'API Error: 400 {"type":"error","error":{"type":"invalid_request_error",'
                '"message":"prompt is too long: 208451 tokens > 200000 maximum"}}',
            ),
            claude_api_error("e-2", "2026-11-25T10:06:00Z", "API Error: Request was aborted."),
            claude_api_error(
                "n-3", "2026-11-25T10:07:00Z", "No response requested.", flagged=False
            ),
        ],
    )
    report = import_claude_code(ledger, run.id, transcript)
    assert report.added_by_kind == {"error": 2, "tokens": 1}
    errors = [e for e in ledger.usage_events(run.id) if e.kind == "error"]
    assert [(e.outcome, e.source) for e in errors] == [
        ("context_length", "claude_jsonl"),
        ("aborted", "claude_jsonl"),
    ]
    assert errors[0].detail is not None and "prompt is too long" in errors[0].detail
    usage = run_usage(ledger, run.id)
    assert usage.tokens.reports == 1 and usage.errors == {"aborted": 1, "context_length": 1}


def test_reported_cost_wins_over_the_price(ledger: Ledger, run: Run, tmp_path: Path) -> None:
    transcript = write_jsonl(
        tmp_path / "t.jsonl",
        [
            claude_assistant(
                "msg_1", uuid="a-1", at="2026-11-25T10:00:01Z", uncached=1000, output=100, cost=0.5
            ),
            claude_assistant(
                "msg_2", uuid="a-2", at="2026-11-25T10:00:02Z", uncached=1000, output=100
            ),
        ],
    )
    import_claude_code(ledger, run.id, transcript)
    usage = run_usage(ledger, run.id)
    priced = (1000 * 5.00 + 100 * 25.00) / 1e6  # claude-opus-4-7 from the shipped table
    assert usage.cost_reported_usd == pytest.approx(0.5)
    assert usage.cost_priced_usd == pytest.approx(priced)
    assert usage.cost_usd == pytest.approx(0.5 + priced)
    assert usage.cost_source == "mixed"


def test_stream_json_result_total_replaces_the_priced_responses(
    ledger: Ledger, run: Run, tmp_path: Path
) -> None:
    session = "0b5c2d31-7f4e-4e0a-8a55-2f6e9d0c1a77"
    init = {"type": "system", "subtype": "init", "session_id": session, "model": "claude-opus-4-7"}
    response = claude_assistant(
        "msg_9", uuid="a-9", at="2026-11-25T10:00:01Z", uncached=50, output=60, session=session
    )
    response["session_id"] = response.pop("sessionId")
    result = {
        "type": "result",
        "subtype": "error_max_turns",
        "is_error": True,
        "session_id": session,
        "uuid": "r-1",
        "num_turns": 40,
        "duration_ms": 912345,
        "total_cost_usd": 1.25,
        "modelUsage": {
            "claude-opus-4-7": {"inputTokens": 50, "outputTokens": 60, "costUSD": 1.0},
            "claude-haiku-4-5": {"inputTokens": 10, "outputTokens": 5, "costUSD": 0.25},
        },
    }
    stream = write_jsonl(tmp_path / "stream.jsonl", [init, response, result])
    report = import_claude_code(ledger, run.id, stream)
    assert report.added_by_kind == {"cost": 2, "error": 1, "tokens": 1}
    usage = run_usage(ledger, run.id)
    assert usage.cost_usd == pytest.approx(1.25) and usage.cost_source == "reported"
    assert usage.errors == {"max_turns": 1}
    assert {m.model: m.cost_usd for m in usage.models} == {
        "claude-haiku-4-5": pytest.approx(0.25),
        "claude-opus-4-7": pytest.approx(1.0),
    }


def test_a_missing_path_and_an_unknown_run_are_refused(
    ledger: Ledger, run: Run, tmp_path: Path
) -> None:
    from grader.ledger import RunNotFoundError
    from grader.usage import UsageInputError

    with pytest.raises(UsageInputError, match="does not exist"):
        import_claude_code(ledger, run.id, tmp_path / "missing.jsonl")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageInputError, match=r"no \*\.jsonl file"):
        import_claude_code(ledger, run.id, tmp_path / "empty")
    with pytest.raises(RunNotFoundError):
        import_claude_code(ledger, "r-0000000000", write_jsonl(tmp_path / "t.jsonl", []))
