"""Pieces every backend shares: capped output capture and turning raw facts into a result."""

from __future__ import annotations

import signal as signal_module
import threading

from pydantic import BaseModel

from toolchain.sandbox._models import TRUNCATION_MARKER, ExecResult, Outcome

__all__ = ["CappedStream", "RawExit", "build_result"]


class CappedStream:
    """Keeps the first ``limit`` bytes of a stream and counts what it drops. Thread-safe."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._chunks: list[bytes] = []
        self._kept = 0
        self.dropped = 0
        self._lock = threading.Lock()

    def feed(self, data: bytes) -> bool:
        """Add ``data``; returns False once the limit has been exceeded."""
        with self._lock:
            room = self.limit - self._kept
            if room > 0:
                kept = data[:room]
                self._chunks.append(kept)
                self._kept += len(kept)
            self.dropped += max(0, len(data) - max(room, 0))
            return self.dropped == 0

    @property
    def overflowed(self) -> bool:
        return self.dropped > 0

    def text(self) -> str:
        with self._lock:
            body = b"".join(self._chunks).decode("utf-8", errors="replace")
            if self.dropped:
                body += TRUNCATION_MARKER.format(limit=self.limit, dropped=self.dropped)
            return body


class RawExit(BaseModel):
    """What a backend observed, before classification."""

    returncode: int | None
    signal_number: int | None = None
    timed_out: bool = False
    oom_killed: bool = False
    output_limited: bool = False
    disk_limited: bool = False
    killed_by_sandbox: bool = False
    duration_s: float
    notes: list[str] = []


def _signal_name(number: int) -> str:
    try:
        return signal_module.Signals(number).name
    except ValueError:
        return f"signal {number}"


def build_result(
    raw: RawExit, stdout: CappedStream, stderr: CappedStream, *, backend: str, timeout_s: float
) -> ExecResult:
    signal_name = _signal_name(raw.signal_number) if raw.signal_number is not None else None
    if raw.timed_out:
        outcome, detail = Outcome.TIMEOUT, f"killed after the {timeout_s:g} s time limit"
    elif raw.oom_killed:
        outcome, detail = Outcome.OUT_OF_MEMORY, "killed: the command exceeded its memory limit"
    elif raw.disk_limited:
        outcome = Outcome.OUTPUT_LIMIT
        detail = "killed: the files it wrote took the sandbox past its disk limit"
    elif raw.output_limited:
        outcome = Outcome.OUTPUT_LIMIT
        detail = f"killed: output exceeded the {stdout.limit} byte limit per stream"
    elif raw.signal_number is not None:
        outcome, detail = Outcome.KILLED, f"ended by {signal_name}"
    elif raw.returncode == 0:
        outcome, detail = Outcome.OK, ""
    else:
        outcome, detail = Outcome.NONZERO, f"exited with status {raw.returncode}"
    if raw.notes:
        detail = "; ".join([detail, *raw.notes]) if detail else "; ".join(raw.notes)
    return ExecResult(
        outcome=outcome,
        exit_code=raw.returncode if raw.returncode is not None and raw.returncode >= 0 else None,
        signal=signal_name,
        stdout=stdout.text(),
        stderr=stderr.text(),
        stdout_truncated=stdout.overflowed,
        stderr_truncated=stderr.overflowed,
        duration_s=round(raw.duration_s, 6),
        backend=backend,
        detail=detail,
    )
