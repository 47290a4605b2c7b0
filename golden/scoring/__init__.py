"""Per-stage scorers: compare an agent's stage output with clang 19's golden artifact.

The canonical forms (``_canonical``) are what a stage hands the next: exactly what its
scorer reads.

Every scorer is pure and deterministic and returns a :class:`CaseScore` in [0, 100].
Malformed agent output scores 0 with a diagnosis; a malformed golden artifact raises
:class:`GoldenArtifactError`.
"""

from __future__ import annotations

from ._ast import MAX_JSON_DEPTH, load_ast, score_t2
from ._behaviour import score_behaviour
from ._canonical import (
    AST_FIELDS,
    CANONICAL_FORMS,
    NODE_KINDS,
    accepted_t0,
    canonical_ast,
    canonical_tokens,
)
from ._models import CaseCategory, CaseScore, GoldenArtifactError, RunOutcome
from ._perf import (
    MIN_SPEEDUP,
    counts_in_mean,
    paper_score,
    paper_stage_score,
    score_t4,
    score_t4_gate,
    speedup_share,
)
from ._text import score_t0
from ._timer import read_timer_calls, score_program, timer_call_problem
from ._tokens import Token, parse_token_dump, score_t1

__all__ = [
    "AST_FIELDS",
    "CANONICAL_FORMS",
    "MAX_JSON_DEPTH",
    "MIN_SPEEDUP",
    "NODE_KINDS",
    "CaseCategory",
    "CaseScore",
    "GoldenArtifactError",
    "RunOutcome",
    "Token",
    "accepted_t0",
    "canonical_ast",
    "canonical_tokens",
    "counts_in_mean",
    "load_ast",
    "paper_score",
    "paper_stage_score",
    "parse_token_dump",
    "read_timer_calls",
    "score_behaviour",
    "score_program",
    "score_t0",
    "score_t1",
    "score_t2",
    "score_t4",
    "score_t4_gate",
    "speedup_share",
    "timer_call_problem",
]
