"""Writing a rendered report to a file: whole or not at all."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from grader.report._errors import ReportError

__all__ = ["write_report"]


def write_report(text: str, output: Path) -> None:
    """Write ``text`` to ``output`` through a temporary file and a rename, so a failure never
    leaves half a file (nor clobbers the old one); :class:`ReportError` saying what to do."""
    target = output.resolve()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        Path(temporary).replace(target)
    except OSError as exc:
        raise ReportError(
            f"cannot write {output}: {exc.strerror or exc}; choose a writable path for -o"
        ) from exc
