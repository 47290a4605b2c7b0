"""RAMP's reference solution: a complete SysY compiler kept as a workspace (golden/solution).

It obeys the workspace contract like any agent's work (build.sh, bin/t0..bin/t5, Python 3
standard library only at run time) and is graded the same way. :func:`reference_workspace`
copies it to a ready directory under RAMP_HOME, named by its content, so the source tree is
never graded (or written to) in place.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from toolchain import ramp_home

__all__ = ["SOLUTION_DIR", "reference_workspace", "solution_files", "solution_modules"]

SOLUTION_DIR = Path(__file__).with_name("solution")
_SKIPPED_PARTS = frozenset({"__pycache__", ".mypy_cache", ".pytest_cache"})


def solution_files(root: Path = SOLUTION_DIR) -> list[Path]:
    """Every file of the solution, relative to ``root``, sorted; caches left out."""
    return sorted(
        path.relative_to(root)
        for path in root.rglob("*")
        if path.is_file() and not _SKIPPED_PARTS.intersection(path.relative_to(root).parts)
    )


def solution_modules(root: Path = SOLUTION_DIR) -> list[Path]:
    """The solution's Python modules (``sysyc/*.py``), relative to ``root``."""
    return [path for path in solution_files(root) if path.suffix == ".py"]


def _content_key(root: Path) -> str:
    digest = hashlib.sha256()
    for relative in solution_files(root):
        digest.update(relative.as_posix().encode() + b"\0")
        digest.update((root / relative).read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def reference_workspace(home: Path | None = None) -> Path:
    """A ready workspace holding the reference solution (made once per solution content)."""
    target = (home or ramp_home()) / "reference" / _content_key(SOLUTION_DIR)
    if (target / "build.sh").is_file():
        return target
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for relative in solution_files():
        destination = staging / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(SOLUTION_DIR / relative, destination)
    staging.rename(target)
    return target
