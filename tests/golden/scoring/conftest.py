"""Real clang 19 artifacts for the scorer tests, built from small SysY sources."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from golden.scoring import RunOutcome

RUNTIME = Path(__file__).resolve().parents[3] / "golden" / "runtime"

# a + 4 on line 3 and b - 1 on line 5 are what the variants below edit.
PROGRAM = """\
int a = 3;
int main() {
  int b = a + 4;
  putint(b);
  return b - 1;
}
"""


class Clang:
    """Runs clang-19 the way the golden pipeline does, one directory per source."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _dir(self, source: str) -> Path:
        # Every source is called x.sy in its own directory, so line markers and token
        # locations of two variants differ only where the sources differ.
        where = self.root / hashlib.sha256(source.encode()).hexdigest()[:16]
        if not where.exists():
            where.mkdir()
            (where / "x.sy").write_text(source, encoding="utf-8")
        return where

    def _clang(self, where: Path, *argv: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(["clang-19", *argv], cwd=where, capture_output=True, timeout=120)

    def preprocess(self, source: str) -> str:
        where = self._dir(source)
        if not (where / "x.i").exists():
            done = self._clang(
                where,
                "-E",
                "-x",
                "c",
                "-isystem",
                str(RUNTIME),
                "-include",
                "sylib.h",
                "x.sy",
                "-o",
                "x.i",
            )
            assert done.returncode == 0, done.stderr.decode()
        return (where / "x.i").read_text(encoding="utf-8")

    def tokens(self, source: str) -> str:
        self.preprocess(source)
        done = self._clang(self._dir(source), "-cc1", "-dump-tokens", "x.i")
        assert done.returncode == 0, done.stderr.decode()
        return done.stderr.decode()

    def ast(self, source: str) -> str:
        self.preprocess(source)
        done = self._clang(self._dir(source), "-cc1", "-ast-dump=json", "x.i")
        assert done.returncode == 0, done.stderr.decode()
        return done.stdout.decode()

    def run(self, source: str, stdin: bytes = b"", timeout: float = 10.0) -> RunOutcome:
        where = self._dir(source)
        built = self._clang(
            where,
            "-O1",
            "-x",
            "c",
            "-std=gnu17",
            "-include",
            str(RUNTIME / "sylib.h"),
            "x.sy",
            "-x",
            "none",
            str(RUNTIME / "sylib.c"),
            "-o",
            "prog",
        )
        if built.returncode != 0:
            return RunOutcome(build_ok=False, build_diagnostic=built.stderr.decode())
        try:
            done = subprocess.run(
                [str(where / "prog")], input=stdin, capture_output=True, timeout=timeout
            )
        except subprocess.TimeoutExpired as exc:
            return RunOutcome(stdout=exc.stdout or b"", timed_out=True, detail="killed")
        return RunOutcome(stdout=done.stdout, exit_code=done.returncode)


@pytest.fixture(scope="session")
def clang(tmp_path_factory: pytest.TempPathFactory) -> Clang:
    if shutil.which("clang-19") is None:
        pytest.skip("clang-19 is not installed")
    return Clang(tmp_path_factory.mktemp("clang"))


@pytest.fixture(scope="session")
def program() -> str:
    return PROGRAM
