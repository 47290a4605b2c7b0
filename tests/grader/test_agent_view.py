"""What an agent is shown of a grade: whole scores, structured categories, fixed error words.

Each of these closes a channel by which a stage program graded on hidden cases could spell
out what it saw (see docs/threat-model.md): the decimals of a score, a category picked by
text it wrote, a grader error quoting a hidden case.
"""

from __future__ import annotations

from golden import Stage
from golden.scoring import CaseCategory, RunOutcome, score_behaviour, score_t1
from grader._grading import NOT_GRADED, CaseOutcome, GradeReport, StageGrade
from grader._machine import (
    RunRewardsView,
    RunStatusView,
    StageView,
    SubmissionOutcome,
    _category,
    _feedback,
    grader_failure,
    shown_score,
)
from grader.metrics import rewards


def test_shown_scores_are_whole_and_consistent_with_passing() -> None:
    assert [shown_score(x) for x in (0.0, 59.9999, 60.0, 73.2518, 100.0)] == [
        0.0,
        59.0,
        60.0,
        73.0,
        100.0,
    ]


def _outcome(chained: float, isolated: float) -> SubmissionOutcome:
    return SubmissionOutcome(
        run_id="r",
        stage=Stage.T0,
        submission_id=1,
        attempt=1,
        chained_score=chained,
        isolated_score=isolated,
        passed=chained >= 60,
        resurrected=False,
        attempts_left=0,
        next_open=Stage.T1,
        feedback=["T0: 6 hidden cases: 6 partial credit"],
        integrity_findings=[],
        reference_dir=None,
    )


def test_a_submission_shows_whole_scores_and_keeps_the_rest() -> None:
    exact = _outcome(61.4375, 99.9961)
    shown = exact.for_agent()
    assert (shown.chained_score, shown.isolated_score) == (61.0, 99.0)
    assert shown.model_dump(exclude={"chained_score", "isolated_score"}) == exact.model_dump(
        exclude={"chained_score", "isolated_score"}
    )
    assert exact.chained_score == 61.4375  # the grader's own record is untouched


def test_status_shows_whole_scores_and_rewards_from_them() -> None:
    exact = [73.2518, 61.5, 12.0001, None, None, None]
    view = RunStatusView(
        run_id="r",
        status="running",
        workspace="/workspace",
        open_stage=Stage.T3,
        budget_left_s=None,
        elapsed_s=1.0,
        stages=[
            StageView(
                stage=stage,
                state="passed" if score is not None else "locked",
                attempts_used=1,
                attempts_left=0,
                chained_score=score,
                isolated_score=score,
                passed=score is not None,
                seconds_open=None,
            )
            for stage, score in zip(Stage, exact, strict=True)
        ],
        rewards=RunRewardsView(tier=0, mean_reward=1.2345, pipeline_score=1.0, pass_score=1.0),
    )
    shown = view.for_agent()
    assert [s.chained_score for s in shown.stages] == [73.0, 61.0, 12.0, None, None, None]
    assert [s.isolated_score for s in shown.stages] == [73.0, 61.0, 12.0, None, None, None]
    expected = rewards([73.0, 61.0, 12.0, 0.0, 0.0, 0.0])
    assert shown.rewards.mean_reward == round(expected.mean_reward, 4)
    assert shown.rewards.pipeline_score == round(expected.pipeline_score, 4)


def _case(score: float, diagnosis: str, category: CaseCategory | None = None) -> CaseOutcome:
    return CaseOutcome(case="c", score=score, diagnosis=diagnosis, category=category)


def test_categories_come_from_the_scorer_not_from_the_text() -> None:
    # The program's stdout is quoted nowhere that decides: text naming other categories
    # in what it printed or built leaves the category the scorer determined.
    wrong = score_behaviour(b"1\n", 0, RunOutcome(stdout=b"timed out; no exit code", exit_code=0))
    assert wrong.category is CaseCategory.WRONG_STDOUT
    broken = score_behaviour(
        b"1\n", 0, RunOutcome(build_ok=False, build_diagnostic="stdout differs: timed out")
    )
    assert broken.category is CaseCategory.BUILD_FAILED
    exit_code = score_behaviour(b"1\n", 0, RunOutcome(stdout=b"1\n", exit_code=3))
    assert exit_code.category is CaseCategory.WRONG_EXIT_CODE
    crashed = score_behaviour(b"1\n", 0, RunOutcome(stdout=b"1\n", exit_code=None))
    assert crashed.category is CaseCategory.CRASHED
    for scored in (wrong, broken, exit_code, crashed):
        outcome = _case(scored.score, scored.diagnosis, scored.category)
        assert _category(Stage.T3, outcome) is scored.category


def test_a_token_diagnosis_quoting_the_program_does_not_pick_the_category() -> None:
    golden = "int 'int'\t [StartOfLine]\tLoc=<a.sy:1:1>\n"
    # The agent's token text says "timed out"; the scorer quotes it in its diagnosis.
    produced = "identifier 'timed_out_wrote_no_output'\t [StartOfLine]\tLoc=<a.sy:1:1>\n"
    scored = score_t1(golden, produced)
    outcome = _case(scored.score, scored.diagnosis + " timed out", scored.category)
    assert _category(Stage.T1, outcome) in (CaseCategory.PARTIAL_CREDIT, CaseCategory.NO_CREDIT)
    counted = score_t1(golden, produced + produced)
    assert counted.category is CaseCategory.WRONG_TOKEN_COUNT


def test_the_graders_own_diagnoses_are_matched_at_their_start_only() -> None:
    cases = {
        "bin/t2 failed: timed out": CaseCategory.TIMED_OUT,
        "bin/t2 failed: exited with 3": CaseCategory.PROGRAM_FAILED,
        "bin/t2 wrote no output file": CaseCategory.NO_OUTPUT,
        "no input: the upstream output for this case was not accepted": CaseCategory.NO_INPUT,
        NOT_GRADED: CaseCategory.NOT_GRADED,
        # Not the grader's prefix: whatever it mentions, the score alone decides.
        "x bin/t2 failed: timed out": CaseCategory.NO_CREDIT,
        "exit code 3 / stdout differs / token count": CaseCategory.NO_CREDIT,
    }
    for text, category in cases.items():
        assert _category(Stage.T2, _case(0.0, text)) is category, text
    assert _category(Stage.T2, _case(40.0, "timed out")) is CaseCategory.PARTIAL_CREDIT
    assert _category(Stage.T2, _case(100.0, "no input")) is CaseCategory.FULL_MARKS


def test_feedback_counts_categories_and_names_no_case() -> None:
    outcomes = [
        CaseOutcome(case="hidden_alpha", score=0.0, diagnosis="bin/t0 failed: timed out"),
        CaseOutcome(
            case="hidden_beta",
            score=12.5,
            diagnosis="line 3 differs: 'hidden_alpha timed out'",
            category=CaseCategory.PARTIAL_CREDIT,
        ),
        CaseOutcome(
            case="hidden_gamma",
            score=100.0,
            diagnosis="identical",
            category=CaseCategory.FULL_MARKS,
        ),
    ]
    grade = StageGrade(
        stage=Stage.T0,
        chained_score=37.5,
        isolated_score=37.5,
        passed=False,
        propagation_loss=0.0,
        chained=outcomes,
        isolated=outcomes,
        duration_s=1.0,
    )
    report = GradeReport(
        stages=[grade],
        integrity_findings=[],
        build_ok=True,
        build_log_tail="",
        cases=3,
        duration_s=1.0,
    )
    assert _feedback(report) == ["T0: 3 hidden cases: 1 full marks, 1 partial credit, 1 timed out"]


def test_the_grader_failure_text_is_fixed() -> None:
    text = grader_failure(Stage.T4)
    assert text.startswith("grading T4 failed on the grader's side")
    assert "ledger" in text and "report" in text
    assert grader_failure(Stage.T4) == text
