"""Helpers the stage tests of the reference solution share."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from golden import Case, CaseArtifacts, Split, build_golden, builtin_corpus
from tests.support import backend_missing

SOLUTION = Path(__file__).resolve().parents[3] / "golden" / "solution"


def run_stage(binary: Path, source: Path, output: Path, timeout: float | None = None) -> float:
    """Run `bin/tN SOURCE OUTPUT` in the solution directory; it must succeed. Returns the
    seconds it took."""
    started = time.perf_counter()
    ran = subprocess.run(
        [str(binary), str(source), str(output)],
        cwd=SOLUTION,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    elapsed = time.perf_counter() - started
    assert ran.returncode == 0, ran.stderr[-2000:]
    return elapsed


def build_public(names: tuple[str, ...]) -> dict[str, CaseArtifacts]:
    """The golden artifacts of the named public corpus cases, built locally."""
    wanted = [c for c in builtin_corpus() if c.name in names]
    assert all(c.split is Split.PUBLIC for c in wanted)
    build = build_golden(wanted)
    assert build.failures == {}
    return {c.name: c for c in build.cases}


def build_public_with(
    names: tuple[str, ...], backend: str
) -> tuple[list[Case], dict[str, CaseArtifacts]]:
    """The named public cases and their golden artifacts built with `backend` (the test is
    skipped when that backend cannot run here)."""
    if backend_missing(backend):
        pytest.skip(f"{backend} not ready")
    cases = [c for c in builtin_corpus() if c.name in names]
    assert all(c.split.value == "public" for c in cases)
    build = build_golden(cases, backend=backend)
    assert build.failures == {}
    return cases, {c.name: c for c in build.cases}
