"""The hand-off between stages: a stage output in the canonical form its scorer reads.

What the next stage is fed (chained grading, the frozen outputs) is the canonical form of
what the stage program wrote (``golden.scoring._canonical``): the reference bytes for an
exact T0 output and nothing for any other, the tokens the T1 scorer read, the T2 tree
reduced to the judged and needed fields, T3/T4 IR as written. T1 and T2 are judged on
that same form, so what passes downstream is exactly what was judged.
"""

from __future__ import annotations

from pathlib import Path

from golden import MAX_OUTPUT_BYTES, Stage
from golden.scoring import accepted_t0, canonical_ast, canonical_tokens

__all__ = ["NOT_ACCEPTED", "canonical_file", "no_input"]

NOT_ACCEPTED = "the upstream output for this case was not accepted"
_WHY = {
    Stage.T0: "the T0 output is not the reference text",
    Stage.T1: "no line of the T1 output is a token",
    Stage.T2: "the T2 output is not a JSON object",
}


def no_input(reason: str) -> str:
    """The diagnosis of a case whose upstream output is missing (the first cause kept)."""
    if reason.startswith("no input:"):
        return reason
    return f"no input: {reason}"


def canonical_file(
    stage: Stage, produced: Path, target: Path, golden_t0: Path | None
) -> Path | str:
    """The canonical form of ``produced`` (written to ``target`` when it is new), or why
    the output passes nothing on.

    ``golden_t0`` is the case's reference T0 text; T0 needs it (an exact output is
    replaced by it), the other stages do not.
    """
    if stage in (Stage.T3, Stage.T4, Stage.T5):
        return produced
    size = produced.stat().st_size
    if size > MAX_OUTPUT_BYTES:
        return f"{NOT_ACCEPTED} (it is over {MAX_OUTPUT_BYTES >> 20} MB)"
    if stage is Stage.T0:
        if golden_t0 is None:
            raise ValueError("a T0 output is handed on only against its reference text")
        reference = golden_t0.read_bytes()
        if size <= 2 * len(reference) + 2 and accepted_t0(reference, produced.read_bytes()):
            return golden_t0
        return f"{NOT_ACCEPTED} ({_WHY[stage]})"
    data = produced.read_bytes()
    text = canonical_tokens(data) if stage is Stage.T1 else canonical_ast(data)
    if text is None:
        return f"{NOT_ACCEPTED} ({_WHY[stage]})"
    target.write_text(text, encoding="utf-8")
    return target
