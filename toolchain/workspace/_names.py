"""How file names travel between the agent and the file system: one escape, both ways.

Linux names are bytes; tool arguments and results are JSON text. A name is shown as its
UTF-8 text, except that

- a byte that is not part of valid UTF-8 is shown as ``\\xNN`` (two lowercase hex digits),
- a literal backslash is shown doubled, ``\\\\``.

Arguments take the same form back: ``\\xNN`` (either case) is that byte and ``\\\\`` one
backslash. A backslash followed by anything else stands for itself, so ``a\\b`` still names
``a\\b``. Every name a tool lists can therefore be given back to any tool, and no result ever
carries a lone surrogate (which JSON encoders and pydantic handle badly).

Paths are ``/``-separated and relative to the workspace root; empty and ``.`` components are
dropped. They are capped at :data:`MAX_COMPONENTS` components and :data:`MAX_PATH_BYTES`
bytes (the kernel's ``PATH_MAX``), so no path can make a lookup unbounded.
"""

from __future__ import annotations

import re

from toolchain._errors import PathOutsideWorkspaceError, WorkspaceError, WorkspaceLimitError

__all__ = [
    "EXAMPLE",
    "MAX_COMPONENTS",
    "MAX_NAME_BYTES",
    "MAX_PATH_BYTES",
    "join",
    "parse_name",
    "parse_path",
    "require_text",
    "show",
]

EXAMPLE = "like 'src/main.c'"
MAX_COMPONENTS = 256
MAX_PATH_BYTES = 4096
MAX_NAME_BYTES = 255

_ESCAPED = re.compile(r"\\\\|\\[xX]([0-9a-fA-F]{2})")
_SURROGATE = re.compile("[\udc80-\udcff]")


def show(raw: bytes) -> str:
    """The text form of a name or path (see the module docstring)."""
    text = raw.decode("utf-8", "surrogateescape")
    if "\\" in text:
        text = text.replace("\\", "\\\\")
    if text.isascii():
        return text
    return _SURROGATE.sub(lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}", text)


def parse_name(text: str) -> bytes:
    """The bytes a shown name stands for (the inverse of :func:`show`)."""
    if "\\" not in text:
        return text.encode("utf-8")
    out = bytearray()
    position = 0
    for match in _ESCAPED.finditer(text):
        out += text[position : match.start()].encode("utf-8")
        out += b"\\" if match.group(1) is None else bytes([int(match.group(1), 16)])
        position = match.end()
    out += text[position:].encode("utf-8")
    return bytes(out)


def join(parts: tuple[bytes, ...]) -> bytes:
    return b"/".join(parts)


def require_text(value: object, what: str) -> str:
    """``value`` as a string that encodes as UTF-8 (no lone surrogates), or a clear error."""
    if not isinstance(value, str):
        raise WorkspaceError(f"{what} must be a string; got {type(value).__name__}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise WorkspaceError(
            f"{what} is not valid Unicode text (a lone surrogate {value[exc.start]!r} at "
            f"character {exc.start}); send UTF-8 text, and write a byte that is not UTF-8 "
            "in a file name as \\xNN"
        ) from exc
    return value


def parse_path(text: object, what: str = "path") -> tuple[bytes, ...]:
    """The components of a workspace-relative path, as bytes; refuses anything that could
    name a place outside the workspace or make a lookup unbounded."""
    path = require_text(text, what)
    if "\0" in path:
        raise PathOutsideWorkspaceError(
            f"{what} {path!r} contains a NUL byte; give a plain path relative to the "
            f"workspace root, {EXAMPLE}"
        )
    if path.startswith("/"):
        raise PathOutsideWorkspaceError(
            f"{what} {path!r} is absolute; give a path relative to the workspace root, {EXAMPLE}"
        )
    pieces = [piece for piece in path.split("/") if piece not in ("", ".")]
    if ".." in pieces:
        raise PathOutsideWorkspaceError(
            f"{what} {path!r} contains a '..' component, which is not allowed; give a "
            f"path relative to the workspace root without '..', {EXAMPLE}"
        )
    if len(pieces) > MAX_COMPONENTS:
        raise WorkspaceLimitError(
            f"{what} has {len(pieces)} components, more than the {MAX_COMPONENTS} a workspace "
            "path may have; use a shorter path (deeper trees can be handled with run_command)"
        )
    parts = tuple(_component(piece, path, what) for piece in pieces)
    size = sum(len(part) for part in parts) + max(0, len(parts) - 1)
    if size > MAX_PATH_BYTES:
        raise WorkspaceLimitError(
            f"{what} is {size} bytes long, more than the {MAX_PATH_BYTES} a path may have; "
            "use a shorter path"
        )
    return parts


def _component(piece: str, path: str, what: str) -> bytes:
    raw = parse_name(piece)
    if raw in (b".", b".."):
        raise PathOutsideWorkspaceError(
            f"{what} {path!r} spells a '.' or '..' component with escapes, which is not "
            f"allowed; give a plain path relative to the workspace root, {EXAMPLE}"
        )
    if b"/" in raw or b"\0" in raw:
        raise WorkspaceError(
            f"{what} {path!r} escapes a '/' or NUL byte into a name (\\x2f, \\x00), which no "
            "file name can hold; separate directories with a plain '/'"
        )
    if len(raw) > MAX_NAME_BYTES:
        raise WorkspaceLimitError(
            f"{what} {path[:80]!r}... has a component of {len(raw)} bytes; a file name holds "
            f"at most {MAX_NAME_BYTES}"
        )
    return raw
