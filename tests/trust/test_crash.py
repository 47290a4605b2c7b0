"""Crash safety in a reduced but real form: a few seeded trials that SIGKILL the grader or
the MCP server mid-submission (see tests/trust/crash.py; benchmarks/bench_crash.py runs 50+)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import backend_missing
from tests.trust.crash import reference_scores, run_trial
from toolchain._manifest import Profile

SAMPLE = 4
SEEDS = {"bwrap": (1, 2, 3), "docker": (5,)}


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="ramp-test-crash-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def expected(workdir: Path) -> dict[str, dict[str, float]]:
    return {}


@pytest.mark.parametrize(("backend", "seed"), [(b, s) for b, seeds in SEEDS.items() for s in seeds])
def test_crash_trial(
    backend: str, seed: int, workdir: Path, expected: dict[str, dict[str, float]]
) -> None:
    why = backend_missing(backend) or backend_missing(backend, Profile.MINIMAL)
    if why:
        pytest.skip(f"{backend}: {why}")
    if backend not in expected:
        expected[backend] = reference_scores(backend, SAMPLE, workdir)
        assert expected[backend]["T0"] == 100.0 and expected[backend]["T1"] < 60
    result = run_trial(seed, backend, SAMPLE, expected[backend], workdir)
    assert result.lost_results == [], result
    assert result.inconsistencies == [], result
    assert result.leftovers == [], result
