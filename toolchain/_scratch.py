"""Scratch directories for work on what an agent's programs make: owned by one process, removed
whole when the work ends, collected when that process died.

Grading (``RAMP_HOME/grading``) and run_stage (``RAMP_HOME/mcp-try``) each work in a fresh
directory named ``<pid>-<start>-<random>``: the owning process's id and its start time (in
clock ticks since boot, from ``/proc/<pid>/stat``), so a later process that happens to get
the same pid is not taken for its owner. The capped file systems the work mounts inside
(``toolchain._capped``) are released and the directory removed at any depth when the work
ends, whatever ended it. A process killed mid-work leaves its directory, mounts and images
behind: :func:`gc_scratch_dirs` (``ramp sandbox gc``, and the stage machine's ``recover``)
removes every one whose owner is gone.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from toolchain._capped import remove_tree
from toolchain._errors import RampError
from toolchain._paths import ramp_home

__all__ = ["SCRATCH_KINDS", "gc_scratch_dirs", "scratch_dir"]

SCRATCH_KINDS = ("grading", "mcp-try")
_NAME = re.compile(r"(\d+)-(\d+)-[0-9a-f]{8}")
# A directory named some other way comes from an older RAMP; it is collected once it has
# not changed for this long (no grading lasts that long).
_LEGACY_AGE_S = 6 * 3600
_log = logging.getLogger(__name__)


def _start_ticks(pid: int) -> int | None:
    """When process ``pid`` started (clock ticks since boot), or None if there is none."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces or parentheses.
    fields = text[text.rfind(")") + 2 :].split()
    return int(fields[19])  # field 22 of the whole line


@contextlib.contextmanager
def scratch_dir(kind: str) -> Iterator[Path]:
    """A fresh directory under ``RAMP_HOME/<kind>`` (root's, 0755) for this process, removed
    with everything in it (capped file systems released first) when the block ends."""
    if kind not in SCRATCH_KINDS:
        raise ValueError(f"unknown scratch kind {kind!r}; one of {SCRATCH_KINDS}")
    parent = ramp_home() / kind
    parent.mkdir(parents=True, exist_ok=True)
    parent.chmod(0o755)
    pid = os.getpid()
    path = parent / f"{pid}-{_start_ticks(pid) or 0}-{uuid.uuid4().hex[:8]}"
    path.mkdir(mode=0o755)
    path.chmod(0o755)
    try:
        yield path
    finally:
        _remove(path)


def _remove(path: Path) -> bool:
    """Remove a scratch directory; whether it is gone (a failure is logged, not raised:
    this runs where another error may be on its way, and gc tries again later)."""
    try:
        remove_tree(path)
    except (RampError, OSError) as exc:
        _log.warning("scratch directory %s could not be removed: %s", path, exc)
    if path.exists():
        _log.warning("scratch directory %s is left; `ramp sandbox gc` removes it", path)
        return False
    return True


def _orphaned(path: Path) -> bool:
    """Whether no live process owns scratch directory ``path``."""
    match = _NAME.fullmatch(path.name)
    if match is None:
        try:
            return time.time() - path.lstat().st_mtime > _LEGACY_AGE_S
        except OSError:
            return False
    pid, started = int(match.group(1)), int(match.group(2))
    ticks = _start_ticks(pid)
    return ticks is None or (started != 0 and ticks != started)


def gc_scratch_dirs(home: Path | None = None) -> list[str]:
    """Remove the scratch directories (with their mounts and images) whose owner is gone:
    what was removed."""
    removed = []
    for kind in SCRATCH_KINDS:
        parent = (home or ramp_home()) / kind
        try:
            children = sorted(parent.iterdir())
        except OSError:
            continue
        for child in children:
            if child.is_dir() and not child.is_symlink() and _orphaned(child) and _remove(child):
                removed.append(str(child))
    return removed
