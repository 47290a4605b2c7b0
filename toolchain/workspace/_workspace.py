"""A file API confined to one workspace directory, served by confined worker processes.

Untrusted agents name files with relative path strings. This class checks the arguments it
can check cheaply and hands every operation to a worker (see ``_worker``): a process that,
when the server runs as root, holds the workspace's descriptor in an empty root of its own
(private mount, network and IPC namespaces: see ``_isolation``), runs as the run's own
unprivileged uid, and resolves every path with ``openat2(RESOLVE_BENEATH)`` relative to
the root's descriptor and acts on the last component relative to its parent's descriptor. So
neither a path check nor a race can make an operation touch anything outside the workspace,
and whatever it creates belongs to the run's uid from the start.

Names that are not UTF-8 are shown and accepted in one escaped form (see ``_names``).
"""

from __future__ import annotations

import contextlib
import os
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from toolchain._errors import WorkspaceError, WorkspaceLimitError
from toolchain.workspace._errors import WorkerError, WorkspaceTimeoutError
from toolchain.workspace._models import (
    FileEdited,
    FileRead,
    FileWritten,
    GlobResult,
    GrepMatch,
    GrepResult,
    PathDeleted,
    PathMoved,
    TreeEntry,
    TreeListing,
    WorkspaceLimits,
)
from toolchain.workspace._names import require_text
from toolchain.workspace._pool import WorkerPool, failure_error, open_root
from toolchain.workspace._protocol import (
    FAILURE,
    RESULT,
    Call,
    DeleteRequest,
    EditRequest,
    Failure,
    GlobRequest,
    GrepRequest,
    ListRequest,
    MoveRequest,
    PingRequest,
    Pong,
    ReadRequest,
    Request,
    StatRequest,
    WorkerConfig,
    WriteRequest,
    frame,
)

__all__ = ["DEFAULT_TIMEOUT_S", "Workspace"]

DEFAULT_TIMEOUT_S = 10.0
_Result = TypeVar("_Result", bound=BaseModel)


def _ids(uid: int | None, gid: int | None, chroot: bool) -> tuple[int | None, int | None]:
    if os.geteuid() != 0 or not chroot:
        return None, None  # the workers keep this process's identity, whatever was asked
    if uid is None or gid is None or uid == 0 or gid == 0:
        raise WorkspaceError(
            "as root the workspace file tools run as an unprivileged user: give "
            "Workspace(root, uid=..., gid=...) the run's sandbox uid and gid (not 0)"
        )
    return uid, gid


class Workspace:
    """File operations confined to the directory ``root``.

    ``uid``/``gid``: who the workers run as when the caller is root (required then, never
    0); ignored otherwise. ``read_only`` refuses every change. ``label``: a prefix shown in
    front of every path of a result (and accepted in front of every path argument), for a
    tree the agent sees somewhere else, like ``/ramp/reference``.
    ``openat2_only_for_tests``: workers keep this process's identity and root (no empty
    root, no namespaces), as on a machine without root, so tests can check the openat2
    layer on its own; no server may pass it.
    """

    def __init__(
        self,
        root: Path,
        *,
        uid: int | None = None,
        gid: int | None = None,
        limits: WorkspaceLimits | None = None,
        read_only: bool = False,
        label: str = "",
        workers: int = 2,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        openat2_only_for_tests: bool = False,
    ) -> None:
        try:
            real_root = Path(root).resolve(strict=True)
        except (OSError, RuntimeError) as exc:
            raise WorkspaceError(
                f"workspace root {str(root)!r} cannot be used ({exc}); "
                "create the directory before opening a workspace on it"
            ) from exc
        if not real_root.is_dir():
            raise WorkspaceError(
                f"workspace root {str(root)!r} is not a directory; give a directory path"
            )
        self._root = real_root
        self._limits = limits if limits is not None else WorkspaceLimits()
        self._label = label.rstrip("/")
        self._timeout_s = timeout_s
        self.uid, self.gid = _ids(uid, gid, not openat2_only_for_tests)
        self.read_only = read_only
        self._root_fd = open_root(real_root)
        config = WorkerConfig(
            root_fd=self._root_fd,
            uid=self.uid,
            gid=self.gid,
            read_only=read_only,
            limits=self._limits,
            chroot=not openat2_only_for_tests,
        )
        self._pool = WorkerPool(config, size=workers)
        self._finalizer = weakref.finalize(self, _shut, self._pool, self._root_fd)

    @property
    def root(self) -> Path:
        """The real (symlink-free) path of the workspace root."""
        return self._root

    @property
    def limits(self) -> WorkspaceLimits:
        return self._limits

    def close(self) -> None:
        """Stop the workers; later calls fail."""
        self._finalizer()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- the calls ---------------------------------------------------------------------------

    def _call(
        self,
        request: Request,
        result: type[_Result],
        *,
        payload: bytes = b"",
        idempotent: bool = True,
    ) -> _Result:
        return self.exchange(request, result, payload=payload, idempotent=idempotent)

    def exchange(
        self,
        request: Request,
        result: type[_Result],
        *,
        payload: bytes = b"",
        idempotent: bool = True,
        on_entry: Callable[[bytes, bytes], None] | None = None,
        timeout_s: float | None = None,
    ) -> _Result:
        """One request to a worker and its reply as ``result`` (a failure raised as its
        RampError); streamed entries go to ``on_entry``. The one door to the workers, used
        by the methods below and by ``snapshot_tree``."""
        what = f"{request.op} on the workspace"
        budget = self._timeout_s if timeout_s is None else timeout_s
        body = Call(request=request, budget_s=budget).model_dump_json().encode()
        deadline = time.monotonic() + budget + 1
        status, reply, _ = self._pool.stream(
            frame(RESULT, body, payload), deadline, on_entry, idempotent=idempotent, what=what
        )
        try:
            if status == FAILURE:
                failure = Failure.model_validate_json(reply)
            else:
                return result.model_validate_json(reply)
        except ValueError as exc:
            raise WorkerError(f"a file worker gave a malformed answer to {what}; retry") from exc
        raise failure_error(failure)

    def _arg(self, path: object, what: str = "path") -> str:
        text = require_text(path, what)
        if self._label and (text == self._label or text.startswith(self._label + "/")):
            return text[len(self._label) :].lstrip("/")
        return text

    def _shown(self, rel: str) -> str:
        if not self._label:
            return rel
        return f"{self._label}/{rel}" if rel else self._label

    def ping(self) -> Pong:
        """Who a worker runs as (starts one if none is running)."""
        return self._call(PingRequest(), Pong)

    def worker_pids(self) -> list[int]:
        """Pids of the idle workers."""
        return self._pool.workers()

    # -- reading -----------------------------------------------------------------------------

    def stat(self, path: str) -> TreeEntry:
        """What ``path`` is; symlinks that stay inside are followed."""
        entry = self._call(StatRequest(path=self._arg(path)), TreeEntry)
        return entry.model_copy(update={"path": self._shown(entry.path)})

    def list_tree(self, path: str = "", *, depth: int = 3) -> TreeListing:
        """List entries below a directory, ``depth`` levels deep (1 = direct children)."""
        listing = self._call(ListRequest(path=self._arg(path), depth=depth), TreeListing)
        if not self._label:
            return listing
        entries = tuple(e.model_copy(update={"path": self._shown(e.path)}) for e in listing.entries)
        return listing.model_copy(update={"path": self._shown(listing.path), "entries": entries})

    def read(self, path: str, *, offset: int = 0, limit: int | None = None) -> FileRead:
        """Read up to ``limit`` bytes of a file starting at byte ``offset``.

        Text chunks are widened or narrowed to whole UTF-8 characters. Binary files
        (a NUL byte in the first 8 KiB, or invalid UTF-8) get a hex preview instead.
        """
        request = ReadRequest(path=self._arg(path), offset=offset, limit=limit)
        read = self._call(request, FileRead)
        return read.model_copy(update={"path": self._shown(read.path)}) if self._label else read

    def glob(self, pattern: str) -> GlobResult:
        """Paths matching a glob (``*``, ``?``, ``[...]``, ``**`` for any depth), matched
        against names as they are shown. Symlinks are reported when they match, never entered.
        """
        found = self._call(GlobRequest(pattern=self._arg(pattern, "glob pattern")), GlobResult)
        if not self._label:
            return found
        matches = tuple(self._shown(match) for match in found.matches)
        return found.model_copy(update={"pattern": pattern, "matches": matches})

    def grep(
        self,
        pattern: str,
        *,
        path: str = "",
        glob: str | None = None,
        ignore_case: bool = False,
        max_matches: int | None = None,
    ) -> GrepResult:
        """Search text files line by line with a Python regular expression.

        ``glob`` filters files: a pattern without ``/`` matches file names anywhere,
        one with ``/`` matches the path from the workspace root. Symlinks are skipped.
        """
        request = GrepRequest(
            pattern=require_text(pattern, "pattern"),
            path=self._arg(path),
            glob=None if glob is None else self._arg(glob, "glob filter"),
            ignore_case=ignore_case,
            max_matches=max_matches,
        )
        try:
            found = self._call(request, GrepResult)
        except WorkspaceTimeoutError as exc:
            # The regex engine checks its own 5 s budget only now and then; under load it
            # can overrun it, and then the deadline stops the whole call.
            raise WorkspaceTimeoutError(
                f"grep for {pattern!r} did not finish within {self._timeout_s:g} s and was "
                "stopped; nested repetition like '(a|aa)+' can take exponential time: "
                "simplify the expression or narrow path/glob"
            ) from exc
        if not self._label:
            return found
        matches = tuple(
            GrepMatch.model_validate({**m.model_dump(), "path": self._shown(m.path)})
            for m in found.matches
        )
        return found.model_copy(update={"matches": matches})

    # -- changing ----------------------------------------------------------------------------

    def write(self, path: str, content: str | bytes, *, create_dirs: bool = True) -> FileWritten:
        """Create or replace a file atomically. A new file whose content starts with ``#!``
        is made executable (0755); an existing file keeps its mode."""
        data = (
            require_text(content, "content").encode("utf-8")
            if isinstance(content, str)
            else bytes(content)
        )
        if len(data) > self._limits.max_file_bytes:
            raise WorkspaceLimitError(
                f"content is {len(data)} bytes, over the {self._limits.max_file_bytes} byte "
                "limit for one file; split it into smaller files"
            )
        request = WriteRequest(path=self._arg(path), create_dirs=create_dirs)
        return self._call(request, FileWritten, payload=data, idempotent=False)

    def edit(self, path: str, old: str, new: str, *, replace_all: bool = False) -> FileEdited:
        """Replace the exact text ``old`` with ``new``; once unless ``replace_all``."""
        request = EditRequest(
            path=self._arg(path),
            old=require_text(old, "old text"),
            new=require_text(new, "the new text"),
            replace_all=replace_all,
        )
        return self._call(request, FileEdited, idempotent=False)

    def delete(self, path: str, *, recursive: bool = False) -> PathDeleted:
        """Delete a file, symlink (the link only) or directory."""
        request = DeleteRequest(path=self._arg(path), recursive=recursive)
        return self._call(request, PathDeleted, idempotent=False)

    def move(self, src: str, dst: str, *, overwrite: bool = False) -> PathMoved:
        """Rename ``src`` to ``dst`` (a symlink moves as the link itself)."""
        request = MoveRequest(
            src=self._arg(src, "source"), dst=self._arg(dst, "destination"), overwrite=overwrite
        )
        return self._call(request, PathMoved, idempotent=False)


def _shut(pool: WorkerPool, root_fd: int) -> None:
    pool.close()
    with contextlib.suppress(OSError):
        os.close(root_fd)
