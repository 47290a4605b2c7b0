"""Shared fixtures: real sandboxes, real workspaces that uid 1000 can reach."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import reachable_temp_dir


@pytest.fixture
def workspace() -> Iterator[Path]:
    """A fresh directory the sandbox user (uid 1000) can reach (pytest's tmp_path is 0700)."""
    path = reachable_temp_dir("ramp-test-ws-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def marker() -> str:
    return f"RAMP_TEST_MARK_{uuid.uuid4().hex}"
