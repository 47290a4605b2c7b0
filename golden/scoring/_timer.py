"""The timer calls a program makes, compared with the golden record (T3, T4 and T5).

Every build of RAMP's runtime prints, at exit on stderr, each ``starttime()``/``stoptime()``
call in order with its line argument and the number of input/output calls before it:
``ramp-timer-calls: S29@2 T39@34`` (golden/runtime/sylib.c). T4 is timed by these calls and
needs them where the program had them, so every stage that produces a program keeps them:
a stage output that drops, moves or adds one fails the case whatever it prints.
"""

from __future__ import annotations

import re

from ._behaviour import score_behaviour
from ._models import CaseCategory, CaseScore, RunOutcome, make_score

__all__ = ["read_timer_calls", "score_program", "timer_call_problem"]

_TIMER_CALLS = re.compile(r"^ramp-timer-calls:(.*)$", re.MULTILINE)


def read_timer_calls(stderr: str) -> str | None:
    """The runtime's record of the timer calls (``S12@3 T40@3``), if it printed one."""
    found = _TIMER_CALLS.findall(stderr)
    return found[-1].strip() if found else None


def timer_call_problem(expected: str | None, made: str | None) -> str | None:
    """The diagnosis when the calls made differ from the expected ones, else None."""
    if expected == made:
        return None
    return (
        f"the timer calls differ from the input's: expected {expected or 'none'}, "
        f"made {made or 'none'} (S = starttime, T = stoptime, LINE@I/O calls before; "
        "keep every starttime()/stoptime() call, with its line argument, where the program "
        "makes it)"
    )


def score_program(
    expected_stdout: bytes,
    expected_exit: int,
    run: RunOutcome,
    *,
    timer_calls: tuple[str | None, str | None],
) -> CaseScore:
    """T3 and T5: 100 when stdout, exit code and the timer calls (expected, made) match."""
    result = score_behaviour(expected_stdout, expected_exit, run)
    if result.score < 100.0:
        return result
    problem = timer_call_problem(*timer_calls)
    if problem is not None:
        return make_score(0.0, problem, result.details, CaseCategory.WRONG_TIMER_CALLS)
    return result
