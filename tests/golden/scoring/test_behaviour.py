"""T3/T5 behaviour and T4 performance, on programs really built and run with clang 19."""

from __future__ import annotations

from typing import Any

import pytest

from golden.scoring import GoldenArtifactError, RunOutcome, score_behaviour, score_t4

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


def test_t4_noop_at_four_times_the_instructions_scores_50(expected: RunOutcome) -> None:
    result = score_t4(b"7", 6, expected, 1_000_000, 4_000_000)
    assert result.score == 50.0
    assert result.details == {
        "reference_instructions": 1_000_000,
        "agent_instructions": 4_000_000,
        "ratio": 0.25,
    }


def test_t4_formula_and_cap(expected: RunOutcome) -> None:
    assert score_t4(b"7", 6, expected, 1000, 1000).score == 100.0
    assert score_t4(b"7", 6, expected, 1000, 500).score == 100.0
    assert score_t4(b"7", 6, expected, 1000, 2000).score == round(100 / 2**0.5, 4) == 70.7107


def test_t4_wrong_output_scores_0(clang: Any, program: str) -> None:
    run = clang.run(program.replace("putint(b);", "putint(a);"))
    result = score_t4(b"7", 6, run, 1000, 10)
    assert (result.score, result.diagnosis) == (0.0, "stdout differs at byte 0 (line 1)")


def test_t4_measurement_failure_scores_0(expected: RunOutcome) -> None:
    for count in (None, 0, -5):
        result = score_t4(b"7", 6, expected, 1000, count)
        assert (result.score, result.diagnosis) == (0.0, "instruction count measurement failed")


def test_t4_rejects_a_bad_reference(expected: RunOutcome) -> None:
    with pytest.raises(GoldenArtifactError):
        score_t4(b"7", 6, expected, 0, 10)
