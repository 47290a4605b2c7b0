"""run_stage's hand-off: a program sees, and is judged on, the forms grading uses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from golden import Split, Stage, build_golden, builtin_corpus
from grader import run_stage
from tests.support import backend_missing
from toolchain import Profile

BACKEND = "bwrap"
PAYLOAD = "CARRIED-7d1e"


@pytest.fixture(autouse=True)
def _needs_bwrap() -> None:
    if backend_missing(BACKEND) or backend_missing(BACKEND, Profile.MINIMAL):
        pytest.skip("bwrap not ready")


def _program(workspace: Path, stage: Stage, text: str) -> None:
    path = workspace / "bin" / stage.value.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)


def test_own_input_reaches_t3_in_the_canonical_form(workspace: Path) -> None:
    _program(workspace, Stage.T3, '#!/bin/sh\ncat "$1" > "$2"\n')
    tree = {
        "kind": "TranslationUnitDecl",
        "carried": PAYLOAD,
        "inner": [{"kind": "FunctionDecl", "name": "main", "loc": {"file": PAYLOAD}}],
    }
    ran = run_stage(workspace, BACKEND, Stage.T3, None, json.dumps(tree))
    assert ran.ok and PAYLOAD not in ran.output_head
    assert json.loads(ran.output_head) == {
        "id": "0x1",
        "kind": "TranslationUnitDecl",
        "inner": [{"id": "0x2", "kind": "FunctionDecl", "name": "main"}],
    }
    nothing = run_stage(workspace, BACKEND, Stage.T3, None, "[1, 2]")
    assert not nothing.ok and nothing.diagnosis.startswith("no input:")


def test_a_public_t1_output_is_judged_as_it_is_handed_on(workspace: Path) -> None:
    case = next(c for c in builtin_corpus() if c.split is Split.PUBLIC)
    golden = build_golden([case], backend=BACKEND).cases[0]
    answer = workspace / "answer.tokens"
    answer.write_text(golden.artifacts[Stage.T1].read_text() + f"// {PAYLOAD}\n")
    _program(workspace, Stage.T1, '#!/bin/sh\ncp answer.tokens "$2"\n')
    ran = run_stage(workspace, BACKEND, Stage.T1, case.name, None)
    assert ran.score == 100.0, ran.diagnosis
