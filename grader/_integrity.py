"""Integrity checks on a submitted workspace: copies of the reference toolchain, size caps.

Stage programs run where no clang/LLVM exists, so calling it cannot make them pass; these
checks make the attempt visible. A workspace file whose content equals a file of the
reference toolchain (the LLVM/clang binaries and libraries of the development image) is a
finding, and so is a workspace over the size cap.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel

from toolchain._image import require_rootfs
from toolchain._manifest import Profile
from toolchain._paths import ramp_home

__all__ = [
    "MAX_WORKSPACE_BYTES",
    "Finding",
    "FindingKind",
    "scan_workspace",
    "toolchain_fingerprints",
]

MAX_WORKSPACE_BYTES = 512 << 20
# Small files (scripts, config) say nothing about which binary they are.
_MIN_TOOL_BYTES = 64 << 10
_TOOL_DIRS = ("usr/lib/llvm-19", "usr/bin", "usr/lib/x86_64-linux-gnu")
_TOOL_MARKERS = ("clang", "llvm", "llc", "lld", "opt", "LLVM")


class FindingKind:
    TOOLCHAIN_COPY = "toolchain-copy"
    TOOLCHAIN_CALL = "toolchain-call"
    WORKSPACE_TOO_LARGE = "workspace-too-large"
    BUILD_FAILED = "build-failed"


class Finding(BaseModel):
    kind: str
    detail: str
    stage: str | None = None


class ToolchainPrints(BaseModel):
    sizes: list[int]
    hashes: dict[str, str]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _tool_files(root: Path) -> Iterator[Path]:
    for base in _TOOL_DIRS:
        top = root / base
        if not top.is_dir():
            continue
        for directory, _, files in os.walk(top):
            for name in files:
                path = Path(directory) / name
                if not any(m in str(path.relative_to(root)) for m in _TOOL_MARKERS):
                    continue
                if path.is_symlink() or not path.is_file():
                    continue
                if path.stat().st_size >= _MIN_TOOL_BYTES and _is_elf(path):
                    yield path


def _is_elf(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(4) == b"\x7fELF"


def toolchain_fingerprints() -> ToolchainPrints:
    """Sizes and hashes of the reference toolchain's binaries (cached per root file system)."""
    rootfs = require_rootfs(Profile.DEV)
    cache = ramp_home() / "integrity" / f"{rootfs.path.name}.json"
    if cache.is_file():
        return ToolchainPrints.model_validate_json(cache.read_text(encoding="utf-8"))
    hashes: dict[str, str] = {}
    sizes: set[int] = set()
    for path in _tool_files(rootfs.path):
        hashes[_sha256(path)] = "/" + str(path.relative_to(rootfs.path))
        sizes.add(path.stat().st_size)
    prints = ToolchainPrints(sizes=sorted(sizes), hashes=hashes)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(prints.model_dump()), encoding="utf-8")
    return prints


def scan_workspace(workspace: Path, prints: ToolchainPrints | None = None) -> list[Finding]:
    """Findings for ``workspace``: toolchain copies, and a size over the cap."""
    prints = prints or toolchain_fingerprints()
    sizes = set(prints.sizes)
    findings: list[Finding] = []
    total = 0
    for directory, _, files in os.walk(workspace):
        for name in files:
            path = Path(directory) / name
            if path.is_symlink() or not path.is_file():
                continue
            size = path.stat().st_size
            total += size
            if size in sizes:
                tool = prints.hashes.get(_sha256(path))
                if tool is not None:
                    findings.append(
                        Finding(
                            kind=FindingKind.TOOLCHAIN_COPY,
                            detail=f"{path.relative_to(workspace)} is a copy of the reference "
                            f"toolchain's {tool}; stage programs must not carry it",
                        )
                    )
    if total > MAX_WORKSPACE_BYTES:
        findings.append(
            Finding(
                kind=FindingKind.WORKSPACE_TOO_LARGE,
                detail=f"the workspace holds {total >> 20} MB, over the {MAX_WORKSPACE_BYTES >> 20} MB cap",
            )
        )
    return findings
