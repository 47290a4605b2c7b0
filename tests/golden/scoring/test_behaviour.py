"""T3/T5 behaviour and T4 performance, on programs really built and run with clang 19."""

from __future__ import annotations

from typing import Any

import pytest

from golden.scoring import (
    GoldenArtifactError,
    RunOutcome,
    counts_in_mean,
    paper_score,
    paper_stage_score,
    score_behaviour,
    score_program,
    score_t4,
    score_t4_gate,
    speedup_share,
)

SECRET = b"RAMP-DISTINCTIVE-EXPECTED-OUTPUT-4242\n"


@pytest.fixture(scope="module")
def expected(clang: Any, program: str) -> RunOutcome:
    run: RunOutcome = clang.run(program)
    assert (run.stdout, run.exit_code) == (b"7", 6)
    return run


def test_matching_run_scores_100(expected: RunOutcome) -> None:
    result = score_behaviour(b"7", 6, expected)
    assert result.score == 100.0
    assert result.diagnosis == "stdout and exit code match"


def test_wrong_exit_code_scores_0(clang: Any, program: str) -> None:
    run = clang.run(program.replace("b - 1", "b - 2"))
    result = score_behaviour(b"7", 6, run)
    assert result.score == 0.0
    assert result.diagnosis == "exit code 5, expected another value"
    assert "6" not in result.diagnosis


def test_wrong_stdout_scores_0(clang: Any, program: str) -> None:
    run = clang.run(program.replace("putint(b);", "putint(b); putch(10); putint(b);"))
    result = score_behaviour(b"7", 6, run)
    assert result.score == 0.0
    assert result.diagnosis == "stdout differs at byte 1 (line 1)"


def test_stdout_offset_and_line_are_the_agents(clang: Any) -> None:
    run = clang.run(
        "int main() {\n  putint(12); putch(10); putint(345); putch(10);\n  return 0;\n}\n"
    )
    result = score_behaviour(b"12\n346\n", 0, run)
    assert result.diagnosis == "stdout differs at byte 5 (line 2)"


def test_timeout_scores_0(clang: Any) -> None:
    run = clang.run(
        "int main() {\n  int i = 0;\n  while (1) { i = i + 1; }\n  return i;\n}\n", timeout=1
    )
    assert run.timed_out
    result = score_behaviour(b"", 0, run)
    assert (result.score, result.diagnosis) == (0.0, "timed out")


def test_build_failure_scores_0_with_first_diagnostic_line(clang: Any) -> None:
    run = clang.run("int main() {\n  return 0\n}\n")
    assert not run.build_ok
    result = score_behaviour(b"", 0, run)
    assert result.score == 0.0
    assert result.diagnosis.startswith("build failed: x.sy:2:11: error: expected ';'")
    long = RunOutcome(build_ok=False, build_diagnostic="\n" + "e" * 1000 + "\nsecond")
    assert score_behaviour(b"", 0, long).diagnosis == "build failed: " + "e" * 200


def test_missing_exit_code_scores_0() -> None:
    run = RunOutcome(stdout=b"7", exit_code=None, detail="killed by signal 9")
    result = score_behaviour(b"7", 6, run)
    assert (result.score, result.diagnosis) == (0.0, "no exit code (killed by signal 9)")


def test_diagnosis_never_reveals_expected_output(clang: Any, program: str) -> None:
    for run in (clang.run(program), RunOutcome(stdout=SECRET[:10], exit_code=1)):
        result = score_behaviour(SECRET, 217, run)
        assert result.score == 0.0
        shown = result.diagnosis + repr(result.details)
        assert "DISTINCTIVE" not in shown and "RAMP-" not in shown and "217" not in shown


def test_t4_scores_the_share_of_the_log_speedup(expected: RunOutcome) -> None:
    # baseline 8M, reference 1M: 2M is two thirds of the way (in log) from 8M to 1M
    result = score_t4(b"7", 6, expected, 1_000_000, 2_000_000, baseline_instructions=8_000_000)
    assert result.score == round(100 * 2 / 3, 4) == 66.6667
    assert result.details == {
        "reference_instructions": 1_000_000,
        "baseline_instructions": 8_000_000,
        "agent_instructions": 2_000_000,
        "ratio": 0.5,
        "paper_score": 70.7107,
        "formula": "speedup-share",
        "speedup_share": 66.6667,
    }
    assert "66.7% of the log speed-up" in result.diagnosis
    assert "would give 70.7" in result.diagnosis


def test_t4_unchanged_scores_0_clang_100_and_clips(expected: RunOutcome) -> None:
    def score(agent: int) -> float:
        return score_t4(b"7", 6, expected, 1000, agent, baseline_instructions=4000).score

    assert score(4000) == 0.0, "the input handed back unchanged"
    assert score(9000) == 0.0, "slower than the input: clipped"
    assert score(2000) == 50.0
    assert score(1000) == 100.0
    assert score(10) == 100.0, "faster than clang: clipped"


def test_t4_a_lower_count_never_scores_lower(expected: RunOutcome) -> None:
    scores = [
        score_t4(b"7", 6, expected, 1000, n, baseline_instructions=5000).score
        for n in range(6000, 500, -137)
    ]
    assert scores == sorted(scores)
    assert scores[0] == 0.0 and scores[-1] == 100.0


def test_t4_paper_formula_where_clang_barely_beats_the_input(expected: RunOutcome) -> None:
    result = score_t4(b"7", 6, expected, 1000, 2000, baseline_instructions=1040)
    assert result.score == round(100 / 2**0.5, 4) == 70.7107
    assert result.details["formula"] == "paper"
    assert paper_score(1000, 500) == 100.0


def test_speedup_share_needs_room() -> None:
    assert speedup_share(4000, 1000, 1000) == 100.0
    with pytest.raises(ValueError, match="no speed-up"):
        speedup_share(1000, 1000, 900)


def test_t4_gate_passes_right_and_counts_wrong(clang: Any, program: str) -> None:
    right = score_t4_gate(b"7", 6, clang.run(program))
    assert right.score == 100.0 and right.details == {"gate": "passed"}
    assert not counts_in_mean(right.details)
    wrong = score_t4_gate(b"7", 6, clang.run(program.replace("putint(b);", "putint(a);")))
    assert wrong.score == 0.0 and wrong.details["gate"] == "failed"
    assert counts_in_mean(wrong.details)
    mistimed = score_t4_gate(b"7", 6, clang.run(program), timer_calls=("S3@0 T5@1", None))
    assert mistimed.score == 0.0 and "timer calls differ" in mistimed.diagnosis
    assert counts_in_mean(mistimed.details)
    assert counts_in_mean({}) and counts_in_mean({"ratio": 0.5})


def test_programs_must_make_the_golden_timer_calls(clang: Any, program: str) -> None:
    run = clang.run(program)
    assert score_program(b"7", 6, run, timer_calls=("S3@0 T5@1", "S3@0 T5@1")).score == 100.0
    assert score_program(b"7", 6, run, timer_calls=(None, None)).score == 100.0
    for made in (None, "S3@0", "S3@0 T6@1", "S3@1 T5@1", "T5@1 S3@0"):
        result = score_program(b"7", 6, run, timer_calls=("S3@0 T5@1", made))
        assert result.score == 0.0, made
        assert (
            "expected S3@0 T5@1" in result.diagnosis
            and f"made {made or 'none'}" in result.diagnosis
        )
    extra = score_program(b"7", 6, run, timer_calls=(None, "S3@0 T5@1"))
    assert extra.score == 0.0 and "expected none" in extra.diagnosis
    wrong = score_program(b"8", 6, run, timer_calls=("S3@0 T5@1", None))
    assert wrong.diagnosis.startswith("stdout differs"), "behaviour is diagnosed first"


def test_t4_wrong_output_scores_0(clang: Any, program: str) -> None:
    run = clang.run(program.replace("putint(b);", "putint(a);"))
    result = score_t4(b"7", 6, run, 1000, 10, baseline_instructions=4000)
    assert (result.score, result.diagnosis) == (0.0, "stdout differs at byte 0 (line 1)")


def test_t4_measurement_failure_scores_0(expected: RunOutcome) -> None:
    for count in (None, 0, -5):
        result = score_t4(b"7", 6, expected, 1000, count, baseline_instructions=4000)
        assert (result.score, result.diagnosis) == (0.0, "instruction count measurement failed")


def test_t4_rejects_a_bad_reference(expected: RunOutcome) -> None:
    with pytest.raises(GoldenArtifactError):
        score_t4(b"7", 6, expected, 0, 10, baseline_instructions=4000)
    with pytest.raises(GoldenArtifactError, match="rebuild the golden"):
        score_t4(b"7", 6, expected, 1000, 10, baseline_instructions=0)


def test_paper_stage_score_is_over_the_scored_cases() -> None:
    measured: dict[str, float | int | str] = {
        "baseline_instructions": 4000,
        "reference_instructions": 1000,
    }
    cases: list[dict[str, float | int | str]] = [
        measured | {"paper_score": 80.0},
        measured,
        {"gate": "passed"},
        {"gate": "failed"},
    ]
    assert paper_stage_score(cases) == round(80.0 / 3, 4), "the wrong checked case is a 0"
    assert paper_stage_score([{"gate": "passed"}, {}]) is None
    assert paper_stage_score([]) is None
