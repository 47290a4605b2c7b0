"""Where epochs live and how one is read: ``ramp_home()/epochs/ID/``, root-only.

Layout of an epoch directory (written once by golden.epochs._make, then never changed):

    manifest.json          EpochManifest: seed, generator version, every file's sha256
    cases/NAME.sy .in      the program and its stdin
    cases/NAME.out .exit   what it must print and return (differential execution)
    golden/NAME/...        the reference pipeline's artifacts T0..T5 (golden._builder)

The directory is outside the repository and mode 0700: no sandbox user can read it, and
nothing of it is mounted into an agent's sandbox; grading copies the cases it needs.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from golden._corpus import CORPUS_DIR, Case, CaseKind, Split, builtin_corpus
from golden.epochs._models import (
    BUILTIN_EPOCH,
    EpochCase,
    EpochError,
    EpochManifest,
    EpochSummary,
    EpochView,
)
from golden.generator import GENERATOR_VERSION
from toolchain import ramp_home

__all__ = [
    "GOLDEN_CACHE",
    "MANIFEST",
    "case_of",
    "coverage_of",
    "current_epoch",
    "epoch_cases",
    "epoch_dir",
    "epoch_id",
    "epoch_manifest",
    "epochs_root",
    "file_sha256",
    "list_epochs",
    "show_epoch",
    "use_epoch",
]

MANIFEST = "manifest.json"
# The epoch's own golden cache (golden._builder), inside its root-only directory.
GOLDEN_CACHE = "golden-cache"
_CURRENT = "CURRENT"


def epochs_root() -> Path:
    """``ramp_home()/epochs``, made root-only (0700) on first use."""
    root = ramp_home() / "epochs"
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o700)
    return root


def epoch_id(seed: int, functional: int, performance: int) -> str:
    """An epoch's id: generator version, counts and a digest of the seed, never the seed.

    The generator is public, so the seed IS the hidden set: whoever knows it can make every
    program and its outputs. Ids appear in reports and leaderboards; the seed stays in the
    root-only manifest. The same seed and counts give the same id (and the same epoch). The
    digest is scrypt's (memory-hard, tens of milliseconds), so checking guesses of a seed
    against a published id is slow as well as hopeless for a random 62-bit seed.
    """
    made_by = f"{GENERATOR_VERSION}:{functional}:{performance}".encode()
    digest = hashlib.scrypt(
        str(seed).encode(), salt=b"ramp-epoch-id:" + made_by, n=1 << 14, r=8, p=1, dklen=6
    )
    return f"g{GENERATOR_VERSION}-f{functional}-p{performance}-{digest.hex()}"


def _checked_id(epoch: str) -> str:
    if not epoch or not all(c.isalnum() or c == "-" for c in epoch) or epoch.startswith("-"):
        raise EpochError(
            f"{epoch!r} is no epoch id: ids are letters, digits and '-' "
            "(`ramp golden epoch list` shows them)"
        )
    return epoch


def epoch_dir(epoch: str) -> Path:
    return epochs_root() / _checked_id(epoch)


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def epoch_manifest(epoch: str) -> EpochManifest:
    """The epoch's manifest; an epoch that does not exist gets the way to make one."""
    path = epoch_dir(epoch) / MANIFEST
    if not path.is_file():
        raise EpochError(
            f"there is no epoch {epoch!r} in {epochs_root()}: make one with "
            "`ramp golden epoch new --seed S` or list them with `ramp golden epoch list`"
        )
    try:
        return EpochManifest.model_validate_json(path.read_bytes())
    except ValueError as exc:
        raise EpochError(
            f"{path} is not an epoch manifest ({exc}); make the epoch again with "
            "`ramp golden epoch new`"
        ) from exc


def case_of(directory: Path, name: str, kind: CaseKind) -> Case:
    """Case ``name`` of the epoch (or staging) directory ``directory``, as grading sees it."""
    stdin = directory / "cases" / f"{name}.in"
    return Case(
        name=name,
        split=Split.HIDDEN,
        kind=kind,
        source=directory / "cases" / f"{name}.sy",
        stdin=stdin if stdin.is_file() else None,
        expected_stdout=directory / "cases" / f"{name}.out",
        expected_exit=int((directory / "cases" / f"{name}.exit").read_text().strip()),
        golden_cache=directory / GOLDEN_CACHE,
    )


def epoch_cases(epoch: str) -> tuple[Case, ...]:
    """The hidden cases of ``epoch``, sorted by name: the built-in hidden set for ``0``."""
    if epoch == BUILTIN_EPOCH:
        return tuple(c for c in builtin_corpus() if c.split is Split.HIDDEN)
    return _cases_of(epoch_dir(epoch), epoch_manifest(epoch))


def _cases_of(directory: Path, manifest: EpochManifest) -> tuple[Case, ...]:
    cases = (case_of(directory, record.name, record.kind) for record in manifest.cases)
    return tuple(sorted(cases, key=lambda c: c.name))


def current_epoch() -> str:
    """The epoch new runs and grades use when none is named (``ramp golden epoch use``)."""
    marker = epochs_root() / _CURRENT
    return marker.read_text().strip() if marker.is_file() else BUILTIN_EPOCH


def use_epoch(epoch: str) -> None:
    """Make ``epoch`` the default; ``0`` goes back to the built-in corpus."""
    if epoch != BUILTIN_EPOCH:
        epoch_manifest(epoch)
    marker = epochs_root() / _CURRENT
    temporary = marker.with_name(f".{_CURRENT}.{os.getpid()}")
    temporary.write_text(f"{epoch}\n")
    temporary.replace(marker)


def _view_case(case: Case, features: list[str]) -> EpochCase:
    assert case.expected_stdout is not None and case.expected_exit is not None
    return EpochCase(
        name=case.name,
        kind=case.kind,
        source=case.source.absolute(),
        input=case.stdin.absolute() if case.stdin else None,
        expected_stdout=case.expected_stdout.absolute(),
        expected_exit_code=case.expected_exit,
        features=features,
    )


def coverage_of(manifest: EpochManifest) -> dict[str, float]:
    """feature -> share of the epoch's programs using it (the coverage table)."""
    total = len(manifest.cases) or 1
    counts: dict[str, int] = {}
    for record in manifest.cases:
        for feature in record.features:
            counts[feature] = counts.get(feature, 0) + 1
    return {feature: round(counts[feature] / total, 4) for feature in sorted(counts)}


def show_epoch(epoch: str) -> EpochView:
    """The epoch with every case's files, as ``--json`` prints it."""
    current = current_epoch() == epoch
    if epoch == BUILTIN_EPOCH:
        cases = [_view_case(c, []) for c in epoch_cases(epoch)]
        return EpochView(
            epoch=epoch,
            seed=None,
            generator_version=None,
            dir=CORPUS_DIR,
            current=current,
            cases=cases,
        )
    manifest = epoch_manifest(epoch)
    features = {record.name: record.features for record in manifest.cases}
    return EpochView(
        epoch=epoch,
        seed=manifest.seed,
        generator_version=manifest.generator_version,
        dir=epoch_dir(epoch),
        current=current,
        cases=[_view_case(c, features[c.name]) for c in _cases_of(epoch_dir(epoch), manifest)],
        coverage=coverage_of(manifest),
        rejected=manifest.rejected,
    )


def list_epochs() -> list[EpochSummary]:
    """Epoch 0 and every complete epoch on this machine (half-made ones are skipped)."""
    builtin = epoch_cases(BUILTIN_EPOCH)
    current = current_epoch()
    rows = [
        EpochSummary(
            epoch=BUILTIN_EPOCH,
            seed=None,
            generator_version=None,
            functional=sum(c.kind is not CaseKind.PERFORMANCE for c in builtin),
            performance=sum(c.kind is CaseKind.PERFORMANCE for c in builtin),
            dir=CORPUS_DIR,
            current=current == BUILTIN_EPOCH,
        )
    ]
    for directory in sorted(epochs_root().iterdir()):
        if directory.name.startswith(".") or not (directory / MANIFEST).is_file():
            continue
        manifest = epoch_manifest(directory.name)
        rows.append(
            EpochSummary(
                epoch=manifest.epoch,
                seed=manifest.seed,
                generator_version=manifest.generator_version,
                functional=manifest.functional,
                performance=manifest.performance,
                dir=directory,
                current=current == manifest.epoch,
            )
        )
    return rows
