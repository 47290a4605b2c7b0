"""Integrity fixtures: the toolchain's code prints and honest programs, once per session.

The prints are cached on disk under ``ramp_home()/integrity`` (built on first use, about a
minute), so a session only loads them. Honest programs are compiled once per session.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader._codeprints import CodePrints, toolchain_prints
from tests.grader.integrity.variants import build_cpp, build_go, build_rust
from tests.support import backend_missing, reachable_temp_dir
from toolchain._image import find_rootfs
from toolchain._manifest import Profile


@pytest.fixture(scope="session")
def prints() -> CodePrints:
    if find_rootfs(Profile.DEV) is None:
        pytest.skip("the development root file system is not built")
    return toolchain_prints()


@pytest.fixture(scope="session")
def honest_builds() -> Iterator[dict[str, Path]]:
    """Our own C++ (g++ and clang++-19, dynamic and static), Rust and Go programs."""
    reason = backend_missing("bwrap")
    if reason:
        pytest.skip(reason)
    directory = reachable_temp_dir("ramp-test-honest-")
    try:
        built = build_cpp(directory, ["g++ -O2", "clang++-19 -O2", "g++ -O2 -static"])
        for label, program in (("rustc -O", build_rust(directory)), ("go", build_go(directory))):
            if program is not None:
                built[label] = program
        yield built
    finally:
        shutil.rmtree(directory, ignore_errors=True)
