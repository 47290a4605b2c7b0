"""What an agent's workspace holds, and what it may receive as the stages advance.

At creation: the stage contracts, the language reference, the public cases (source, stdin,
expected stdout and exit code) and a README. When stage k opens, the public cases' golden
outputs of stage k-1 (the inputs stage k reads) are added under ``reference/T<k-1>/``.
Golden outputs of the open stage and of later stages, and anything of a hidden case, never
enter the workspace.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

from golden import CONTRACTS_DIR, Case, CaseArtifacts, Split, Stage, stage_specs

__all__ = [
    "REFERENCE_DIR",
    "prepare_agent_workspace",
    "reveal_stage_inputs",
    "write_resurrection_note",
]

REFERENCE_DIR = "reference"
CASES_DIR = "cases"

_README = """# Your task: a SysY compiler in six stages

Read `contracts/workspace.md` first: it says what this workspace must contain (`build.sh`,
`bin/t0` .. `bin/t5`) and where your programs run. Then `contracts/T0.md` .. `T5.md`, one
per stage, and `contracts/sysy-language.md`.

- `cases/`: public example programs: `NAME.sy`, stdin `NAME.in` (when the program reads
  input), the expected stdout `NAME.out` and exit code `NAME.exit`. Grading uses other,
  hidden programs of the same kinds.
- `reference/T<k>/`: the reference outputs of stage k for the public cases, added when the
  stage after it opens: they are that stage's inputs.

Stages open one at a time, starting with T0. Submit a stage when it is ready; it is graded
once on the hidden cases and passes at 60/100.
"""


def prepare_agent_workspace(workspace: Path, public: Sequence[Case]) -> None:
    """Fill a new, empty workspace for an agent."""
    workspace.mkdir(parents=True, exist_ok=True)
    if any(workspace.iterdir()):
        raise FileExistsError(f"{workspace} is not empty; a run starts from an empty workspace")
    contracts = workspace / "contracts"
    contracts.mkdir()
    for document in sorted(CONTRACTS_DIR.glob("*.md")):
        shutil.copyfile(document, contracts / document.name)
    cases = workspace / CASES_DIR
    cases.mkdir()
    for case in public:
        if case.split is not Split.PUBLIC:
            raise ValueError(f"{case.name} is not a public case")
        shutil.copyfile(case.source, cases / f"{case.name}.sy")
        if case.stdin is not None:
            shutil.copyfile(case.stdin, cases / f"{case.name}.in")
        if case.expected_stdout is not None:
            shutil.copyfile(case.expected_stdout, cases / f"{case.name}.out")
        if case.expected_exit is not None:
            (cases / f"{case.name}.exit").write_text(f"{case.expected_exit}\n")
    (workspace / "README.md").write_text(_README, encoding="utf-8")


def reveal_stage_inputs(
    workspace: Path, opened: Stage, public: Sequence[CaseArtifacts]
) -> Path | None:
    """Stage ``opened`` is open: give it the public golden outputs of the stage before it."""
    index = list(Stage).index(opened)
    if index == 0:
        return None
    before = list(Stage)[index - 1]
    target = workspace / REFERENCE_DIR / before.value
    target.mkdir(parents=True, exist_ok=True)
    suffix = stage_specs()[before].output.suffix
    for case in public:
        if case.split is not Split.PUBLIC:
            raise ValueError(f"{case.name} is not a public case")
        shutil.copyfile(case.artifacts[before], target / f"{case.name}{suffix}")
    return target


def write_resurrection_note(workspace: Path, stage: Stage, score: float) -> Path:
    """Tell the agent that ``stage`` failed and was replaced by its reference outputs."""
    note = workspace / REFERENCE_DIR / f"{stage.value}-RESURRECTED.md"
    note.parent.mkdir(parents=True, exist_ok=True)
    note.write_text(
        f"# {stage.value} was resurrected\n\n"
        f"{stage.value} scored {score:.2f} (below the pass mark) and has no attempts left. "
        f"From now on the grader feeds the reference {stage.value} outputs to the next stage "
        f"instead of yours, so you can go on. The public cases' reference {stage.value} "
        f"outputs are in `{REFERENCE_DIR}/{stage.value}/`.\n",
        encoding="utf-8",
    )
    return note
