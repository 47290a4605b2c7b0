"""The local backend exists only behind an explicit unsafe flag, and says so every time."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolchain._errors import SandboxUnavailableError
from toolchain.sandbox import UNSAFE_WARNING, ExecLimits, Outcome, create_backend, open_sandbox
from toolchain.sandbox._models import SandboxSpec


def test_local_is_refused_without_the_flag(workspace: Path) -> None:
    with pytest.raises(SandboxUnavailableError, match="no isolation"):
        open_sandbox(workspace, "local")
    with pytest.raises(SandboxUnavailableError, match="allow_unsafe"):
        create_backend("local", SandboxSpec())


def test_local_says_it_is_unsafe_on_every_use(
    workspace: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with open_sandbox(workspace, "local", allow_unsafe=True) as box:
        first = box.exec(["echo", "hi"])
        second = box.exec("exit 4")
    assert first.outcome is Outcome.OK and first.stdout == "hi\n"
    assert second.outcome is Outcome.NONZERO and second.exit_code == 4
    assert UNSAFE_WARNING in first.detail and UNSAFE_WARNING in second.detail
    assert caplog.text.count("UNSAFE local backend") == 2


def test_local_still_enforces_time_and_output(workspace: Path) -> None:
    with open_sandbox(workspace, "local", allow_unsafe=True) as box:
        slow = box.exec("sleep 30", timeout_s=0.5)
        loud = box.exec("yes", limits=ExecLimits(output_bytes=4096, timeout_s=30))
    assert slow.outcome is Outcome.TIMEOUT
    assert loud.outcome is Outcome.OUTPUT_LIMIT and loud.stdout_truncated


def test_unknown_backend_names_the_choices(workspace: Path) -> None:
    with pytest.raises(SandboxUnavailableError, match="choose one of: auto, bwrap, docker, local"):
        open_sandbox(workspace, "podman")
