"""What every program stage checks besides stdout and the exit code, judged for real.

T3 and T5 (like T4) compare the timer calls the runtime records at exit with the golden
record: an output that drops or moves starttime()/stoptime() fails the case even when it
prints the right thing (else it would pass T3 and fail every timed case at T4 in the chain).
T4 scores the performance cases and checks the functional ones: a correct functional
output is left out of the stage's mean, a wrong or mistimed one counts as a 0. Both
sandbox backends.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from golden import CaseArtifacts, Stage, build_golden, builtin_corpus
from golden._judge import Judge
from golden.scoring import CaseScore, counts_in_mean
from tests.support import backend_missing
from toolchain._manifest import Profile

TIMED = "perf_nqueens"  # starttime() after reading two ints, stoptime() after printing
FUNCTIONAL = "algo_bfs"
_STOP_IR = re.compile(r"^\s*call void @_sysy_stoptime\(i32 noundef \d+\)\n", re.MULTILINE)
_START_IR = re.compile(r"^\s*call void @_sysy_starttime\(i32 noundef (\d+)\)$", re.MULTILINE)
_STOP_ASM = re.compile(r"^\s*call\s+_sysy_stoptime\S*\n", re.MULTILINE)

Judged = tuple[dict[str, CaseArtifacts], Judge]


@pytest.fixture(scope="module", params=["bwrap", "docker"])
def judged(request: pytest.FixtureRequest) -> Iterator[Judged]:
    backend = str(request.param)
    if why := backend_missing(backend) or backend_missing(backend, Profile.MINIMAL):
        pytest.skip(why)
    cases = [c for c in builtin_corpus() if c.name in (TIMED, FUNCTIONAL)]
    build = build_golden(cases, backend=backend)
    assert build.failures == {}
    with Judge(cases, backend=backend) as judge:
        yield {c.name: c for c in build.cases}, judge


def _judge(judged: Judged, stage: Stage, case: str, text: str, tmp: Path) -> CaseScore:
    golden, judge = judged
    produced = tmp / f"{case}-{stage.value}-{abs(hash(text))}.{'s' if stage is Stage.T5 else 'll'}"
    produced.write_text(text)
    return judge.judge(stage, golden[case], produced)


def _artifact(judged: Judged, case: str, stage: Stage) -> str:
    return judged[0][case].artifacts[stage].read_text()


def _mistimed(result: CaseScore, made: str) -> None:
    assert result.score == 0.0, result
    assert "timer calls differ" in result.diagnosis, result.diagnosis
    assert f"made {made}" in result.diagnosis, result.diagnosis


@pytest.mark.parametrize("stage", [Stage.T3, Stage.T5])
def test_programs_must_make_the_golden_timer_calls(
    judged: Judged, stage: Stage, tmp_path: Path
) -> None:
    golden = judged[0][TIMED]
    assert golden.timer_calls and golden.timer_calls.startswith("S"), golden.timer_calls
    text = _artifact(judged, TIMED, stage)
    assert _judge(judged, stage, TIMED, text, tmp_path).score == 100.0
    dropped = (_STOP_IR if stage is Stage.T3 else _STOP_ASM).sub("", text)
    assert dropped != text
    result = _judge(judged, stage, TIMED, dropped, tmp_path)
    _mistimed(result, golden.timer_calls.split()[0])
    assert f"expected {golden.timer_calls}" in result.diagnosis
    stdout_bytes = result.details["stdout_bytes"]
    assert isinstance(stdout_bytes, int) and stdout_bytes > 0, "the output itself was right"


def test_t3_timer_calls_moved_past_the_io_fail(judged: Judged, tmp_path: Path) -> None:
    """The stop moved right after the start: same calls and lines, other I/O positions."""
    text = _artifact(judged, TIMED, Stage.T3)
    stop = _STOP_IR.search(text)
    assert stop is not None
    line = stop.group(0).rstrip("\n")
    moved = _START_IR.sub(lambda m: m.group(0) + "\n" + line, _STOP_IR.sub("", text))
    assert moved.count("call void @_sysy_stoptime(") == 1
    result = _judge(judged, Stage.T3, TIMED, moved, tmp_path)
    assert result.score == 0.0 and "timer calls differ" in result.diagnosis, result


def test_t4_scores_performance_and_checks_functional_cases(judged: Judged, tmp_path: Path) -> None:
    clang = _judge(judged, Stage.T4, TIMED, _artifact(judged, TIMED, Stage.T4), tmp_path)
    assert clang.score == 100.0 and clang.details["formula"] == "speedup-share", clang
    assert counts_in_mean(clang.details)

    right = _judge(judged, Stage.T4, FUNCTIONAL, _artifact(judged, FUNCTIONAL, Stage.T3), tmp_path)
    assert right.score == 100.0 and right.details == {"gate": "passed"}, right
    assert not counts_in_mean(right.details), "a right functional case is left out of the mean"

    ir = _artifact(judged, FUNCTIONAL, Stage.T3)
    wrong_ir = ir.replace("define dso_local i32 @main()", "define dso_local i32 @main_real()", 1)
    wrong_ir += (
        "\ndefine i32 @main() {\n  %r = call i32 @main_real()\n"
        "  %x = add i32 %r, 1\n  ret i32 %x\n}\n"
    )
    wrong = _judge(judged, Stage.T4, FUNCTIONAL, wrong_ir, tmp_path)
    assert wrong.score == 0.0 and wrong.details["gate"] == "failed", wrong
    assert wrong.diagnosis.startswith("exit code"), wrong.diagnosis
    assert counts_in_mean(wrong.details)

    timed_ir = ir.replace(
        "define dso_local i32 @main() #0 {\n",
        "define dso_local i32 @main() #0 {\n  call void @_sysy_starttime(i32 1)\n"
        "  call void @_sysy_stoptime(i32 2)\n",
        1,
    )
    timed_ir += "declare void @_sysy_starttime(i32)\ndeclare void @_sysy_stoptime(i32)\n"
    assert timed_ir.count("_sysy_starttime") == 2
    mistimed = _judge(judged, Stage.T4, FUNCTIONAL, timed_ir, tmp_path)
    _mistimed(mistimed, "S1@0 T2@0")
    assert counts_in_mean(mistimed.details)

    refused = _judge(
        judged, Stage.T4, FUNCTIONAL, ir + "\ndeclare i32 @printf(ptr, ...)\n", tmp_path
    )
    assert refused.score == 0.0 and "@printf" in refused.diagnosis, refused
    assert counts_in_mean(refused.details)
