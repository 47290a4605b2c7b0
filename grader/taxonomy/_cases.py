"""Sorting a graded case's diagnosis (the strings grader/_grading.py and golden's scorers
write) into one class, and summing a submission's cases by class."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Final, Literal

from grader.ledger import CaseResult

__all__ = ["CASE_PRIORITY", "CaseClass", "case_class", "count_classes"]

CaseClass = Literal[
    "build_failure",
    "crash",
    "timeout",
    "wrong_output",
    "slow",
    "infrastructure_error",
    "no_input",
    "not_graded",
]
# Ties between classes go to the earlier one: the most basic failure explains the most.
CASE_PRIORITY: Final[tuple[CaseClass, ...]] = (
    "not_graded",
    "build_failure",
    "crash",
    "timeout",
    "wrong_output",
    "slow",
    "infrastructure_error",
    "no_input",
)
_SLOW: Final = re.compile(r"^\d+ instructions, ratio ")
_FULL: Final = 100.0


def case_class(score: float, diagnosis: str | None) -> CaseClass | None:
    """The class of a case's failure; None for a case with full marks."""
    if score >= _FULL:
        return None
    text = diagnosis or ""
    if text.startswith("no input"):
        return "no_input"  # the upstream stage lost this case
    if "not graded" in text:
        return "not_graded"  # build.sh failed or an integrity finding blocked grading
    if text.startswith("build failed"):
        return "build_failure"  # the produced IR/assembly did not build
    if "timed out" in text:
        return "timeout"
    if "measurement failed" in text:
        return "infrastructure_error"  # T4: a correct run callgrind could not count
    if _SLOW.match(text):
        return "slow"  # T4: correct, but more instructions than the reference allows
    if "failed:" in text or "wrote no output" in text or text.startswith("no exit code"):
        return "crash"
    return "wrong_output"


def count_classes(results: Iterable[CaseResult]) -> Counter[CaseClass]:
    counts: Counter[CaseClass] = Counter()
    for result in results:
        found = case_class(result.score, result.diagnosis)
        if found is not None:
            counts[found] += 1
    return counts
