"""T4: a correct program scores by its instruction count against clang's.

The count is defined in golden/_measure.py: the instructions the module's own code executes,
whatever it does around the timer calls. The program must still make the input's timer
calls, in order and at the same points of its input and output.
"""

from __future__ import annotations

import math

from ._behaviour import score_behaviour
from ._models import CaseScore, GoldenArtifactError, RunOutcome, make_score

__all__ = ["score_t4"]


def score_t4(
    expected_stdout: bytes,
    expected_exit: int,
    run: RunOutcome,
    reference_instructions: int,
    agent_instructions: int | None,
    *,
    timer_calls: tuple[str | None, str | None] = (None, None),
) -> CaseScore:
    """0 unless the run is correct and makes the expected timer calls (``timer_calls`` is
    (expected, made), as the measurement runtime records them), then
    min(100, 100 * sqrt(I_ref / I_agent))."""
    if reference_instructions <= 0:
        raise GoldenArtifactError(
            f"reference instruction count must be positive, got {reference_instructions}"
        )
    gate = score_behaviour(expected_stdout, expected_exit, run)
    details: dict[str, float | int | str] = {"reference_instructions": reference_instructions}
    if agent_instructions is not None:
        details["agent_instructions"] = agent_instructions
    if gate.score < 100.0:
        return make_score(0.0, gate.diagnosis, gate.details | details)
    expected_calls, made_calls = timer_calls
    if expected_calls != made_calls:
        return make_score(
            0.0,
            f"the timer calls differ from the input's: expected {expected_calls or 'none'}, "
            f"made {made_calls or 'none'} (S = starttime, T = stoptime, LINE@I/O calls before)",
            details,
        )
    if agent_instructions is None or agent_instructions <= 0:
        return make_score(0.0, "instruction count measurement failed", details)
    ratio = reference_instructions / agent_instructions
    details["ratio"] = round(ratio, 6)
    value = min(100.0, 100.0 * math.sqrt(ratio))
    return make_score(value, f"{agent_instructions} instructions, ratio {ratio:.4f}", details)
