"""Shared fixtures: real sandboxes, real workspaces that uid 1000 can reach, a real
PostgreSQL (``postgres_server``, from tests/postgres.py)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.postgres import postgres_server
from tests.support import reachable_temp_dir
from toolchain._capped import gc_capped_dirs, mounted_by_this_process, release_capped_dir

__all__ = ["postgres_server"]  # a fixture every test directory may use


@pytest.fixture
def workspace() -> Iterator[Path]:
    """A fresh directory the sandbox user (uid 1000) can reach (pytest's tmp_path is 0700)."""
    path = reachable_temp_dir("ramp-test-ws-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def _release_capped_dirs() -> Iterator[None]:
    """Runs' capped workspaces are mounts (loop devices): none outlives the test session."""
    yield
    for path in mounted_by_this_process():
        release_capped_dir(path)
    gc_capped_dirs()


@pytest.fixture(autouse=True)
def _collect_orphaned_mounts() -> Iterator[None]:
    """A test that deleted a run's home (rm -rf) left its mounts orphaned: unmount them."""
    yield
    gc_capped_dirs()


@pytest.fixture
def marker() -> str:
    return f"RAMP_TEST_MARK_{uuid.uuid4().hex}"
