"""Checking an epoch again: its files, its golden artifacts, and optionally its programs.

``verify`` recomputes every hash the manifest holds (sources, inputs, expectations, the
golden copies in the epoch), has the reference pipeline build the cases again in a
scratch cache (so nothing cached is trusted) and compares those artifacts with the
manifest; ``differential`` also re-runs the differential check of every program.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from golden._builder import build_golden, golden_key
from golden._corpus import Case
from golden._expected import ExpectationError, establish
from golden._reference import ARTIFACT_FILES
from golden.epochs._models import EpochCaseRecord, EpochError, EpochVerdict
from golden.epochs._store import epoch_cases, epoch_dir, epoch_manifest, file_sha256

__all__ = ["verify_epoch"]


def _file_problems(directory: Path, record: EpochCaseRecord) -> list[str]:
    cases = directory / "cases"
    wanted = {
        cases / f"{record.name}.sy": record.source_sha256,
        cases / f"{record.name}.in": record.input_sha256,
        cases / f"{record.name}.out": record.expected_stdout_sha256,
    }
    wanted |= {
        directory / "golden" / record.name / ARTIFACT_FILES[s]: h for s, h in record.golden.items()
    }
    problems = []
    for path, digest in wanted.items():
        if digest is None:
            if path.exists():
                problems.append(f"{record.name}: {path.name} is not in the manifest")
        elif not path.is_file():
            problems.append(f"{record.name}: {path.name} is missing")
        elif file_sha256(path) != digest:
            problems.append(f"{record.name}: {path.name} differs from the manifest")
    return problems


def _golden_problems(
    cases: tuple[Case, ...], records: dict[str, EpochCaseRecord], backend: str
) -> list[str]:
    # A scratch cache inside the epoch's root-only directory: the hidden set is built into
    # it (through golden._builder's private build directory).
    assert cases and cases[0].golden_cache is not None
    with tempfile.TemporaryDirectory(
        prefix=".verify-", dir=cases[0].golden_cache.parent
    ) as scratch:
        result = build_golden(
            cases, backend=backend, cache_root=Path(scratch), private=True, force=True
        )
    problems = [
        f"{name}: the reference pipeline failed: {why[:300]}"
        for name, why in result.failures.items()
    ]
    for built in result.cases:
        for stage, digest in built.hashes.items():
            if records[built.name].golden.get(stage) != digest:
                problems.append(f"{built.name}: the {stage} golden artifact built now differs")
    return problems


def _differential_problems(case: Case) -> list[str]:
    try:
        expected = establish(case.source, case.stdin_bytes())
    except ExpectationError as exc:
        return [f"{case.name}: {exc}"]
    assert case.expected_stdout is not None
    if (expected.stdout, expected.exit_code) != (
        case.expected_stdout.read_bytes(),
        case.expected_exit,
    ):
        return [f"{case.name}: the program no longer behaves as its expectation says"]
    return []


def verify_epoch(epoch: str, *, backend: str = "auto", differential: bool = False) -> EpochVerdict:
    """Every check above; problems are listed, never raised (a missing epoch is)."""
    manifest = epoch_manifest(epoch)
    directory = epoch_dir(epoch)
    records = {record.name: record for record in manifest.cases}
    problems: list[str] = []
    if manifest.golden_key != golden_key():
        problems.append(
            f"the epoch was built with golden key {manifest.golden_key}, this toolchain has "
            f"{golden_key()}: its artifacts are compared anyway"
        )
    for record in manifest.cases:
        problems += _file_problems(directory, record)
    try:
        cases = epoch_cases(epoch)
    except (OSError, ValueError) as exc:
        raise EpochError(f"epoch {epoch} cannot be read ({exc}): make it again") from exc
    problems += _golden_problems(cases, records, backend)
    if differential:
        for case in cases:
            problems += _differential_problems(case)
    return EpochVerdict(epoch=epoch, ok=not problems, checked=len(cases), problems=problems)
