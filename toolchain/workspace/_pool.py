"""Confined worker processes, seen from the server: spawn, call with a deadline, replace.

A worker is started with :mod:`subprocess` (never a fork of the threaded server) and given
only its root directory's descriptor and two pipes; it confines itself (see ``_worker``:
an empty root in private namespaces, the run's uid) and says it is ready. A pool keeps up to ``size`` workers per root, so one slow call does
not hold up the others. A call that runs past its deadline gets its worker killed (the
next call starts a fresh one) and a clear error; a worker found dead is replaced without
the caller noticing, and a call it died in is retried once when it changes nothing.
"""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from toolchain._errors import (
    PathOutsideWorkspaceError,
    RampError,
    WorkspaceError,
    WorkspaceLimitError,
)
from toolchain.workspace._errors import (
    ReadOnlyWorkspaceError,
    SnapshotError,
    UnreadableEntryError,
    WorkerError,
    WorkspaceTimeoutError,
)
from toolchain.workspace._protocol import (
    ENTRY,
    FAILURE,
    HEADER,
    MAX_JSON,
    MAX_PAYLOAD,
    RESULT,
    Failure,
    WorkerConfig,
)

__all__ = ["Frame", "WorkerPool", "WorkerProcess", "failure_error", "open_root"]

Frame = tuple[int, bytes, bytes]
"""A frame read from a worker: status, JSON body, payload."""

_PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])
_BOOT = (
    "import sys; sys.path.insert(0, sys.argv[2]); "
    "from toolchain.workspace._worker import main; main(sys.argv[1])"
)
_START_S = 30.0
_READ_CHUNK = 1 << 20


class _Dead(Exception):
    """The worker's pipe closed; ``delivered`` says whether it had the whole request."""

    def __init__(self, delivered: bool) -> None:
        super().__init__("worker gone")
        self.delivered = delivered


class _Overrun(Exception):
    """The deadline passed while waiting for the worker."""


class WorkerProcess:
    """One confined worker and the server's ends of its pipes."""

    def __init__(self, config: WorkerConfig) -> None:
        argv = [sys.executable, "-I", "-W", "ignore", "-X", "utf8", "-c", _BOOT]
        argv.append(config.model_dump_json())
        argv.append(_PACKAGE_PARENT)
        try:
            self._process = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                pass_fds=(config.root_fd,),
                close_fds=True,
                cwd="/",
                env={"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"},
            )
        except OSError as exc:
            raise WorkerError(
                f"cannot start a file worker ({exc}); check that {sys.executable} can run"
            ) from exc
        assert self._process.stdin is not None and self._process.stdout is not None
        self._to = self._process.stdin.fileno()
        self._from = self._process.stdout.fileno()
        os.set_blocking(self._to, False)
        os.set_blocking(self._from, False)
        self._buffer = bytearray()
        self._poll_in = select.poll()
        self._poll_in.register(self._from, select.POLLIN)
        self._poll_out = select.poll()
        self._poll_out.register(self._to, select.POLLOUT)
        self._greeted(time.monotonic() + _START_S)

    def _greeted(self, deadline: float) -> None:
        try:
            status, body, _ = self.receive(deadline)
        except (_Dead, _Overrun) as exc:
            self.kill()
            raise WorkerError(
                "a file worker did not start (it exited or stayed silent); this machine must "
                "let root make mount, network and IPC namespaces and change uid, and run "
                "Linux 5.6+ for openat2"
            ) from exc
        if status == FAILURE:
            self.kill()
            raise WorkerError(f"a file worker could not start: {_failure_text(body)}")

    @property
    def pid(self) -> int:
        return self._process.pid

    def alive(self) -> bool:
        return self._process.poll() is None

    def send(self, data: bytes, deadline: float) -> None:
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self._to, view) :]
                continue
            except BlockingIOError:
                pass
            except (BrokenPipeError, ConnectionResetError) as exc:
                raise _Dead(delivered=False) from exc
            self._wait(self._poll_out, deadline)

    def _wait(self, poller: select.poll, deadline: float) -> None:
        left = deadline - time.monotonic()
        ready = left > 0 and poller.poll(max(1, int(left * 1000)))
        if not ready and time.monotonic() >= deadline:
            raise _Overrun()

    def _exactly(self, size: int, deadline: float) -> bytes:
        while len(self._buffer) < size:
            try:
                chunk = os.read(self._from, max(_READ_CHUNK, size - len(self._buffer)))
            except BlockingIOError:
                self._wait(self._poll_in, deadline)
                continue
            if not chunk:
                raise _Dead(delivered=True)
            self._buffer += chunk
        taken = bytes(self._buffer[:size])
        del self._buffer[:size]
        return taken

    def receive(self, deadline: float) -> Frame:
        """The next frame; raises ``_Dead``, ``_Overrun`` or ``WorkerError`` (a frame no
        worker of ours would send)."""
        body_size, payload_size, status = HEADER.unpack(self._exactly(HEADER.size, deadline))
        if body_size > MAX_JSON or payload_size > MAX_PAYLOAD or status > 2:
            self.kill()
            raise WorkerError("a file worker sent a malformed reply and was stopped; retry")
        body = self._exactly(body_size, deadline)
        return status, body, self._exactly(payload_size, deadline)

    def kill(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(timeout=10)
        for stream in (self._process.stdin, self._process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


def open_root(root: Path) -> int:
    """A descriptor of the directory ``root`` (a path the caller trusts), for workers."""
    try:
        return os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise WorkspaceError(
            f"workspace root {str(root)!r} cannot be opened ({exc.strerror}); create the "
            "directory before opening a workspace on it"
        ) from exc


_FAILURES: dict[str, type[RampError]] = {
    "workspace": WorkspaceError,
    "outside": PathOutsideWorkspaceError,
    "limit": WorkspaceLimitError,
    "timeout": WorkspaceTimeoutError,
    "read-only": ReadOnlyWorkspaceError,
    "snapshot": SnapshotError,
    "unreadable": UnreadableEntryError,
}


def failure_error(failure: Failure) -> RampError:
    """The error a worker's failure reply stands for."""
    return _FAILURES[failure.kind](failure.message)


def _failure_text(body: bytes) -> str:
    try:
        return Failure.model_validate_json(body).message
    except ValueError:
        return "(an unreadable message)"


class WorkerPool:
    """Up to ``size`` workers confined to one root, shared by the server's threads."""

    def __init__(self, config: WorkerConfig, *, size: int = 2) -> None:
        self._config = config
        self._size = size
        self._idle: list[WorkerProcess] = []
        self._count = 0
        self._closed = False
        self._changed = threading.Condition()

    def call(self, request: bytes, deadline: float, *, idempotent: bool, what: str) -> Frame:
        """Send one request frame and return the reply frame."""
        return self.stream(request, deadline, None, idempotent=idempotent, what=what)

    def stream(
        self,
        request: bytes,
        deadline: float,
        on_entry: Callable[[bytes, bytes], None] | None,
        *,
        idempotent: bool,
        what: str,
    ) -> Frame:
        """Send one request frame; hand every ``ENTRY`` frame to ``on_entry`` (an error there
        stops the worker) and return the final reply frame."""
        for attempt in (1, 2):
            worker = self._acquire(deadline, what)
            try:
                worker.send(request, deadline)
                reply = worker.receive(deadline)
                while reply[0] == ENTRY and on_entry is not None:
                    on_entry(reply[1], reply[2])
                    reply = worker.receive(deadline)
            except _Overrun as exc:
                self._discard(worker)
                raise WorkspaceTimeoutError(
                    f"{what} did not finish in time and was stopped (its worker was "
                    "replaced); narrow the request (a smaller directory, a simpler pattern) "
                    "or use a command in the sandbox"
                ) from exc
            except _Dead as exc:
                self._discard(worker)
                if attempt == 1 and (idempotent or not exc.delivered):
                    continue
                raise WorkerError(
                    f"the file worker stopped while doing {what}; check the result with "
                    "list_files or read_file, and retry"
                ) from exc
            except BaseException:
                self._discard(worker)
                raise
            if reply[0] not in (RESULT, FAILURE):
                self._discard(worker)
                raise WorkerError(f"a file worker answered {what} out of turn and was stopped")
            self._release(worker)
            return reply
        raise AssertionError("unreachable")

    def _acquire(self, deadline: float, what: str) -> WorkerProcess:
        with self._changed:
            while True:
                if self._closed:
                    raise WorkerError("this workspace is closed; open a new one")
                while self._idle:
                    worker = self._idle.pop()
                    if worker.alive():
                        return worker
                    self._count -= 1
                    worker.kill()
                if self._count < self._size:
                    self._count += 1
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    raise WorkspaceTimeoutError(
                        f"{what} waited for a free file worker until its deadline (other "
                        "calls on this workspace are still running); retry shortly"
                    )
                self._changed.wait(left)
        try:
            return WorkerProcess(self._config)
        except BaseException:
            with self._changed:
                self._count -= 1
                self._changed.notify()
            raise

    def _release(self, worker: WorkerProcess) -> None:
        with self._changed:
            if self._closed:
                self._count -= 1
                worker.kill()
            else:
                self._idle.append(worker)
            self._changed.notify()

    def _discard(self, worker: WorkerProcess) -> None:
        worker.kill()
        with self._changed:
            self._count -= 1
            self._changed.notify()

    def workers(self) -> list[int]:
        """Pids of the idle workers (for tests and diagnostics)."""
        with self._changed:
            return [worker.pid for worker in self._idle]

    def close(self) -> None:
        with self._changed:
            self._closed = True
            idle, self._idle = self._idle, []
            self._count -= len(idle)
            self._changed.notify_all()
        for worker in idle:
            worker.kill()
