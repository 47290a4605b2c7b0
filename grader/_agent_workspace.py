"""What an agent's workspace holds at creation, and the references it is given later.

At creation the workspace receives the stage contracts, the language reference, the public
cases (source, stdin, expected stdout and exit code) and a README. Every file is created
owned by the run's uid (``toolchain.write_owned``) in the fresh 0700 root, before
anything of the agent runs, so nothing has to be handed over afterwards.

When stage k opens, the public cases' golden outputs of stage k-1 (the inputs stage k
reads) are put in the run's reference directory **beside** the workspace
(``<run home>/reference/T<k-1>/``, mounted read-only at ``/ramp/reference/T<k-1>/`` in the
run's sandboxes): root's, readable and not writable by the run, outside the workspace's
byte cap and outside every snapshot. Artifacts up to ``INLINE_MAX_BYTES`` are stored as
they are; larger ones gzip-compressed as ``NAME.EXT.gz``. Each stage's reveal is built
once per set of golden artifacts in a shared cache and copied into each run. Golden
outputs of the open stage and of later stages, and anything of a hidden case, are never
revealed.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from golden import CONTRACTS_DIR, Case, CaseArtifacts, Split, Stage, stage_specs
from grader._run_home import REFERENCE_DIR
from toolchain import make_owned_dir, write_owned

__all__ = [
    "INLINE_MAX_BYTES",
    "REFERENCE_DIR",
    "REFERENCE_MOUNT",
    "prepare_agent_workspace",
    "reveal_stage_inputs",
    "write_resurrection_note",
]

REFERENCE_MOUNT = "/ramp/reference"
INLINE_MAX_BYTES = 8 << 20
CASES_DIR = "cases"
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC

_README = f"""# Your task: a SysY compiler in six stages

Read `contracts/workspace.md` first: it says what this workspace must contain (`build.sh`,
`bin/t0` .. `bin/t5`) and where your programs run. Then `contracts/T0.md` .. `T5.md`, one
per stage, and `contracts/sysy-language.md`.

- `cases/`: public example programs: `NAME.sy`, stdin `NAME.in` (when the program reads
  input), the expected stdout `NAME.out` and exit code `NAME.exit`. Grading uses other,
  hidden programs of the same kinds.
- `{REFERENCE_MOUNT}/T<k>/` (outside this workspace, read-only): the reference outputs of
  stage k for the public cases, added when the stage after it opens: they are that stage's
  inputs. Commands see them there; the file tools read them as `{REFERENCE_MOUNT}/...`.
  Files over {INLINE_MAX_BYTES >> 20} MB are gzip-compressed as `NAME.EXT.gz` (`zcat` reads them).

This workspace holds at most 512 MB and 100,000 files and directories (the whole workspace
is what a submission grades); a write past that fails with "No space left on device".

Stages open one at a time, starting with T0. Submit a stage when it is ready; it is graded
once on the hidden cases and passes at 60/100.
"""


def _public_files(public: Sequence[Case]) -> dict[str, bytes]:
    """What a new workspace holds: relative path -> content."""
    files = {
        f"contracts/{document.name}": document.read_bytes()
        for document in sorted(CONTRACTS_DIR.glob("*.md"))
    }
    for case in public:
        if case.split is not Split.PUBLIC:
            raise ValueError(f"{case.name} is not a public case")
        files[f"{CASES_DIR}/{case.name}.sy"] = case.source.read_bytes()
        if case.stdin is not None:
            files[f"{CASES_DIR}/{case.name}.in"] = case.stdin.read_bytes()
        if case.expected_stdout is not None:
            files[f"{CASES_DIR}/{case.name}.out"] = case.expected_stdout.read_bytes()
        if case.expected_exit is not None:
            files[f"{CASES_DIR}/{case.name}.exit"] = f"{case.expected_exit}\n".encode()
    files["README.md"] = _README.encode("utf-8")
    return files


def prepare_agent_workspace(
    workspace: Path, public: Sequence[Case], *, owner: tuple[int, int] | None = None
) -> None:
    """Fill a new, empty workspace for an agent; with ``owner`` (uid, gid) as root, every
    file and directory is created owned by it."""
    workspace.mkdir(parents=True, exist_ok=True)
    if any(workspace.iterdir()):
        raise FileExistsError(f"{workspace} is not empty; a run starts from an empty workspace")
    files = _public_files(public)
    uid, gid = owner or (os.geteuid(), os.getegid())
    root = os.open(workspace, _DIR_FLAGS)
    try:
        for directory in sorted({rel.rpartition("/")[0] for rel in files} - {""}):
            make_owned_dir(directory, uid, gid, mode=0o755, dir_fd=root)
        for rel, data in files.items():
            parent_name, _, name = rel.rpartition("/")
            parent = os.open(parent_name, _DIR_FLAGS, dir_fd=root) if parent_name else os.dup(root)
            try:
                write_owned(name, data, uid, gid, dir_fd=parent)
            finally:
                os.close(parent)
    finally:
        os.close(root)


# -- references ----------------------------------------------------------------------------


def _store(source: Path, target: Path) -> None:
    """One artifact into the reveal cache: as it is, or gzip-compressed when large."""
    if source.stat().st_size <= INLINE_MAX_BYTES:
        shutil.copyfile(source, target)
        target.chmod(0o644)
        return
    packed = target.with_name(target.name + ".gz")
    # mtime 0 and no file name: the same artifact always compresses to the same bytes.
    with (
        source.open("rb") as raw,
        packed.open("wb") as sink,
        gzip.GzipFile(filename="", mode="wb", fileobj=sink, mtime=0) as squeezed,
    ):
        shutil.copyfileobj(raw, squeezed, 1 << 20)
    packed.chmod(0o644)


def _publish(staged: Path, final: Path) -> None:
    """Rename a finished directory into place; when another process won, keep theirs."""
    staged.chmod(0o755)
    try:
        staged.rename(final)
    except OSError:
        shutil.rmtree(staged, ignore_errors=True)
        if not final.is_dir():
            raise


def _cached_reveal(cache: Path, stage: Stage, public: Sequence[CaseArtifacts]) -> Path:
    """The public outputs of ``stage`` as revealed, built once per set of artifacts."""
    digest = hashlib.sha256()
    for case in sorted(public, key=lambda c: c.name):
        digest.update(f"{case.name}\0{case.hashes[stage]}\n".encode())
    final = cache / f"{stage.value}-{digest.hexdigest()[:16]}"
    if final.is_dir():
        return final
    cache.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=".partial-", dir=cache))
    try:
        suffix = stage_specs()[stage].output.suffix
        for case in public:
            _store(case.artifacts[stage], staged / f"{case.name}{suffix}")
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    _publish(staged, final)
    return final


def reveal_stage_inputs(
    reference: Path, opened: Stage, public: Sequence[CaseArtifacts], *, cache: Path
) -> Path | None:
    """Stage ``opened`` is open: put the public golden outputs of the stage before it in
    the run's ``reference`` directory (once); the directory they are in."""
    before = opened.previous
    if before is None:
        return None
    for case in public:
        if case.split is not Split.PUBLIC:
            raise ValueError(f"{case.name} is not a public case")
    target = reference / before.value
    if target.is_dir():
        return target
    source = _cached_reveal(cache, before, public)
    reference.mkdir(mode=0o755, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=f".{before.value}-", dir=reference))
    try:
        for item in sorted(source.iterdir()):
            shutil.copyfile(item, staged / item.name)
            (staged / item.name).chmod(0o644)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    _publish(staged, target)
    return target


def write_resurrection_note(reference: Path, stage: Stage, score: float) -> Path:
    """Tell the agent that ``stage`` failed and was replaced by its reference outputs."""
    name = f"{stage.value}-RESURRECTED.md"
    text = (
        f"# {stage.value} was resurrected\n\n"
        f"{stage.value} scored {score:.2f} (below the pass mark) and has no attempts left. "
        f"From now on the grader feeds the reference {stage.value} outputs to the next stage "
        f"instead of yours, so you can go on. The public cases' reference {stage.value} "
        f"outputs are in `{REFERENCE_MOUNT}/{stage.value}/`.\n"
    )
    reference.mkdir(mode=0o755, exist_ok=True)
    staged = reference / f".{name}.new"
    with contextlib.suppress(FileNotFoundError):
        staged.unlink()
    staged.write_text(text, encoding="utf-8")
    staged.chmod(0o644)
    staged.replace(reference / name)
    return reference / name
