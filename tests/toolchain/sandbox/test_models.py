"""Requests are validated at the boundary with messages that say how to fix them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from toolchain._manifest import Profile
from toolchain.sandbox import ExecLimits, ExecRequest, SandboxSpec
from toolchain.sandbox._capture import CappedStream, RawExit, build_result


def test_exactly_one_command_form() -> None:
    with pytest.raises(ValidationError, match="exactly one of argv"):
        ExecRequest()
    with pytest.raises(ValidationError, match="exactly one of argv"):
        ExecRequest(argv=("true",), shell="true")
    with pytest.raises(ValidationError, match="argv is empty"):
        ExecRequest(argv=())
    assert ExecRequest(shell="echo hi").command() == ("/bin/sh", "-c", "echo hi")


@pytest.mark.parametrize("cwd", ["/etc", "../x", "a/../../b", "a\x00b"])
def test_cwd_must_stay_inside(cwd: str) -> None:
    with pytest.raises(ValidationError, match="inside the workspace"):
        ExecRequest(argv=("true",), cwd=cwd)


def test_limits_are_bounded() -> None:
    with pytest.raises(ValidationError):
        ExecLimits(timeout_s=0)
    with pytest.raises(ValidationError):
        ExecLimits(memory_mb=1)
    assert ExecLimits().merged(timeout_s=None, memory_mb=64).memory_mb == 64


def test_host_profile_is_not_a_sandbox() -> None:
    with pytest.raises(ValidationError, match="'dev' or 'minimal'"):
        SandboxSpec(profile=Profile.HOST)


def test_capped_stream_keeps_the_head_and_counts_the_rest() -> None:
    stream = CappedStream(5)
    assert stream.feed(b"abc")
    assert not stream.feed(b"defg")
    assert stream.dropped == 2
    assert stream.text().startswith("abcde\n[ramp: output truncated after 5 bytes; 2 more")


def test_signal_exit_codes_read_as_signals() -> None:
    result = build_result(
        RawExit(returncode=139, signal_number=11, duration_s=0.1),
        CappedStream(10),
        CappedStream(10),
        backend="test",
        timeout_s=1,
    )
    assert result.outcome.value == "killed"
    assert result.signal == "SIGSEGV"
    assert result.exit_code == 139
