"""The stage score: the mean over the cases that count (grader._grading._mean).

T4 scores the performance cases and only checks the functional and stress ones
(golden._stages.case_roles): a checked case found right is left out of the mean, a wrong
one counts as a 0 (golden/contracts/T4.md, "Stage score").
"""

from __future__ import annotations

from pathlib import Path

from golden import Case, CaseKind, CaseRole, Split, Stage, builtin_corpus, case_roles
from grader._grade_cli import report_json
from grader._grading import CaseOutcome, GradeReport, StageGrade, _mean


def _outcome(name: str, score: float, gate: str | None = None) -> CaseOutcome:
    details: dict[str, float | int | str] = {} if gate is None else {"gate": gate}
    return CaseOutcome(case=name, score=score, diagnosis="", details=details)


def test_right_checked_cases_are_left_out_and_wrong_ones_count_as_zero() -> None:
    outcomes = [
        _outcome("perf_a", 80.0),
        _outcome("perf_b", 60.0),
        _outcome("func_right", 100.0, "passed"),
        _outcome("func_wrong", 0.0, "failed"),
        _outcome("func_no_output", 0.0),  # the stage program failed on it: no gate detail
    ]
    assert _mean(outcomes) == round((80.0 + 60.0) / 4, 4) == 35.0
    assert _mean(outcomes[:3]) == 70.0, "right checked cases change nothing"
    assert _mean([_outcome("func_right", 100.0, "passed")]) == 0.0
    assert _mean([]) == 0.0


def _case(name: str, kind: CaseKind) -> Case:
    return Case(
        name=name,
        split=Split.HIDDEN,
        kind=kind,
        source=Path(f"/nonexistent/{name}.sy"),
        stdin=None,
        expected_stdout=None,
        expected_exit=None,
    )


def test_t4_scores_performance_cases_and_checks_the_rest() -> None:
    cases = [
        _case("perf_a", CaseKind.PERFORMANCE),
        _case("algo_a", CaseKind.FUNCTIONAL),
        _case("stress_a", CaseKind.STRESS),
    ]
    assert case_roles(Stage.T4, cases) == {
        "perf_a": CaseRole.SCORED,
        "algo_a": CaseRole.CHECKED,
        "stress_a": CaseRole.CHECKED,
    }
    for stage in (Stage.T0, Stage.T3, Stage.T5):
        assert set(case_roles(stage, cases).values()) == {CaseRole.SCORED}
    # a case set without performance cases (a user's directory): T4 scores all of it
    assert case_roles(Stage.T4, cases[1:]) == {
        "algo_a": CaseRole.SCORED,
        "stress_a": CaseRole.SCORED,
    }


def test_the_builtin_corpus_roles() -> None:
    roles = case_roles(Stage.T4, builtin_corpus())
    assert len(roles) == len(builtin_corpus())
    scored = {n for n, role in roles.items() if role is CaseRole.SCORED}
    assert scored == {c.name for c in builtin_corpus() if c.kind is CaseKind.PERFORMANCE}


def test_the_grade_report_gives_t4_by_the_paper_formula_too() -> None:
    measured = {"baseline_instructions": 4000, "reference_instructions": 1000}
    chained = [
        CaseOutcome(
            case="perf_a", score=50.0, diagnosis="", details=measured | {"paper_score": 70.0}
        ),
        CaseOutcome(case="perf_b", score=0.0, diagnosis="", details=measured),  # wrong output
        _outcome("algo_a", 100.0, "passed"),
    ]
    grades = [
        StageGrade(
            stage=stage,
            chained_score=25.0,
            isolated_score=25.0,
            passed=False,
            propagation_loss=0.0,
            chained=chained if stage is Stage.T4 else [_outcome("perf_a", 100.0)],
            isolated=chained if stage is Stage.T4 else [_outcome("perf_a", 100.0)],
            duration_s=1.0,
        )
        for stage in (Stage.T3, Stage.T4)
    ]
    report = GradeReport(
        stages=grades, integrity_findings=[], build_ok=True, build_log_tail="", cases=3,
        duration_s=1.0,
    )  # fmt: skip
    rows = {row["stage"]: row for row in report_json(report, with_cases=False)["stages"]}  # type: ignore[attr-defined]
    assert rows["T4"]["chained_paper_score"] == rows["T4"]["isolated_paper_score"] == 35.0
    assert "chained_paper_score" not in rows["T3"]
