"""The one dependency direction: toolchain <- golden <- grader <- ramp_mcp, never back."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
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


# Front files: other packages see a package only through its front file (``__init__.py``)
# and the front files of its public subpackages, so a private module can be split, renamed
# or merged without touching another package.
_FRONTS = sorted(
    path
    for package in ALLOWED
    for path in (ROOT / package).rglob("__init__.py")
    if not any(part.startswith("_") for part in path.relative_to(ROOT).parent.parts)
    # the agent-side reference compiler, and alembic's migration scripts (not an API)
    and not {"solution", "migrations"} & set(path.relative_to(ROOT).parts)
)


def _front_module(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).parent.parts)


def _imports_from_other_packages(path: Path, package: str) -> list[tuple[str, list[str]]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[str, list[str]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [alias.name for alias in node.names]))
    return [(m, names) for m, names in found if m.split(".")[0] in set(ALLOWED) - {package}]


def test_other_packages_import_only_front_files() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {module}"
        for package in ALLOWED
        for path in (ROOT / package).rglob("*.py")
        for module, _names in _imports_from_other_packages(path, package)
        if any(part.startswith("_") for part in module.split("."))
    ]
    assert offenders == []


def test_what_other_packages_import_is_in_the_front_files_all() -> None:
    missing = [
        f"{path.relative_to(ROOT)}: {module}.{name}"
        for package in ALLOWED
        for path in (ROOT / package).rglob("*.py")
        for module, names in _imports_from_other_packages(path, package)
        for name in names
        if name not in getattr(importlib.import_module(module), "__all__", ())
    ]
    assert missing == []


def _names_a_front_file_imports(path: Path) -> set[str]:
    """Public names bound by the front file's imports of its own package's modules."""
    module = _front_module(path)
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.ImportFrom):
            continue
        own = node.level > 0 or (node.module or "").startswith(f"{module}.")
        if own:
            names.update(alias.asname or alias.name for alias in node.names)
    return {name for name in names if not name.startswith("_")}


@pytest.mark.parametrize("front", _FRONTS, ids=_front_module)
def test_a_front_files_all_is_exactly_what_it_exports(front: Path) -> None:
    # A front file only gathers: every public name it imports from its own modules is
    # exported, and it exports nothing else (no logic of its own hides in it).
    module = importlib.import_module(_front_module(front))
    exported = list(getattr(module, "__all__", []))
    assert exported, f"{front.relative_to(ROOT)} has no __all__"
    assert len(exported) == len(set(exported))
    assert not [name for name in exported if name.startswith("_")]
    assert [name for name in exported if not hasattr(module, name)] == []
    assert set(exported) == _names_a_front_file_imports(front)


def test_one_error_root_reachable_from_the_toolchain_front_file() -> None:
    import golden
    import grader
    import toolchain

    assert toolchain.RampError.__name__ == "RampError"
    for error in (toolchain.SandboxError, golden.JudgeError, grader.GradingError):
        assert issubclass(error, toolchain.RampError)


def test_the_file_worker_imports_neither_the_cli_nor_the_docker_sdk() -> None:
    # The toolchain front file loads its names lazily: a confined file worker, which
    # imports one module of the package, must not start the CLI or the Docker SDK.
    probe = (
        "import sys, toolchain.workspace._worker; "
        "print(sorted(m for m in ('toolchain._cli', 'docker', 'toolchain._image') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-I", "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
