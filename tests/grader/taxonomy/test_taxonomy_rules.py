"""The taxonomy's rules on runs written row by row into the real ledger (SQLite and
PostgreSQL), transcripts imported through the real importers."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.ledger import Ledger, RunNotFoundError
from grader.taxonomy import Failure, case_class, diagnose_run
from grader.usage import import_claude_code
from tests.grader.taxonomy.scenario import Scenario
from tests.grader.usage.transcripts import claude_api_error, claude_assistant, write_jsonl

BUDGET_REASON = "the run's wall-clock budget of 3600 s ran out"
FAILED_REASON = "chained score 25.00 below 60 with no attempts left"


def _by_stage(failures: list[Failure]) -> dict[str | None, Failure]:
    return {f.stage: f for f in failures}


def test_a_completed_run_has_no_hard_stop_and_names_its_failed_stage(ledger: Ledger) -> None:
    run = Scenario(ledger)
    run.passed("T0", 0, 5)
    run.passed("T1", 5, 20)
    run.submit(
        "T2",
        at=40,
        score=25.0,
        cases=[
            ("c1", 100.0, "identical"),
            ("c2", 0.0, "line 3 differs at column 7 (2 of 41 lines differ)"),
            ("c3", 0.0, "line 1 differs at column 1 (41 of 41 lines differ)"),
            ("c4", 0.0, "line 3 differs at column 7 (2 of 41 lines differ)"),
            ("c5", 0.0, "bin/t2 failed: exited with status 1"),
        ],
    )
    run.stage("T2", "resurrected", opened=20, closed=40, score=25.0, attempts=1)
    run.resurrect("T2", FAILED_REASON, 40)
    for name, start in (("T3", 40), ("T4", 60), ("T5", 80)):
        run.passed(name, start, start + 20)
    run.finish(100)
    diagnosis = diagnose_run(ledger, run.id)
    assert diagnosis.hard_stop is None and not diagnosis.provisional
    (t2,) = diagnosis.stages
    assert (t2.stage, t2.category, t2.precise, t2.rule, t2.charged_to_model) == (
        "T2",
        "reasoning",
        "wrong_output",
        "S3",
        True,
    )
    assert "T2 submission" in t2.evidence[0] and "chained score 25.00" in t2.evidence[0]
    assert f"resurrected: {FAILED_REASON}" in t2.evidence
    assert any("1 crashed or wrote no output, 3 wrong output (of 5)" in e for e in t2.evidence)
    examples = [e for e in t2.evidence if e.startswith("e.g.")]
    assert examples == [
        "e.g. 'line 3 differs at column 7 (2 of 41 lines differ)'",
        "e.g. 'line 1 differs at column 1 (41 of 41 lines differ)'",
    ]
    assert diagnose_run(ledger, run.id) == diagnosis  # deterministic


def test_a_budget_that_runs_out_is_a_timeout(ledger: Ledger) -> None:
    run = Scenario(ledger, budget_s=3600)
    run.passed("T0", 0, 10)
    run.tool_calls([(12, "read_file", "ok"), (15, "build", "ok"), (20, "build", "error")])
    run.stage("T1", "resurrected", opened=10, closed=60, score=0.0)
    run.resurrect("T1", BUDGET_REASON, 60)
    run.finish(60)
    diagnosis = diagnose_run(ledger, run.id)
    stop = diagnosis.hard_stop
    assert stop is not None
    assert (stop.stage, stop.category, stop.precise, stop.rule, stop.charged_to_model) == (
        "T1",
        "reasoning",
        "timeout",
        "H5",
        True,
    )
    assert "tool calls while T1 was open: 3, errors 1 (build x1)" in stop.evidence
    assert f"T1 resurrected: {BUDGET_REASON}" in stop.evidence
    stages = _by_stage(diagnosis.stages)
    assert list(stages) == ["T1", "T2", "T3", "T4", "T5"]
    assert stages["T1"] == stop
    assert {(f.precise, f.rule, f.category) for s, f in stages.items() if s != "T1"} == {
        ("not_attempted", "S7", "reasoning")
    }


def test_an_idle_agent_that_runs_out_of_time_is_a_planning_failure(ledger: Ledger) -> None:
    run = Scenario(ledger, budget_s=3600)
    run.passed("T0", 0, 10)
    run.tool_calls([(5, "build", "ok")])  # during T0 only
    run.stage("T1", "resurrected", opened=10, closed=60, score=0.0)
    run.resurrect("T1", BUDGET_REASON, 60)
    run.finish(60)
    stop = diagnose_run(ledger, run.id).hard_stop
    assert stop is not None and (stop.category, stop.precise) == ("planning", "timeout")
    assert "no tool call while T1 was open" in stop.evidence


def _transcript(tmp_path: Path, *, answered_after_error: bool) -> Path:
    lines: list[dict[str, object] | str] = [
        claude_assistant(
            "msg_1",
            uuid="a1",
            at="2026-11-25T10:20:00Z",
            uncached=5,
            cache_read=150_000,
            output=900,
        ),
        claude_api_error(
            "e1",
            "2026-11-25T10:31:00Z",
            'API Error: 400 {"type":"error","error":{"type":"invalid_request_error",'
            '"message":"prompt is too long: 201344 tokens > 200000 maximum"}}',
        ),
    ]
    if answered_after_error:
        lines.append(
            claude_assistant(
                "msg_2",
                uuid="a2",
                at="2026-11-25T10:33:00Z",
                uncached=5,
                cache_read=40_000,
                output=300,
            )
        )
    return write_jsonl(tmp_path / "session.jsonl", lines)


def test_a_context_length_error_that_ended_the_conversation(ledger: Ledger, tmp_path: Path) -> None:
    run = Scenario(ledger)
    run.passed("T0", 0, 10)
    run.stage("T1", "open", opened=10)
    run.tool_calls([(15, "write_file", "ok"), (25, "build", "ok")])
    import_claude_code(ledger, run.id, _transcript(tmp_path, answered_after_error=False))
    diagnosis = diagnose_run(ledger, run.id)
    stop = diagnosis.hard_stop
    assert stop is not None and diagnosis.provisional
    assert (stop.stage, stop.category, stop.precise, stop.rule) == (
        "T1",
        "context",
        "context_length",
        "H4",
    )
    (error,) = [e for e in stop.evidence if e.startswith("transcript error context_length")]
    assert "prompt is too long: 201344 tokens > 200000 maximum" in error
    assert error.endswith("no model response after it")


def test_a_context_error_the_agent_recovered_from_decides_nothing(
    ledger: Ledger, tmp_path: Path
) -> None:
    run = Scenario(ledger)
    run.passed("T0", 0, 10)
    run.stage("T1", "open", opened=10)
    run.tool_calls([(15, "write_file", "ok")])
    import_claude_code(ledger, run.id, _transcript(tmp_path, answered_after_error=True))
    stop = diagnose_run(ledger, run.id).hard_stop
    assert stop is not None
    assert (stop.category, stop.precise, stop.rule) == ("planning", "not_attempted", "H10")
    assert "transcript errors in the run: context_length x1" in stop.evidence


def test_infrastructure_failures_are_never_charged_to_the_model(
    ledger: Ledger, tmp_path: Path
) -> None:
    run = Scenario(ledger)
    run.passed("T0", 0, 10)
    run.tool_calls([(12, "submit_stage", "error")])
    run.submit(
        "T1",
        at=12,
        status="error",
        error="golden artifacts could not be built: {'c1': 'clang-19 exited with status 137'}",
    )
    run.stage("T1", "open", opened=10)  # the machine gives the attempt back
    diagnosis = diagnose_run(ledger, run.id)
    stop = diagnosis.hard_stop
    assert stop is not None
    assert (stop.category, stop.precise, stop.rule, stop.charged_to_model) == (
        "infrastructure",
        "infrastructure_error",
        "H2",
        False,
    )
    assert any("golden artifacts could not be built" in e for e in stop.evidence)
    stages = _by_stage(diagnosis.stages)
    assert stages["T1"].rule == "S5" and not stages["T1"].charged_to_model
    assert all(not f.charged_to_model for f in diagnosis.stages)

    # A provider outage the agent never got past: infrastructure too.
    outage = Scenario(ledger)
    outage.passed("T0", 0, 10)
    outage.stage("T1", "open", opened=10)
    write_jsonl(
        tmp_path / "outage.jsonl",
        [
            claude_assistant("msg_9", uuid="b1", at="2026-11-25T10:12:00Z", uncached=5, output=9),
            claude_api_error(
                "e9",
                "2026-11-25T10:14:00Z",
                'API Error: 529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
            ),
        ],
    )
    import_claude_code(ledger, outage.id, tmp_path / "outage.jsonl")
    stop = diagnose_run(ledger, outage.id).hard_stop
    assert stop is not None and (stop.rule, stop.category, stop.charged_to_model) == (
        "H3",
        "infrastructure",
        False,
    )


def test_a_missing_build_sh_is_the_workspace_not_the_grader(ledger: Ledger) -> None:
    run = Scenario(ledger)
    run.tool_calls([(1, "submit_stage", "error")])
    run.submit(
        "T0",
        at=1,
        status="error",
        error="/runs/x/snapshot has no build.sh at its root; the workspace contract requires one",
    )
    run.stage("T0", "open", opened=0)
    stop = diagnose_run(ledger, run.id).hard_stop
    assert stop is not None
    assert (stop.category, stop.precise, stop.rule, stop.charged_to_model) == (
        "tooling_integration",
        "build_failure",
        "H1",
        True,
    )


def test_integrity_violation_and_build_failure(ledger: Ledger) -> None:
    run = Scenario(ledger)
    t0 = run.submit(
        "T0",
        at=5,
        score=0.0,
        cases=[("c1", 0.0, "the workspace was not graded (see the integrity findings)")],
    )
    run.finding("T0", "build-failed", "build.sh: exited with status 2", t0)
    run.stage("T0", "resurrected", opened=0, closed=5, score=0.0, attempts=1)
    t1 = run.submit(
        "T1", at=10, score=0.0, cases=[("c1", 0.0, "bin/t1 failed: exited with status 127")]
    )
    run.finding(
        "T1", "toolchain-call", "bin/t1 tried to run the reference toolchain (clang-19)", t1
    )
    run.stage("T1", "resurrected", opened=5, closed=10, score=0.0, attempts=1)
    run.stage("T2", "open", opened=10)
    stages = _by_stage(diagnose_run(ledger, run.id).stages)
    assert (stages["T0"].precise, stages["T0"].category, stages["T0"].rule) == (
        "build_failure",
        "tooling_integration",
        "S2",
    )
    assert (
        "build.sh failed on the submitted workspace: build.sh: exited with status 2"
        in stages["T0"].evidence
    )
    assert (stages["T1"].precise, stages["T1"].rule) == ("integrity_violation", "S1")
    assert any("toolchain-call" in e and "clang-19" in e for e in stages["T1"].evidence)


def test_nothing_from_the_agent_is_infrastructure(ledger: Ledger) -> None:
    run = Scenario(ledger)
    run.stage("T0", "open", opened=0)
    diagnosis = diagnose_run(ledger, run.id)
    assert diagnosis.hard_stop is not None
    assert (diagnosis.hard_stop.rule, diagnosis.hard_stop.charged_to_model) == ("H0", False)
    assert [f.stage for f in diagnosis.stages] == ["T0", "T1", "T2", "T3", "T4", "T5"]
    assert not any(f.charged_to_model for f in diagnosis.stages)


def test_malformed_tool_calls_and_giving_up_after_a_failure(ledger: Ledger) -> None:
    flailing = Scenario(ledger)
    flailing.stage("T0", "open", opened=0)
    flailing.tool_calls(
        [
            (1, "read_file", "error"),
            (2, "edit_file", "error"),
            (3, "edit_file", "error"),
            (4, "build", "ok"),
        ]
    )
    stop = diagnose_run(ledger, flailing.id).hard_stop
    assert stop is not None and (stop.category, stop.precise, stop.rule) == (
        "tooling_integration",
        None,
        "H9",
    )

    quitter = Scenario(ledger, attempts=2)
    quitter.tool_calls([(1, "build", "ok")])
    quitter.submit(
        "T0",
        at=3,
        score=10.0,
        cases=[("c1", 10.0, "line 2 differs at column 1 (9 of 10 lines differ)")],
    )
    quitter.stage("T0", "open", opened=0, score=10.0, attempts=1)
    stop = diagnose_run(ledger, quitter.id).hard_stop
    assert stop is not None
    assert (stop.category, stop.precise, stop.rule) == ("planning", "wrong_output", "H8")
    assert stop.evidence[0] == "the agent stopped after 1 failed attempt(s) at T0 with 1 left"


def test_turn_limits_and_aborts(ledger: Ledger, tmp_path: Path) -> None:
    limited = Scenario(ledger)
    limited.stage("T0", "open", opened=0)
    limited.tool_calls([(1, "build", "ok")])
    session = "8d6f7a9b-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
    result = {
        "type": "result",
        "subtype": "error_max_turns",
        "is_error": True,
        "session_id": session,
        "uuid": "r1",
        "timestamp": "2026-11-25T10:30:00Z",
    }
    response = claude_assistant(
        "msg_1", uuid="a1", at="2026-11-25T10:29:00Z", uncached=5, output=5, session=session
    )
    import_claude_code(
        ledger, limited.id, write_jsonl(tmp_path / "stream.jsonl", [response, result])
    )
    stop = diagnose_run(ledger, limited.id).hard_stop
    assert stop is not None and (stop.category, stop.precise, stop.rule) == (
        "reasoning",
        "budget_exhausted",
        "H6",
    )

    aborted = Scenario(ledger)
    aborted.stage("T0", "open", opened=0)
    aborted.tool_calls([(1, "build", "ok")])
    write_jsonl(
        tmp_path / "aborted.jsonl",
        [claude_api_error("e5", "2026-11-25T10:05:00Z", "Request was aborted.")],
    )
    import_claude_code(ledger, aborted.id, tmp_path / "aborted.jsonl")
    stop = diagnose_run(ledger, aborted.id).hard_stop
    assert stop is not None and (stop.rule, stop.charged_to_model) == ("H7", False)


@pytest.mark.parametrize(
    ("score", "diagnosis", "expected"),
    [
        (100.0, "identical", None),
        (0.0, "no input: the upstream stage failed (bin/t1 failed: timed out)", "no_input"),
        (0.0, "the workspace was not graded (see the integrity findings)", "not_graded"),
        (0.0, "build failed: out.ll:3:1: error: expected instruction opcode", "build_failure"),
        (0.0, "bin/t3 failed: timed out", "timeout"),
        (0.0, "timed out", "timeout"),
        (0.0, "bin/t1 failed: ended by SIGSEGV", "crash"),
        (0.0, "bin/t2 failed: killed: the command exceeded its memory limit", "crash"),
        (0.0, "bin/t1 wrote no output file", "crash"),
        (0.0, "no exit code (ended by SIGSEGV)", "crash"),
        (0.0, "stdout differs at byte 12 (line 2)", "wrong_output"),
        (0.0, "exit code 3, expected another value", "wrong_output"),
        (62.5, "line 4 differs at column 2 (3 of 8 lines differ)", "wrong_output"),
        (0.0, "produced 12 tokens, expected 14", "wrong_output"),
        (0.0, "instruction count measurement failed", "infrastructure_error"),
        (48.25, "183220 instructions, ratio 0.2328", "slow"),
    ],
)
def test_case_diagnoses_map_to_classes(score: float, diagnosis: str, expected: str | None) -> None:
    assert case_class(score, diagnosis) == expected


def test_an_unknown_run_is_refused(ledger: Ledger) -> None:
    with pytest.raises(RunNotFoundError):
        diagnose_run(ledger, "r-0000000000")
