"""The one dependency direction: toolchain <- golden <- grader <- ramp_mcp, never back."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ALLOWED = {
    "toolchain": {"toolchain"},
    "golden": {"golden", "toolchain"},
    "grader": {"grader", "golden", "toolchain"},
    "ramp_mcp": {"ramp_mcp", "grader", "golden", "toolchain"},
}


def _our_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & set(ALLOWED)


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_downwards(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(_our_imports(path) - ALLOWED[package])
        for path in (ROOT / package).rglob("*.py")
        if _our_imports(path) - ALLOWED[package]
    }
    assert offenders == {}


def test_top_level_is_exactly_the_documented_layout() -> None:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    listed = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    top = {name.split("/", 1)[0] for name in listed}
    allowed = {
        "pyproject.toml",
        "README.md",
        ".gitignore",
        "ramp_mcp",
        "grader",
        "toolchain",
        "golden",
        "tests",
        ".ci",
        "benchmarks",
        "docs",
        "examples",
    }
    assert top - allowed == set()
