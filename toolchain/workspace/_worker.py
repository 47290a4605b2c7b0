"""A confined worker: serves file operations on one tree, as the run's uid, in an empty root.

Started by ``_pool`` as ``python -I -W ignore -c ...`` with one inherited descriptor, the
tree's root. Everything it needs is imported and used once first (codecs included), and
warnings are ignored (a warning would make ``linecache`` read a source file). As root it
then closes every other descriptor, enters an empty read-only root in private mount,
network, IPC and UTS namespaces (see ``_isolation``: no path reaches a file, nothing
reaches the network), drops every group, takes the run's uid and gid for real, effective
and saved ids (which also clears every capability), and sets no_new_privs; then it bounds
its memory, open files and file size, forbids itself to fork, and takes away every finder
that imports from files, so a late import fails instead of looking anywhere. Every file
operation goes through the held descriptor with ``openat2`` beneath it. Run without root (a
developer's machine) it skips the namespaces and the uid change; ``openat2`` beneath the
root descriptor still confines every lookup.

It answers one request at a time until its input closes.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import resource
import signal
import sys
import time
import warnings
from collections.abc import Callable
from importlib.machinery import BuiltinImporter, FrozenImporter

from pydantic import BaseModel, ValidationError

from toolchain._errors import PathOutsideWorkspaceError, RampError, WorkspaceLimitError
from toolchain.workspace import _search
from toolchain.workspace._errors import (
    ReadOnlyWorkspaceError,
    SnapshotError,
    UnreadableEntryError,
    WorkspaceTimeoutError,
)
from toolchain.workspace._glob import GlobMatcher
from toolchain.workspace._isolation import enter_empty_root
from toolchain.workspace._protocol import (
    FAILURE,
    HEADER,
    MAX_JSON,
    MAX_PAYLOAD,
    RESULT,
    Call,
    DeleteRequest,
    EditRequest,
    Failure,
    FailureKind,
    GlobRequest,
    GrepRequest,
    ListRequest,
    MoveRequest,
    PingRequest,
    Pong,
    ReadRequest,
    SnapshotRequest,
    StatRequest,
    WorkerConfig,
    WriteRequest,
    frame,
)
from toolchain.workspace._snapshot import stream_snapshot
from toolchain.workspace._syscalls import set_no_new_privs
from toolchain.workspace._tree import Tree

__all__ = ["main"]

_IN, _OUT = 0, 1
# Left for the reply to travel before the server's own deadline kills the worker.
_MARGIN_S = 0.5
# Who this worker is, once confined (what ping answers).
_PONG: list[Pong] = []


def _read_exactly(size: int) -> bytes | None:
    chunks: list[bytes] = []
    left = size
    while left:
        chunk = os.read(_IN, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _send(status: int, body: bytes, payload: bytes = b"") -> None:
    view = memoryview(frame(status, body, payload))
    while view:
        view = view[os.write(_OUT, view) :]


def _fail(kind: FailureKind, message: str) -> None:
    _send(FAILURE, Failure(kind=kind, message=message).model_dump_json().encode())


def _kind(exc: RampError) -> FailureKind:
    if isinstance(exc, WorkspaceTimeoutError):
        return "timeout"
    if isinstance(exc, ReadOnlyWorkspaceError):
        return "read-only"
    if isinstance(exc, UnreadableEntryError):
        return "unreadable"
    if isinstance(exc, SnapshotError):
        return "snapshot"
    if isinstance(exc, WorkspaceLimitError):
        return "limit"
    if isinstance(exc, PathOutsideWorkspaceError):
        return "outside"
    return "workspace"


def _confine(config: WorkerConfig) -> bool:
    """As root: an empty root in private namespaces, then the run's ids; bounds either way."""
    os.umask(0o022)
    os.closerange(3, config.root_fd)
    os.closerange(config.root_fd + 1, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
    confined = os.geteuid() == 0 and config.chroot
    if confined:
        if config.uid is None or config.gid is None:
            raise RampError("refusing to serve file operations as root: no uid and gid were given")
        enter_empty_root()
        os.setgroups([])
        os.setresgid(config.gid, config.gid, config.gid)
        os.setresuid(config.uid, config.uid, config.uid)
        if os.getresuid() != (config.uid,) * 3 or os.getresgid() != (config.gid,) * 3:
            raise RampError("the uid or gid did not change; refusing to serve")
    set_no_new_privs()
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write over the cap fails, not kills
    file_cap = config.limits.max_file_bytes + (1 << 20)
    for limit, value in (
        (resource.RLIMIT_AS, config.memory_bytes),
        (resource.RLIMIT_NOFILE, config.open_files),
        (resource.RLIMIT_FSIZE, file_cap),
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_NPROC, 0),
    ):
        resource.setrlimit(limit, (value, value))
    _no_imports_from_files()
    return confined


def _no_imports_from_files() -> None:
    """From here on an import of anything not yet loaded fails: only the finders for
    modules built into the interpreter are left (they read no file)."""
    sys.path.clear()
    sys.path_importer_cache.clear()
    sys.path_hooks.clear()
    sys.meta_path[:] = [f for f in sys.meta_path if f in (BuiltinImporter, FrozenImporter)]


def _handlers(
    tree: Tree, payload: bytes, deadline: float, budget: float
) -> dict[type[BaseModel], Callable[[BaseModel], BaseModel | None]]:
    def handle_list(r: ListRequest) -> BaseModel:
        return _search.list_tree(tree, r.path, r.depth, deadline, budget)

    def handle_read(r: ReadRequest) -> BaseModel:
        return tree.read(r.path, r.offset, r.limit)

    def handle_write(r: WriteRequest) -> BaseModel:
        return tree.write(r.path, payload, r.create_dirs)

    def handle_edit(r: EditRequest) -> BaseModel:
        return tree.edit(r.path, r.old, r.new, r.replace_all)

    def handle_delete(r: DeleteRequest) -> BaseModel:
        return tree.delete(r.path, r.recursive)

    def handle_move(r: MoveRequest) -> BaseModel:
        return tree.move(r.src, r.dst, r.overwrite)

    def handle_glob(r: GlobRequest) -> BaseModel:
        return _search.glob(tree, r.pattern, deadline, budget)

    def handle_grep(r: GrepRequest) -> BaseModel:
        return _search.grep(
            tree, r.pattern, r.path, r.glob, r.ignore_case, r.max_matches, deadline, budget
        )

    def handle_stat(r: StatRequest) -> BaseModel:
        return tree.stat(r.path)

    def handle_snapshot(r: SnapshotRequest) -> BaseModel:
        return stream_snapshot(tree, r, deadline, budget, _send)

    def handle_ping(_r: PingRequest) -> BaseModel:
        return _PONG[0]

    table: dict[type[BaseModel], Callable[..., BaseModel | None]] = {
        ListRequest: handle_list,
        ReadRequest: handle_read,
        WriteRequest: handle_write,
        EditRequest: handle_edit,
        DeleteRequest: handle_delete,
        MoveRequest: handle_move,
        GlobRequest: handle_glob,
        GrepRequest: handle_grep,
        StatRequest: handle_stat,
        SnapshotRequest: handle_snapshot,
        PingRequest: handle_ping,
    }
    return table


def _serve_one(tree: Tree) -> bool:
    header = _read_exactly(HEADER.size)
    if header is None:
        return False
    body_size, payload_size, _ = HEADER.unpack(header)
    if body_size > MAX_JSON or payload_size > MAX_PAYLOAD:
        _fail("workspace", "request frame too large")
        return False
    body = _read_exactly(body_size)
    payload = _read_exactly(payload_size)
    if body is None or payload is None:
        return False
    try:
        call = Call.model_validate_json(body)
        budget = max(0.1, call.budget_s - _MARGIN_S)
        handlers = _handlers(tree, payload, time.monotonic() + budget, call.budget_s)
        result = handlers[type(call.request)](call.request)
    except RampError as exc:
        _fail(_kind(exc), str(exc))
        return True
    except ValidationError as exc:
        _fail("workspace", f"malformed request: {exc.error_count()} errors")
        return True
    except MemoryError:
        _fail("limit", "the file worker ran out of memory on this request; ask for less")
        return False
    except Exception as exc:  # noqa: BLE001 - the worker answers, whatever went wrong
        _fail("workspace", f"the file operation failed unexpectedly ({type(exc).__name__}: {exc})")
        return True
    if result is not None:
        _send(RESULT, result.model_dump_json().encode())
    return True


def _warm() -> None:
    """Use, once, what would otherwise be imported lazily once confined; ignore warnings."""
    warnings.simplefilter("ignore")
    for codec in ("utf-8", "ascii", "latin-1"):  # imports and caches each codec's module
        codecs.lookup(codec)
    Failure(kind="workspace", message="x").model_dump_json()
    Call.model_validate_json(b'{"request": {"op": "ping"}, "budget_s": 1}')
    GlobMatcher(("*.c", "**", "[a-z]?")).matches(("x.c",))
    _search.compile_pattern("(a|b)+x", True).search("aab", timeout=1.0)
    "\udcff".encode("utf-8", "surrogateescape").hex(" ")
    os.urandom(4)


def main(config_json: str) -> None:
    try:
        config = WorkerConfig.model_validate_json(config_json)
        _warm()
        confined = _confine(config)
        tree = Tree(config.root_fd, config.limits, read_only=config.read_only)
        pong = Pong(pid=os.getpid(), uid=os.geteuid(), confined=confined)
        _PONG.append(pong)
    except (RampError, OSError, ValidationError) as exc:
        with contextlib.suppress(OSError):
            _fail("workspace", f"{type(exc).__name__}: {exc}")
        sys.exit(3)
    _send(RESULT, pong.model_dump_json().encode())
    try:
        while _serve_one(tree):
            pass
    except (BrokenPipeError, ConnectionResetError):
        pass
    sys.exit(0)
