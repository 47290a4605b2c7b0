"""A test double for an agent's workspace: stage programs that look answers up by input.

``write_oracle(workspace, answers)`` writes build.sh and bin/t0..t5 (Python, so they run in
the minimal environment) that hash their input file and copy the stored answer; unknown
inputs fail. Given the golden artifacts of some cases it passes every stage on them, and
on any other case it scores what hard-coded answers deserve.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterable
from pathlib import Path

from golden import ARTIFACT_FILES, CaseArtifacts, Stage

PROGRAM = """#!/usr/bin/env python3
import hashlib, pathlib, shutil, sys
here = pathlib.Path(__file__).resolve().parent.parent
digest = hashlib.sha256(pathlib.Path(sys.argv[1]).read_bytes()).hexdigest()
answer = here / "answers" / "{stage}" / digest
if not answer.is_file():
    sys.exit("no stored answer for this input")
shutil.copyfile(answer, sys.argv[2])
"""


def _previous_input(stage: Stage, case: CaseArtifacts, sources: dict[str, Path]) -> Path:
    index = list(Stage).index(stage)
    if index == 0:
        return sources[case.name]
    return case.artifacts[list(Stage)[index - 1]]


def write_oracle(
    workspace: Path,
    cases: Iterable[CaseArtifacts],
    sources: dict[str, Path],
    *,
    stages: Iterable[Stage] = tuple(Stage),
) -> None:
    workspace.mkdir(parents=True, exist_ok=True)
    (workspace / "build.sh").write_text(
        "#!/bin/sh\nset -e\nmkdir -p bin\ncp src/* bin/\nchmod +x bin/*\n"
    )
    (workspace / "build.sh").chmod(0o755)
    src = workspace / "src"
    src.mkdir(exist_ok=True)
    for stage in Stage:
        (src / stage.value.lower()).write_text(PROGRAM.format(stage=stage.value))
        (workspace / "answers" / stage.value).mkdir(parents=True, exist_ok=True)
    chosen = set(stages)
    for case in cases:
        for stage in chosen:
            given = _previous_input(stage, case, sources).read_bytes()
            digest = hashlib.sha256(given).hexdigest()
            shutil.copyfile(case.artifacts[stage], workspace / "answers" / stage.value / digest)
    assert set(ARTIFACT_FILES) == set(Stage)
