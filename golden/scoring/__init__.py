"""Per-stage scorers: compare an agent's stage output with clang 19's golden artifact.

Every scorer is pure and deterministic and returns a :class:`CaseScore` in [0, 100].
Malformed agent output scores 0 with a diagnosis; a malformed golden artifact raises
:class:`GoldenArtifactError`.
"""

from __future__ import annotations

from ._ast import MAX_JSON_DEPTH, load_ast, score_t2
from ._behaviour import score_behaviour
from ._models import CaseScore, GoldenArtifactError, RunOutcome
from ._perf import score_t4
from ._text import score_t0
from ._tokens import Token, parse_token_dump, score_t1

__all__ = [
    "MAX_JSON_DEPTH",
    "CaseScore",
    "GoldenArtifactError",
    "RunOutcome",
    "Token",
    "load_ast",
    "parse_token_dump",
    "score_behaviour",
    "score_t0",
    "score_t1",
    "score_t2",
    "score_t4",
]
