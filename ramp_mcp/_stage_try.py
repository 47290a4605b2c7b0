"""``run_stage``: the agent's bin/tN on one public case (or its own input), as grading runs it.

The program runs through the grader's own chain runner (``grader._grading._Chain``): the
same environment per stage (T0 development, the rest minimal), the workspace read-only,
the same mounts (/ramp/input or /ramp/case, /ramp/output, /ramp/include, /ramp/findings)
and the same limits. A public case's output is then scored by the golden judge, T1 and T2
in the canonical form grading judges and hands on; the agent's own input is given to the
program in the form grading would hand such a text on. Integrity findings show as their
category only (never the text a program left in /ramp/findings).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from golden import Case, CaseKind, Split, Stage, build_golden, builtin_corpus, stage_specs
from golden._judge import Judge
from golden.scoring import canonical_ast, canonical_tokens
from grader._grading import _Chain
from grader._handoff import NOT_ACCEPTED, canonical_file
from toolchain._errors import RampError
from toolchain._image import SANDBOX_UID
from toolchain._scratch import scratch_dir

__all__ = ["StageTryError", "TryOutcome", "public_case", "try_stage"]

_OWN_INPUT = "input"
_HEAD_LINES = 40
_HEAD_CHARS = 4000


class StageTryError(RampError):
    """run_stage was asked for something it does not do (the message says what to do)."""


class TryOutcome:
    def __init__(
        self, ok: bool, score: float | None, diagnosis: str, head: str, size: int, seconds: float
    ) -> None:
        self.ok, self.score, self.diagnosis = ok, score, diagnosis
        self.head, self.size, self.seconds = head, size, seconds


def public_case(name: str) -> Case:
    wanted = name.removesuffix(".sy").strip()
    for case in builtin_corpus():
        if case.name == wanted and case.split is Split.PUBLIC:
            return case
    raise StageTryError(f"unknown public case {name!r}; see cases/ in your workspace")


def _head(path: Path) -> tuple[str, int]:
    # Only the head is read: a stage program may write up to its file-size limit (1 GB).
    with path.open("rb") as handle:
        data = handle.read(_HEAD_CHARS * 2)
        size = os.fstat(handle.fileno()).st_size
    text = data.decode("utf-8", errors="replace")
    lines = text.splitlines(keepends=True)[:_HEAD_LINES]
    return "".join(lines)[:_HEAD_CHARS], size


def try_stage(
    workspace: Path,
    backend: str,
    stage: Stage,
    case_name: str | None,
    input_text: str | None,
    *,
    uid: int = SANDBOX_UID,
) -> TryOutcome:
    """Run ``bin/tN`` once, as the run's ``uid``; score it when it ran on a public case."""
    started = time.monotonic()
    if (case_name is None) == (input_text is None):
        raise StageTryError("give exactly one of case (a public case name) or input_text")
    # The program writes into a capped file system the chain makes inside this scratch
    # directory; all of it is released and removed, at any depth, when the try ends.
    with scratch_dir("mcp-try") as work:
        golden = None
        if case_name is not None:
            case = public_case(case_name)
            built = build_golden([case], backend=backend)
            if built.failures or not built.cases:
                raise StageTryError(f"the reference outputs of {case.name} could not be built")
            golden = built.cases[0]
            index = list(Stage).index(stage)
            source = case.source if index == 0 else golden.artifacts[list(Stage)[index - 1]]
            name = case.name
        else:
            assert input_text is not None
            suffix = stage_specs()[stage].input.suffix
            source = work / f"{_OWN_INPUT}{suffix}"
            handed = _as_handed(stage, input_text)
            if handed is None:
                why = f"no input: {NOT_ACCEPTED} (as grading would hand it on, it is empty)"
                return TryOutcome(False, None, why, "", 0, _since(started))
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
            name = _OWN_INPUT
        chain = _Chain(workspace, work / "chain", [case], backend, 1, uid=uid)
        produced = chain.run(stage, {name: source}, "try")[name]
        findings = [f.shown() for f in chain.findings]
        if isinstance(produced, str):
            return TryOutcome(False, 0.0 if golden else None, produced, "", 0, _since(started))
        head, size = _head(produced)
        if golden is None:
            diagnosis = "ran; no reference for your own input, so no score"
            if findings:
                diagnosis += "; " + "; ".join(findings)
            return TryOutcome(True, None, diagnosis, head, size, _since(started))
        if stage in (Stage.T0, Stage.T1, Stage.T2):
            # Text stages are compared without the judge's sandbox (it is not used for them),
            # T1 and T2 in the canonical form grading judges and hands on.
            form = canonical_file(stage, produced, work / "canonical", golden.artifacts[Stage.T0])
            judged = form if isinstance(form, Path) and stage is not Stage.T0 else produced
            scored = Judge([case], backend=backend).judge(stage, golden, judged)
        else:
            with Judge([case], backend=backend) as judge:
                scored = judge.judge(stage, golden, produced)
        score, diagnosis = scored.score, scored.diagnosis
        if findings:
            score, diagnosis = 0.0, "; ".join(findings) + f" (would score 0; else: {diagnosis})"
        return TryOutcome(True, score, diagnosis, head, size, _since(started))


def _as_handed(stage: Stage, text: str) -> str | None:
    """The agent's own input as grading hands such a text to ``stage``: the canonical form
    of the stage before's output (T2 reads tokens, T3 a tree), the rest as given."""
    if stage is Stage.T2:
        return canonical_tokens(text)
    if stage is Stage.T3:
        return canonical_ast(text)
    return text


def _since(started: float) -> float:
    return round(time.monotonic() - started, 3)
