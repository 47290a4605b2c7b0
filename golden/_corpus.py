"""The corpus: our own SysY programs, each with stdin, expected stdout and exit code.

Layout: ``golden/corpus/<kind>/NAME.sy`` with optional ``NAME.in`` (stdin) and the
expectation ``NAME.out`` (stdout) + ``NAME.exit`` (exit code), written by
``python -m golden._expected`` after the native and RV64 builds agree and the sanitizers
run clean. The public/hidden split is a pure function of the name (about 40% public), so
it needs no list, and adding cases never moves one across. A user's directory of
``NAME.sy`` (+``.in``) is a corpus too: its cases are hidden and functional, and their expectation is
established by the golden build.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from toolchain._errors import RampError

__all__ = [
    "CORPUS_DIR",
    "PUBLIC_SHARE",
    "Case",
    "CaseKind",
    "CorpusError",
    "Split",
    "builtin_corpus",
    "load_case_dir",
    "split_of",
]

CORPUS_DIR = Path(__file__).with_name("corpus")
PUBLIC_SHARE = 0.4
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")


class CorpusError(RampError):
    """A case directory or case file is malformed."""


class Split(StrEnum):
    PUBLIC = "public"
    HIDDEN = "hidden"


class CaseKind(StrEnum):
    FUNCTIONAL = "functional"
    PERFORMANCE = "performance"
    STRESS = "stress"


class Case(BaseModel):
    """One program of the corpus and what it must do."""

    model_config = ConfigDict(frozen=True)

    name: str
    split: Split
    kind: CaseKind
    source: Path
    stdin: Path | None
    expected_stdout: Path | None
    expected_exit: int | None

    def content_hash(self) -> str:
        """sha256 of the source and stdin: a case's identity for caching."""
        digest = hashlib.sha256(self.source.read_bytes())
        digest.update(b"\0stdin\0")
        if self.stdin is not None:
            digest.update(self.stdin.read_bytes())
        return digest.hexdigest()

    def stdin_bytes(self) -> bytes:
        return b"" if self.stdin is None else self.stdin.read_bytes()


def split_of(name: str) -> Split:
    """Public for about 40% of names: fixed per name, so adding cases never moves one."""
    digest = hashlib.sha256(f"ramp-split:{name}".encode()).digest()
    return (
        Split.PUBLIC if int.from_bytes(digest[:8], "big") < PUBLIC_SHARE * 2**64 else Split.HIDDEN
    )


def _read_case(source: Path, kind: CaseKind, split: Split) -> Case:
    name = source.stem
    if not name or set(name) - _NAME_CHARS:
        raise CorpusError(
            f"case file {source}: the name must be lower-case letters, digits and _ "
            "(it becomes part of paths and reports)"
        )
    stdin = source.with_suffix(".in")
    out = source.with_suffix(".out")
    code = source.with_suffix(".exit")
    expected_exit: int | None = None
    if code.exists():
        try:
            expected_exit = int(code.read_text().strip())
        except ValueError as exc:
            raise CorpusError(f"{code} must hold one integer (the exit code)") from exc
    return Case(
        name=name,
        split=split,
        kind=kind,
        source=source,
        stdin=stdin if stdin.exists() else None,
        expected_stdout=out if out.exists() else None,
        expected_exit=expected_exit,
    )


@cache
def builtin_corpus() -> tuple[Case, ...]:
    """Every case RAMP ships, sorted by name; about 40% is public."""
    cases: list[Case] = []
    seen: set[str] = set()
    for kind in CaseKind:
        for source in sorted((CORPUS_DIR / kind.value).glob("*.sy")):
            case = _read_case(source, kind, split_of(source.stem))
            if case.name in seen:
                raise CorpusError(f"case name {case.name!r} occurs twice in the corpus")
            seen.add(case.name)
            cases.append(case)
    return tuple(sorted(cases, key=lambda c: c.name))


def load_case_dir(directory: Path) -> tuple[Case, ...]:
    """A user's directory of contest-style ``NAME.sy`` (+ ``NAME.in``): hidden, functional."""
    if not directory.is_dir():
        raise CorpusError(f"case directory {directory} does not exist or is not a directory")
    sources = sorted(directory.glob("*.sy"))
    if not sources:
        raise CorpusError(f"case directory {directory} holds no NAME.sy files")
    return tuple(_read_case(s, CaseKind.FUNCTIONAL, Split.HIDDEN) for s in sources)
