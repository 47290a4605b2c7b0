"""``run_stage``: the agent's bin/tN on one public case (or its own input), as grading runs it.

The program runs through grading's own chain runner (``grader._grading._Chain``): the
same environment per stage (T0 development, the rest minimal), the workspace read-only,
the same mounts (/ramp/input or /ramp/case, /ramp/output, /ramp/include, /ramp/findings)
and the same limits. A public case's output is then scored by the golden judge, T1 and T2
in the canonical form grading judges and hands on; the agent's own input is given to the
program in the form grading would hand such a text on. Integrity findings show as their
category only (never the text a program left in /ramp/findings).

It lives in the grader because it is grading, on a public case: the MCP server's
``run_stage`` tool calls :func:`run_stage` and turns :class:`StageRun` into its reply.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from golden import (
    Case,
    CaseArtifacts,
    CaseKind,
    Judge,
    Split,
    Stage,
    build_golden,
    builtin_corpus,
    stage_specs,
)
from golden.scoring import canonical_ast, canonical_tokens
from grader._grading import _Chain
from grader._handoff import NOT_ACCEPTED, canonical_file
from toolchain import SANDBOX_UID, RampError, scratch_dir

__all__ = ["StageRun", "StageRunError", "run_stage"]

_OWN_INPUT = "input"
_HEAD_LINES = 40
_HEAD_CHARS = 4000
_SCRATCH_KIND = "mcp-try"
"""The scratch kind these runs work in (``toolchain._scratch.SCRATCH_KINDS``)."""
_CHAIN_LABEL = "try"


class StageRunError(RampError):
    """run_stage was asked for something it does not do (the message says what to do)."""


class StageRun(BaseModel):
    """What one run of ``bin/tN`` did: whether it wrote its output, its score on a public
    case (None for the agent's own input), why, and the head of what it wrote."""

    model_config = ConfigDict(frozen=True)

    ok: bool
    score: float | None
    diagnosis: str
    output_head: str
    output_bytes: int
    duration_s: float


def run_stage(
    workspace: Path,
    backend: str,
    stage: Stage,
    case_name: str | None,
    input_text: str | None,
    *,
    uid: int = SANDBOX_UID,
) -> StageRun:
    """Run ``bin/tN`` once, as the run's ``uid``; score it when it ran on a public case."""
    started = time.monotonic()
    if (case_name is None) == (input_text is None):
        raise StageRunError("give exactly one of case (a public case name) or input_text")
    # The program writes into a capped file system the chain makes inside this scratch
    # directory; all of it is released and removed, at any depth, when the run ends.
    with scratch_dir(_SCRATCH_KIND) as work:
        if case_name is not None:
            return _on_public_case(workspace, backend, stage, case_name, work, uid, started)
        assert input_text is not None
        return _on_own_input(workspace, backend, stage, input_text, work, uid, started)


def _public_case(name: str) -> Case:
    wanted = name.removesuffix(".sy").strip()
    for case in builtin_corpus():
        if case.name == wanted and case.split is Split.PUBLIC:
            return case
    raise StageRunError(f"unknown public case {name!r}; see cases/ in your workspace")


def _on_public_case(
    workspace: Path,
    backend: str,
    stage: Stage,
    case_name: str,
    work: Path,
    uid: int,
    started: float,
) -> StageRun:
    """The program on a public case's input for ``stage``, scored against the reference."""
    case = _public_case(case_name)
    built = build_golden([case], backend=backend)
    if built.failures or not built.cases:
        raise StageRunError(f"the reference outputs of {case.name} could not be built")
    golden = built.cases[0]
    source = case.source if stage.previous is None else golden.artifacts[stage.previous]
    chain = _Chain(workspace, work / "chain", [case], backend, 1, uid=uid)
    produced = chain.run(stage, {case.name: source}, _CHAIN_LABEL)[case.name]
    findings = [f.shown() for f in chain.findings]
    if isinstance(produced, str):
        return _ran(False, 0.0, produced, ("", 0), started)
    head = _head(produced)
    score, diagnosis = _judged(stage, case, golden, produced, work, backend)
    if findings:
        score, diagnosis = 0.0, "; ".join(findings) + f" (would score 0; else: {diagnosis})"
    return _ran(True, score, diagnosis, head, started)


def _on_own_input(
    workspace: Path,
    backend: str,
    stage: Stage,
    input_text: str,
    work: Path,
    uid: int,
    started: float,
) -> StageRun:
    """The program on the agent's own input, handed on as grading would; no score."""
    source = work / f"{_OWN_INPUT}{stage_specs()[stage].input.suffix}"
    handed = _as_handed(stage, input_text)
    if handed is None:
        why = f"no input: {NOT_ACCEPTED} (as grading would hand it on, it is empty)"
        return _ran(False, None, why, ("", 0), started)
    source.write_text(handed, encoding="utf-8")
    case = Case(
        name=_OWN_INPUT,
        split=Split.PUBLIC,
        kind=CaseKind.FUNCTIONAL,
        source=source,
        stdin=None,
        expected_stdout=None,
        expected_exit=None,
    )
    chain = _Chain(workspace, work / "chain", [case], backend, 1, uid=uid)
    produced = chain.run(stage, {_OWN_INPUT: source}, _CHAIN_LABEL)[_OWN_INPUT]
    findings = [f.shown() for f in chain.findings]
    if isinstance(produced, str):
        return _ran(False, None, produced, ("", 0), started)
    head = _head(produced)
    diagnosis = "ran; no reference for your own input, so no score"
    if findings:
        diagnosis += "; " + "; ".join(findings)
    return _ran(True, None, diagnosis, head, started)


def _judged(
    stage: Stage, case: Case, golden: CaseArtifacts, produced: Path, work: Path, backend: str
) -> tuple[float, str]:
    """The judge's score and diagnosis of ``produced``, as grading judges it."""
    if stage in (Stage.T0, Stage.T1, Stage.T2):
        # Text stages are compared without the judge's sandbox (it is not used for them),
        # T1 and T2 in the canonical form grading judges and hands on.
        form = canonical_file(stage, produced, work / "canonical", golden.artifacts[Stage.T0])
        judged = form if isinstance(form, Path) and stage is not Stage.T0 else produced
        scored = Judge([case], backend=backend).judge(stage, golden, judged)
    else:
        with Judge([case], backend=backend) as judge:
            scored = judge.judge(stage, golden, produced)
    return scored.score, scored.diagnosis


def _ran(
    ok: bool, score: float | None, diagnosis: str, head: tuple[str, int], started: float
) -> StageRun:
    """The result, timed from ``started``; ``head``: the output's first lines and size."""
    return StageRun(
        ok=ok,
        score=score,
        diagnosis=diagnosis,
        output_head=head[0],
        output_bytes=head[1],
        duration_s=round(time.monotonic() - started, 3),
    )


def _head(path: Path) -> tuple[str, int]:
    # Only the head is read: a stage program may write up to its file-size limit (1 GB).
    with path.open("rb") as handle:
        data = handle.read(_HEAD_CHARS * 2)
        size = os.fstat(handle.fileno()).st_size
    text = data.decode("utf-8", errors="replace")
    lines = text.splitlines(keepends=True)[:_HEAD_LINES]
    return "".join(lines)[:_HEAD_CHARS], size


def _as_handed(stage: Stage, text: str) -> str | None:
    """The agent's own input as grading hands such a text to ``stage``: the canonical form
    of the stage before's output (T2 reads tokens, T3 a tree), the rest as given."""
    if stage is Stage.T2:
        return canonical_tokens(text)
    if stage is Stage.T3:
        return canonical_ast(text)
    return text
