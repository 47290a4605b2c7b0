"""Integrity checks on a submitted workspace: copies of the reference toolchain, size caps.

Stage programs run where no clang/LLVM exists, so calling it cannot make them pass; these
checks make the attempt visible. A workspace file carrying machine code that only the
reference toolchain has (compilers, assemblers, linkers, LLVM/clang libraries of the
development image: see ``grader._codeprints``) is a finding, whatever the file is called
and however it was trimmed, stripped or packed; so are files that carry such code only
together, and a workspace over the size cap.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel

from golden import Stage
from grader._codeprints import (
    MATCH_THRESHOLD_BYTES,
    CodeMatch,
    CodePrints,
    CodePrintsError,
    match_fd,
    toolchain_prints,
)
from grader._wxcode import writable_code
from toolchain import Step, TreeEntry, open_regular, walk_tree

__all__ = [
    "MAX_WORKSPACE_BYTES",
    "Finding",
    "FindingKind",
    "scan_workspace",
]

MAX_WORKSPACE_BYTES = 512 << 20
# Files below the threshold are pooled (a copy cut into pieces) only when toolchain code is
# at least this share of their bytes: a piece of a copy is mostly code, an honest binary
# holds a stray chunk at most. Padding every piece a hundredfold to slip under it would
# take libLLVM alone (58 MB of code) far past the workspace cap.
_POOL_MIN_SHARE = 0.01


class FindingKind(StrEnum):
    """The fixed categories of finding: all an agent is ever told of one."""

    TOOLCHAIN_COPY = "toolchain-copy"
    TOOLCHAIN_CALL = "toolchain-call"
    FINDINGS_TAMPER = "findings-tamper"
    MEASUREMENT_TAMPER = "measurement-tamper"
    WORKSPACE_TOO_LARGE = "workspace-too-large"
    BUILD_FAILED = "build-failed"
    WRITABLE_CODE = "writable-code"


# What the agent reads about a finding: fixed words per category, nothing it wrote.
_SHOWN: dict[FindingKind, str] = {
    FindingKind.TOOLCHAIN_COPY: "the workspace carries a copy of the reference toolchain",
    FindingKind.TOOLCHAIN_CALL: "a stage program tried to run the reference toolchain",
    FindingKind.FINDINGS_TAMPER: "a stage program tampered with the record of toolchain calls",
    FindingKind.MEASUREMENT_TAMPER: "a program interfered with its measurement",
    FindingKind.WORKSPACE_TOO_LARGE: "the workspace is over the size cap",
    FindingKind.BUILD_FAILED: "build.sh failed",
    FindingKind.WRITABLE_CODE: "a program in the workspace maps memory both writable and executable",
}


class Finding(BaseModel):
    """A finding: its category (``kind``), the stage it concerns, and the evidence
    (``detail``). The evidence may hold text a program wrote: it goes to the ledger and the
    reports, never to the agent, which sees :meth:`shown` only."""

    kind: FindingKind
    detail: str
    stage: Stage | None = None

    def shown(self) -> str:
        """The category, the stage and fixed words: what an agent may be told."""
        where = f" ({self.stage.value})" if self.stage is not None else ""
        return f"{self.kind.value}{where}: {_SHOWN.get(self.kind, 'see the run report')}"


def _files(workspace: Path) -> Iterator[TreeEntry]:
    """Every regular file under ``workspace`` at any depth (symbolic links not followed),
    in path order. A directory the walk cannot enter would hide what is in it, so it stops
    the scan (an error, never a silent pass)."""
    for step, entry in walk_tree(workspace):
        if step is Step.ITEM and stat.S_ISREG(entry.info.st_mode):
            yield entry
        elif step in (Step.FOREIGN, Step.UNREADABLE):
            raise CodePrintsError(
                f"directory '{entry.path}' of the snapshot could not be entered for the "
                "toolchain-copy scan; check the grading host's disk"
            )


def _match(prints: CodePrints, entry: TreeEntry) -> tuple[CodeMatch, str | None]:
    """The file's toolchain code, and why it maps writable code (grader._wxcode), if it does."""
    fd = open_regular(entry)
    if fd is None:
        raise CodePrintsError(
            f"'{entry.path}' changed while the snapshot was scanned; nothing may write into a "
            "snapshot while it is scanned"
        )
    try:
        return match_fd(prints, fd, entry.path), writable_code(fd)
    finally:
        os.close(fd)


def _evidence(prints: CodePrints, match: CodeMatch) -> str:
    """Matched bytes, share of the scanned bytes, and the toolchain files they come from."""
    matched = prints.matched_bytes(match)
    share = matched / match.scanned_bytes if match.scanned_bytes else 0.0
    tools = "; ".join(
        f"{s.tool}: {s.matched_bytes} bytes, {s.coverage:.1%} of its code"
        for s in prints.shares(match)
    )
    return (
        f"{matched} bytes of machine code found only in the reference toolchain "
        f"({share:.1%} of {match.scanned_bytes} bytes scanned); from {tools}"
    )


def _copy_findings(workspace: Path, prints: CodePrints) -> tuple[list[Finding], int]:
    """toolchain-copy findings (per file, then for files that qualify only together)."""
    findings: list[Finding] = []
    below: list[tuple[str, CodeMatch]] = []
    total = 0
    for entry in _files(workspace):
        total += entry.info.st_size
        match, writable = _match(prints, entry)
        if writable is not None:
            detail = f"{entry.path}: {writable}"
            findings.append(Finding(kind=FindingKind.WRITABLE_CODE, detail=detail))
        matched = prints.matched_bytes(match)
        if matched >= MATCH_THRESHOLD_BYTES:
            detail = f"{entry.path}: {_evidence(prints, match)}"
            findings.append(Finding(kind=FindingKind.TOOLCHAIN_COPY, detail=detail))
        elif matched and matched >= _POOL_MIN_SHARE * match.scanned_bytes:
            below.append((entry.path, match))
    together = CodeMatch.union([m for _, m in below])
    if len(below) > 1 and prints.matched_bytes(together) >= MATCH_THRESHOLD_BYTES:
        names = ", ".join(name for name, _ in below[:10]) + (" ..." if len(below) > 10 else "")
        detail = f"{len(below)} files together ({names}): {_evidence(prints, together)}"
        findings.append(Finding(kind=FindingKind.TOOLCHAIN_COPY, detail=detail))
    return findings, total


def scan_workspace(workspace: Path, prints: CodePrints | None = None) -> list[Finding]:
    """Findings for ``workspace``: toolchain code in its files, and a size over the cap."""
    findings, total = _copy_findings(
        workspace, prints if prints is not None else toolchain_prints()
    )
    if total > MAX_WORKSPACE_BYTES:
        findings.append(
            Finding(
                kind=FindingKind.WORKSPACE_TOO_LARGE,
                detail=f"the workspace holds {total >> 20} MB, over the {MAX_WORKSPACE_BYTES >> 20} MB cap",
            )
        )
    return findings
