"""The grader's content-addressed store: stage outputs frozen when their stage is graded.

A file lives at ``<root>/<sha[:2]>/<sha>`` (root: ``ramp_home()/store``), readable by
root only and never mounted into a sandbox: a stage program sees a copy of what it is fed,
in its own scratch directory. The ledger's ``stage_outputs`` rows say which submission's
output of which case each file is; a stage's chained grading is fed exactly those files.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

from pydantic import BaseModel

from toolchain import RampError, ramp_home

__all__ = ["OutputStore", "StoreError", "StoredOutput"]

_CHUNK = 1 << 20


class StoreError(RampError):
    """A frozen output is missing from the store or its content changed."""


class StoredOutput(BaseModel):
    sha256: str
    size: int


def _private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)


class OutputStore:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root or ramp_home() / "store"

    def _path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, source: Path) -> StoredOutput:
        """Copy ``source`` in (hashing it on the way) and say where it is kept."""
        _private_dir(self.root)
        temporary = self.root / f".in-{uuid.uuid4().hex}"
        digest, size = hashlib.sha256(), 0
        try:
            with source.open("rb") as reader, temporary.open("xb") as writer:
                os.fchmod(writer.fileno(), 0o600)
                for chunk in iter(lambda: reader.read(_CHUNK), b""):
                    digest.update(chunk)
                    writer.write(chunk)
                    size += len(chunk)
            stored = StoredOutput(sha256=digest.hexdigest(), size=size)
            final = self._path(stored.sha256)
            _private_dir(final.parent)
            if final.is_file() and final.stat().st_size == size:
                return stored
            temporary.replace(final)
            return stored
        finally:
            temporary.unlink(missing_ok=True)

    def fetch(self, stored: StoredOutput) -> Path:
        """The path of a frozen output, after checking its content is what was frozen."""
        path = self._path(stored.sha256)
        digest, size = hashlib.sha256(), 0
        try:
            with path.open("rb") as reader:
                for chunk in iter(lambda: reader.read(_CHUNK), b""):
                    digest.update(chunk)
                    size += len(chunk)
        except OSError as exc:
            raise StoreError(
                f"the frozen stage output {stored.sha256} is missing from {self.root} "
                f"({exc.strerror}); the store was altered: restore it from a backup, or "
                "resurrect the stage that made it"
            ) from exc
        if (digest.hexdigest(), size) != (stored.sha256, stored.size):
            raise StoreError(
                f"the frozen stage output at {path} no longer has the content it was frozen "
                "with; the store was altered: restore it from a backup"
            )
        return path
