"""Fixtures of the workspace tests (helpers in support.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.toolchain.workspace.support import give, open_workspace
from toolchain.workspace import Workspace


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory next to the workspace, with a secret file in it."""
    directory = tmp_path / "outside"
    directory.mkdir()
    (directory / "secret.txt").write_text("top secret\n")
    return directory


@pytest.fixture
def root(tmp_path: Path) -> Path:
    directory = tmp_path / "ws"
    directory.mkdir()
    give(directory)
    return directory


@pytest.fixture
def ws(root: Path) -> Iterator[Workspace]:
    workspace = open_workspace(root)
    yield workspace
    workspace.close()
