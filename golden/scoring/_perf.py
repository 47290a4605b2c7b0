"""T4: a correct program scores by how much of clang's speed-up over the input it achieves.

The count is defined in golden/_measure.py: the instructions the module's own code executes,
whatever it does around the timer calls. Per performance case there are three counts:
``B`` (baseline), the unchanged -O0 input measured the same way; ``R``, clang -O2's IR; and
``I``, the agent's output. The score is the share of the logarithmic speed-up from ``B`` to
``R`` that the output achieves,

    score = 100 * clip(log(B / I) / log(B / R), 0, 1)

so handing the input back scores 0, clang -O2 scores 100, each halving of the distance
(as a ratio) to clang's count earns the same points, and a lower count never scores lower.
The paper's formula, ``min(100, 100 * sqrt(R / I))``, is kept beside it in the details
(``paper_score``): measured by instruction count, ``llc -O2`` makes unoptimised IR so cheap
that it gave the unchanged input about 74 and could not tell a real optimiser from
mem2reg. Where clang's IR is not at least ``MIN_SPEEDUP`` (2) times cheaper than the input,
the share would magnify noise (a small program of a user's case set, say: a few dozen
instructions decide it), so the paper's formula is the score; every built-in performance
case leaves that room (tests/golden/test_t4_spread.py).

The program must also behave exactly as expected and make the input's timer calls, in
order and at the same points of its input and output, or the case scores 0.

Cases that T4 only checks (functional ones, next to the performance cases it scores) use
:func:`score_t4_gate`: a correct output is marked ``gate = passed`` and left out of the
stage's mean (:func:`counts_in_mean`), a wrong one counts as a 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from ._behaviour import score_behaviour
from ._models import CaseCategory, CaseScore, GoldenArtifactError, RunOutcome, make_score
from ._timer import timer_call_problem

__all__ = [
    "GATE_DETAIL",
    "GATE_FAILED",
    "GATE_PASSED",
    "MIN_SPEEDUP",
    "counts_in_mean",
    "paper_score",
    "paper_stage_score",
    "score_t4",
    "score_t4_gate",
    "speedup_share",
]

MIN_SPEEDUP = 2.0
GATE_DETAIL = "gate"
GATE_PASSED = "passed"
GATE_FAILED = "failed"
_Details = dict[str, float | int | str]


def paper_score(reference: int, agent: int) -> float:
    """The paper's ``min(100, 100 * sqrt(R / I))``."""
    return min(100.0, 100.0 * math.sqrt(reference / agent))


def speedup_share(baseline: int, reference: int, agent: int) -> float:
    """``100 * clip(log(B / I) / log(B / R), 0, 1)``; needs ``B >= MIN_SPEEDUP * R``."""
    if baseline < MIN_SPEEDUP * reference:
        raise ValueError(f"no speed-up to share: baseline {baseline}, reference {reference}")
    share = math.log(baseline / agent) / math.log(baseline / reference)
    return 100.0 * min(1.0, max(0.0, share))


def counts_in_mean(details: Mapping[str, float | int | str]) -> bool:
    """Whether a case's score enters the stage's mean: all but passed gates do."""
    return details.get(GATE_DETAIL) != GATE_PASSED


def paper_stage_score(cases: Iterable[Mapping[str, float | int | str]]) -> float | None:
    """What the paper's formula would make of a T4 stage, from its cases' details: the mean
    of ``paper_score`` over the cases that count (a wrong one 0, as in the stage score);
    None when no case was scored by the speed-up (not a T4 stage)."""
    scored = [details for details in cases if counts_in_mean(details)]
    if not any("baseline_instructions" in details for details in scored):
        return None
    papers = [float(details.get("paper_score", 0.0)) for details in scored]
    return round(math.fsum(papers) / len(papers), 4)


def _correct(
    expected_stdout: bytes,
    expected_exit: int,
    run: RunOutcome,
    timer_calls: tuple[str | None, str | None],
    details: _Details,
) -> CaseScore | None:
    """The 0 a wrong or mistimed run scores, or None when the run is right."""
    gate = score_behaviour(expected_stdout, expected_exit, run)
    if gate.score < 100.0:
        return make_score(0.0, gate.diagnosis, gate.details | details, gate.category)
    problem = timer_call_problem(*timer_calls)
    if problem is not None:
        return make_score(0.0, problem, gate.details | details, CaseCategory.WRONG_TIMER_CALLS)
    return None


def score_t4_gate(
    expected_stdout: bytes,
    expected_exit: int,
    run: RunOutcome,
    *,
    timer_calls: tuple[str | None, str | None] = (None, None),
) -> CaseScore:
    """A case T4 checks but does not score: right (left out of the mean) or 0."""
    wrong = _correct(expected_stdout, expected_exit, run, timer_calls, {GATE_DETAIL: GATE_FAILED})
    if wrong is not None:
        return wrong
    return make_score(
        100.0,
        "correct (a functional case: T4 checks it and leaves it out of the stage score)",
        {GATE_DETAIL: GATE_PASSED},
    )


def score_t4(
    expected_stdout: bytes,
    expected_exit: int,
    run: RunOutcome,
    reference_instructions: int,
    agent_instructions: int | None,
    *,
    baseline_instructions: int,
    timer_calls: tuple[str | None, str | None] = (None, None),
) -> CaseScore:
    """0 unless the run is correct and makes the expected timer calls (``timer_calls`` is
    (expected, made), as the runtime records them), then the speed-up share above."""
    if reference_instructions <= 0 or baseline_instructions <= 0:
        raise GoldenArtifactError(
            "reference and baseline instruction counts must be positive, got "
            f"{reference_instructions} and {baseline_instructions}: rebuild the golden artifacts"
        )
    details: _Details = {
        "reference_instructions": reference_instructions,
        "baseline_instructions": baseline_instructions,
    }
    if agent_instructions is not None:
        details["agent_instructions"] = agent_instructions
    wrong = _correct(expected_stdout, expected_exit, run, timer_calls, details)
    if wrong is not None:
        return wrong
    if agent_instructions is None or agent_instructions <= 0:
        return make_score(
            0.0, "instruction count measurement failed", details, CaseCategory.NOT_MEASURED
        )
    ratio = reference_instructions / agent_instructions
    paper = paper_score(reference_instructions, agent_instructions)
    details |= {"ratio": round(ratio, 6), "paper_score": round(paper, 4)}
    if baseline_instructions < MIN_SPEEDUP * reference_instructions:
        details["formula"] = "paper"
        return make_score(
            paper,
            f"{agent_instructions} instructions, {ratio:.4f} of the reference's speed "
            "(clang -O2 is less than twice as fast as the input here: scored by the paper's "
            "formula)",
            details,
        )
    share = speedup_share(baseline_instructions, reference_instructions, agent_instructions)
    details |= {"formula": "speedup-share", "speedup_share": round(share, 4)}
    return make_score(
        share,
        f"{agent_instructions} instructions: {share:.1f}% of the log speed-up from the "
        f"unchanged input ({baseline_instructions}) to clang -O2 ({reference_instructions}); "
        f"the paper's min(100, 100*sqrt(Iref/I)) would give {paper:.1f}",
        details,
    )
