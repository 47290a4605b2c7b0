"""What the server and a confined worker say to each other over a pair of pipes.

A frame is a 9-byte header (JSON length, payload length: big-endian u32 each; a status
byte), then that much JSON, then that many raw bytes. Requests are one frame whose JSON is a
:class:`Call`; file contents travel as the raw payload, never inside JSON. A reply is one
frame: the operation's result model (``RESULT``) or a :class:`Failure` (``FAILURE``). A
snapshot streams ``ENTRY`` frames (a :class:`SnapshotEntry`, file data as payload) before
its result. Both sides validate everything they read with these models: the server treats
whatever a worker says as untrusted.
"""

from __future__ import annotations

import struct
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from toolchain.workspace._models import WorkspaceLimits

__all__ = [
    "ENTRY",
    "FAILURE",
    "HEADER",
    "MAX_JSON",
    "MAX_PAYLOAD",
    "RESULT",
    "Call",
    "DeleteRequest",
    "EditRequest",
    "Failure",
    "FailureKind",
    "GlobRequest",
    "GrepRequest",
    "ListRequest",
    "MoveRequest",
    "PingRequest",
    "Pong",
    "ReadRequest",
    "Request",
    "SnapshotDone",
    "SnapshotEntry",
    "SnapshotRequest",
    "StatRequest",
    "WorkerConfig",
    "WriteRequest",
    "frame",
]

HEADER = struct.Struct(">IIB")
RESULT, FAILURE, ENTRY = 0, 1, 2
MAX_JSON = 32 << 20
MAX_PAYLOAD = 64 << 20


def frame(status: int, body: bytes, payload: bytes = b"") -> bytes:
    return HEADER.pack(len(body), len(payload), status) + body + payload


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class WorkerConfig(_Message):
    """How a worker confines itself; given on its command line."""

    root_fd: int = Field(ge=3)
    uid: int | None = Field(default=None, ge=1)
    gid: int | None = Field(default=None, ge=1)
    chroot: bool = True
    """As root: enter an empty root in private namespaces and take ``uid``/``gid``. False
    only in tests of the openat2 layer alone (the worker then keeps root's identity and the
    host's root, as a non-root server keeps its own)."""
    read_only: bool = False
    limits: WorkspaceLimits = WorkspaceLimits()
    memory_bytes: int = Field(default=1 << 30, gt=0)
    open_files: int = Field(default=320, gt=8)
    """Enough for a recursive delete holding one descriptor per level (at most 256)."""


class ListRequest(_Message):
    op: Literal["list"] = "list"
    path: str
    depth: int


class ReadRequest(_Message):
    op: Literal["read"] = "read"
    path: str
    offset: int
    limit: int | None


class WriteRequest(_Message):
    """The content is the frame's payload."""

    op: Literal["write"] = "write"
    path: str
    create_dirs: bool


class EditRequest(_Message):
    op: Literal["edit"] = "edit"
    path: str
    old: str
    new: str
    replace_all: bool


class DeleteRequest(_Message):
    op: Literal["delete"] = "delete"
    path: str
    recursive: bool


class MoveRequest(_Message):
    op: Literal["move"] = "move"
    src: str
    dst: str
    overwrite: bool


class GlobRequest(_Message):
    op: Literal["glob"] = "glob"
    pattern: str


class GrepRequest(_Message):
    op: Literal["grep"] = "grep"
    pattern: str
    path: str
    glob: str | None
    ignore_case: bool
    max_matches: int | None


class StatRequest(_Message):
    op: Literal["stat"] = "stat"
    path: str


class SnapshotRequest(_Message):
    op: Literal["snapshot"] = "snapshot"
    max_bytes: int = Field(gt=0)
    max_entries: int = Field(gt=0)


class PingRequest(_Message):
    op: Literal["ping"] = "ping"


Request = Annotated[
    ListRequest
    | ReadRequest
    | WriteRequest
    | EditRequest
    | DeleteRequest
    | MoveRequest
    | GlobRequest
    | GrepRequest
    | StatRequest
    | SnapshotRequest
    | PingRequest,
    Field(discriminator="op"),
]


class Call(_Message):
    request: Request
    budget_s: float = Field(gt=0)
    """Seconds the worker has; it stops walks and searches before then, with a clear error."""


FailureKind = Literal[
    "workspace", "outside", "limit", "timeout", "read-only", "snapshot", "unreadable"
]


class Failure(_Message):
    kind: FailureKind
    message: str


class SnapshotEntry(_Message):
    """One streamed entry of a snapshot: ``file`` is followed by ``data`` frames (the content
    as payload) and an ``eof``; ``skip`` is a FIFO, socket or device that is not copied."""

    kind: Literal["dir", "file", "link", "skip", "data", "eof"]
    path: str = ""
    """Shown form (see ``_names``), relative to the root."""
    mode: int = Field(default=0, ge=0, le=0o777)
    target: str = ""
    """Shown form of a symlink's text."""


class SnapshotDone(_Message):
    entries: int
    bytes: int


class Pong(_Message):
    pid: int
    uid: int
    confined: bool
