"""grade_workspace on real sandboxes: chained and isolated scores, resurrection, integrity."""

from __future__ import annotations

from pathlib import Path

import pytest

from golden import CaseKind, Split, Stage, build_golden, builtin_corpus
from grader import _grading
from grader._grading import GradeReport, grade_workspace
from grader._integrity import FindingKind
from tests.grader.oracle import write_oracle
from tests.support import backend_missing
from toolchain._manifest import Profile

BACKEND = "bwrap"


def _cases(split: Split, count: int) -> list:  # type: ignore[type-arg]
    found = [c for c in builtin_corpus() if c.split is split and c.kind is CaseKind.FUNCTIONAL]
    return found[:count]


@pytest.fixture(autouse=True)
def _needs_bwrap() -> None:
    reason = backend_missing(BACKEND) or backend_missing(BACKEND, Profile.MINIMAL)
    if reason:
        pytest.skip(reason)


def _oracle(workspace: Path, cases: list, stages: tuple[Stage, ...] = tuple(Stage)) -> None:  # type: ignore[type-arg]
    golden = build_golden(cases, backend=BACKEND)
    assert golden.failures == {}
    write_oracle(workspace, golden.cases, {c.name: c.source for c in cases}, stages=stages)


def test_a_perfect_workspace_scores_100_chained_and_isolated(workspace: Path) -> None:
    cases = _cases(Split.PUBLIC, 2)
    _oracle(workspace, cases)
    report = grade_workspace(workspace, cases=cases, backend=BACKEND)
    assert report.build_ok and report.integrity_findings == []
    assert [g.stage for g in report.stages] == list(Stage)
    for grade in report.stages:
        # (T4 falls back to all cases: this case set has no performance case.)
        assert (grade.chained_score, grade.isolated_score, grade.passed) == (100.0, 100.0, True), (
            grade
        )


@pytest.mark.parametrize("backend", ["bwrap", "docker"])
def test_a_failed_stage_is_resurrected_and_the_next_runs_on_golden_input(
    workspace: Path, backend: str
) -> None:
    if backend_missing(backend) or backend_missing(backend, Profile.MINIMAL):
        pytest.skip(f"{backend} not ready")
    cases = _cases(Split.PUBLIC, 2)
    _oracle(workspace, cases, stages=(Stage.T0, Stage.T1, Stage.T3))
    report = grade_workspace(
        workspace, [Stage.T0, Stage.T1, Stage.T2, Stage.T3], cases=cases, backend=backend
    )
    t2, t3 = report.stages[2], report.stages[3]
    assert t2.chained_score == 0.0 and t2.resurrected and not t2.passed
    assert t3.chained_score == t3.isolated_score == 100.0
    assert t3.propagation_loss == 0.0


def test_grading_twice_gives_identical_scores(workspace: Path) -> None:
    cases = _cases(Split.PUBLIC, 2)
    _oracle(workspace, cases, stages=(Stage.T0, Stage.T1))
    first = grade_workspace(workspace, [Stage.T0, Stage.T1, Stage.T2], cases=cases, backend=BACKEND)
    second = grade_workspace(
        workspace, [Stage.T0, Stage.T1, Stage.T2], cases=cases, backend=BACKEND
    )

    def strip(report: GradeReport) -> list[object]:
        return [
            (
                g.stage,
                g.chained_score,
                g.isolated_score,
                [(o.case, o.score, o.diagnosis) for o in g.chained],
            )
            for g in report.stages
        ]

    assert strip(first) == strip(second)


def test_hard_coded_public_answers_score_as_what_they_are_on_hidden_cases(workspace: Path) -> None:
    _oracle(workspace, _cases(Split.PUBLIC, 4))
    hidden = _cases(Split.HIDDEN, 2)
    report = grade_workspace(workspace, [Stage.T0, Stage.T1], cases=hidden, backend=BACKEND)
    assert report.stages[1].chained_score == 0.0
    assert all("failed" in o.diagnosis for o in report.stages[1].isolated)


def test_calling_the_toolchain_is_an_integrity_finding(workspace: Path) -> None:
    cases = _cases(Split.PUBLIC, 1)
    _oracle(workspace, cases)
    # T1 by a shell that calls clang: it cannot work there, and it is recorded.
    (workspace / "src" / "t1").write_text(
        '#!/bin/sh\nexec clang-19 -cc1 -dump-tokens "$1" 2> "$2"\n'
    )
    report = grade_workspace(workspace, [Stage.T0, Stage.T1], cases=cases, backend=BACKEND)
    assert report.stages[1].chained_score == 0.0
    kinds = {(f.kind, f.stage) for f in report.integrity_findings}
    assert (FindingKind.TOOLCHAIN_CALL, "T1") in kinds


def test_a_copy_of_the_toolchain_in_the_workspace_is_found(workspace: Path) -> None:
    cases = _cases(Split.PUBLIC, 1)
    _oracle(workspace, cases)
    # build.sh smuggles clang's binary into the workspace.
    (workspace / "build.sh").write_text(
        "#!/bin/sh\nset -e\nmkdir -p bin\ncp src/* bin/\nchmod +x bin/*\ncp /usr/lib/llvm-19/bin/clang bin/my-clang\n"
    )
    report = grade_workspace(workspace, [Stage.T0], cases=cases, backend=BACKEND)
    assert any(
        f.kind == FindingKind.TOOLCHAIN_COPY and "my-clang" in f.detail
        for f in report.integrity_findings
    )
    assert report.stages[0].chained_score == 0.0


def _functional(count: int) -> list:  # type: ignore[type-arg]
    return _cases(Split.PUBLIC, count)


def test_a_degraded_stage_shows_as_propagation_loss(workspace: Path) -> None:
    cases = _functional(3)
    _oracle(workspace, cases)
    spoiled = cases[0].name
    # T2 passes (2 of 3 right) but hands T3 nothing for one case: chained below isolated.
    (workspace / "src" / "t2").write_text(
        (workspace / "src" / "t2").read_text()
        + f"if '{spoiled}.' in sys.argv[1]:\n    open(sys.argv[2], 'w').close()\n"
    )
    report = grade_workspace(workspace, [Stage.T2, Stage.T3], cases=cases, backend=BACKEND)
    t2, t3 = report.stages
    assert t2.passed and round(t2.chained_score, 2) == 66.67
    assert (round(t3.chained_score, 2), t3.isolated_score) == (66.67, 100.0)
    assert round(t3.propagation_loss, 2) == 33.33
    (lost,) = [o for o in t3.chained if o.score == 0]
    assert lost.case == spoiled and lost.diagnosis.startswith("no input: the upstream output")


def test_one_shot_grading_hands_on_the_canonical_forms(workspace: Path) -> None:
    cases = _functional(2)
    _oracle(workspace, cases)
    # bin/t1 adds lines that are not tokens: they are dropped before scoring and before T2,
    # whose oracle only knows the reference dump, so it passes only on the canonical form.
    (workspace / "src" / "t1").write_text(
        (workspace / "src" / "t1").read_text()
        + "open(sys.argv[2], 'a').write('// a payload line\\n' + 'x' * 70000 + '\\n')\n"
    )
    report = grade_workspace(workspace, [Stage.T1, Stage.T2], cases=cases, backend=BACKEND)
    assert [(g.chained_score, g.isolated_score) for g in report.stages] == [(100.0,) * 2] * 2


def test_upstream_outputs_are_fed_and_no_earlier_program_runs(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cases = _functional(2)
    _oracle(workspace, cases)
    (workspace / "src" / "t1").write_text("#!/bin/sh\nexit 3\n")  # would fail if it ran
    ran: list[tuple[Stage, str]] = []
    real = _grading._Chain.run

    def counted(self: object, stage: Stage, inputs: dict[str, Path], label: str) -> object:
        ran.append((stage, label))
        return real(self, stage, inputs, label)  # type: ignore[arg-type]

    monkeypatch.setattr(_grading._Chain, "run", counted)
    golden = {c.name: c for c in build_golden(cases, backend=BACKEND).cases}
    first, second = sorted(golden)
    upstream: dict[str, Path | str] = {
        first: golden[first].artifacts[Stage.T1],
        second: "the upstream output for this case was not accepted",
    }
    report = grade_workspace(workspace, [Stage.T2], cases=cases, backend=BACKEND, upstream=upstream)
    assert ran == [(Stage.T2, "chained"), (Stage.T2, "isolated")]
    (t2,) = report.stages
    assert (t2.chained_score, t2.isolated_score) == (50.0, 100.0)


def test_any_finding_zeroes_every_stage_graded(workspace: Path) -> None:
    cases = _functional(1)
    _oracle(workspace, cases)
    (workspace / "src" / "t2").write_text(
        (workspace / "src" / "t2").read_text()
        + "open('/ramp/findings/toolchain-calls', 'a').write('clang-19 something\\n')\n"
    )
    report = grade_workspace(
        workspace, [Stage.T0, Stage.T1, Stage.T2], cases=cases, backend=BACKEND
    )
    assert [(g.chained_score, g.isolated_score, g.passed) for g in report.stages] == [
        (0.0, 0.0, False)
    ] * 3
    (finding,) = report.integrity_findings
    assert (finding.kind, finding.stage) == (FindingKind.TOOLCHAIN_CALL, Stage.T2)
    assert "clang-19 something" in finding.detail
    assert finding.shown() == (
        "toolchain-call (T2): a stage program tried to run the reference toolchain"
    )


def test_a_measurement_the_judge_marks_as_tampered_is_a_finding() -> None:
    outcomes = [
        _grading.CaseOutcome(case="a", score=0.0, diagnosis="fine"),
        _grading.CaseOutcome(
            case="b",
            score=0.0,
            diagnosis="the program rewrote its counter",
            details={"integrity": "measurement-tamper"},
        ),
    ]
    (finding,) = _grading._tamper_findings(Stage.T4, outcomes)
    assert (finding.kind, finding.stage) == (FindingKind.MEASUREMENT_TAMPER, Stage.T4)
    assert finding.detail == "case b: the program rewrote its counter"
    assert finding.shown() == "measurement-tamper (T4): a program interfered with its measurement"
