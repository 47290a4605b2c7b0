"""What an agent's workspace holds, and what it may receive as the stages advance.

At creation: the stage contracts, the language reference, the public cases (source, stdin,
expected stdout and exit code) and a README. When stage k opens, the public cases' golden
outputs of stage k-1 (the inputs stage k reads) are added under ``reference/T<k-1>/``.
Golden outputs of the open stage and of later stages, and anything of a hidden case, never
enter the workspace.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
from collections.abc import Iterator, Sequence
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
    suffix = stage_specs()[before].output.suffix
    for case in public:
        if case.split is not Split.PUBLIC:
            raise ValueError(f"{case.name} is not a public case")
    with _directory(workspace, REFERENCE_DIR, before.value) as target:
        for case in public:
            _write_new(target, f"{case.name}{suffix}", case.artifacts[before].read_bytes())
    return workspace / REFERENCE_DIR / before.value


def write_resurrection_note(workspace: Path, stage: Stage, score: float) -> Path:
    """Tell the agent that ``stage`` failed and was replaced by its reference outputs."""
    name = f"{stage.value}-RESURRECTED.md"
    text = (
        f"# {stage.value} was resurrected\n\n"
        f"{stage.value} scored {score:.2f} (below the pass mark) and has no attempts left. "
        f"From now on the grader feeds the reference {stage.value} outputs to the next stage "
        f"instead of yours, so you can go on. The public cases' reference {stage.value} "
        f"outputs are in `{REFERENCE_DIR}/{stage.value}/`.\n"
    )
    with _directory(workspace, REFERENCE_DIR) as directory:
        _write_new(directory, name, text.encode("utf-8"))
    return workspace / REFERENCE_DIR / name


# The agent's own processes may be changing its workspace while the grader (root) writes
# into it: every step below works on directory descriptors and never follows a symlink,
# so a link planted at reference/, reference/T0/ or a file name cannot send a write
# outside the workspace. Whatever the agent put in the way is removed (it is in its own
# workspace, where these names are reserved for the grader).
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_TRIES = 5


def _clear(parent: int, name: str) -> None:
    try:
        info = os.lstat(name, dir_fd=parent)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(info.st_mode):
        shutil.rmtree(name, dir_fd=parent)
    else:
        os.unlink(name, dir_fd=parent)


def _open_dir(parent: int, name: str) -> int:
    for _ in range(_TRIES):
        try:
            return os.open(name, _DIR_FLAGS, dir_fd=parent)
        except FileNotFoundError:
            pass
        except OSError as exc:
            if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
                raise
            _clear(parent, name)
        with contextlib.suppress(FileExistsError):
            os.mkdir(name, 0o755, dir_fd=parent)
    raise OSError(errno.EAGAIN, f"{name} keeps changing while the grader writes it")


@contextlib.contextmanager
def _directory(workspace: Path, *names: str) -> Iterator[int]:
    """A descriptor of the real directory ``workspace/names...``, made where missing."""
    opened = [os.open(workspace, _DIR_FLAGS)]
    try:
        for name in names:
            opened.append(_open_dir(opened[-1], name))
        yield opened[-1]
    finally:
        for fd in opened:
            os.close(fd)


def _write_new(directory: int, name: str, data: bytes) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    for _ in range(_TRIES):
        _clear(directory, name)
        try:
            fd = os.open(name, flags, 0o644, dir_fd=directory)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        return
    raise OSError(errno.EAGAIN, f"{name} keeps changing while the grader writes it")
