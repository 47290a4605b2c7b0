"""The corpus: our own SysY programs, each with stdin, expected stdout and exit code.

Layout: ``golden/corpus/<kind>/NAME.sy`` with optional ``NAME.in`` (stdin) and the
expectation ``NAME.out`` (stdout) + ``NAME.exit`` (exit code), written by
``python -m golden._expected`` once every build agrees and the sanitizers run clean.

The public/hidden split is explicit: ``golden/corpus/split.toml`` lists the public cases
(and, for review, the hidden ones) by category. A case not listed as public is hidden, so
a new case stays hidden until someone decides to publish it; the split is stratified so
that every category (a kind and a name prefix) is seen and tested: ``split_problems``
says where it is not. A user's directory of ``NAME.sy`` (+``.in``) is a corpus too: its
cases are hidden and functional, and their expectation is established by the golden build.
"""

from __future__ import annotations

import hashlib
import math
import tomllib
from collections import Counter
from collections.abc import Iterable
from enum import StrEnum
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from toolchain import RampError

__all__ = [
    "CORPUS_DIR",
    "MAX_PUBLIC_SHARE",
    "MIN_PUBLIC_SHARE",
    "SPLIT_FILE",
    "Case",
    "CaseKind",
    "CorpusError",
    "Split",
    "SplitPlan",
    "builtin_corpus",
    "category_of",
    "load_case_dir",
    "load_split",
    "split_of",
    "split_problems",
]

CORPUS_DIR = Path(__file__).with_name("corpus")
SPLIT_FILE = CORPUS_DIR / "split.toml"
# Every category is at least 30% public (agents see each kind of program) and at least
# 50% hidden (the grade rests on unseen programs); overall about 40% is public.
MIN_PUBLIC_SHARE = 0.3
MAX_PUBLIC_SHARE = 0.5
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
    # Where the case's golden artifacts are cached: None is the machine's shared cache
    # (``ramp_home()/golden``); a generated epoch's cases keep theirs inside the epoch's
    # root-only directory, so its hidden set is nowhere else on the machine.
    golden_cache: Path | None = None

    def content_hash(self) -> str:
        """sha256 of the source and stdin: a case's identity for caching."""
        digest = hashlib.sha256(self.source.read_bytes())
        digest.update(b"\0stdin\0")
        if self.stdin is not None:
            digest.update(self.stdin.read_bytes())
        return digest.hexdigest()

    def stdin_bytes(self) -> bytes:
        return b"" if self.stdin is None else self.stdin.read_bytes()


class SplitPlan(BaseModel):
    """``split.toml``: category -> names, for the public and the (reviewed) hidden cases.

    ``merged`` folds name prefixes too small to be split on their own into a category:
    ``{"misc": ["tiny"]}`` counts ``tiny_*`` cases as ``misc``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    public: dict[str, list[str]]
    hidden: dict[str, list[str]]
    merged: dict[str, list[str]] = {}

    def public_names(self) -> frozenset[str]:
        return frozenset(name for names in self.public.values() for name in names)

    def listed(self) -> dict[str, str]:
        """name -> the category it is filed under, public and hidden alike."""
        return {
            n: cat for table in (self.public, self.hidden) for cat, ns in table.items() for n in ns
        }


@cache
def load_split(path: Path = SPLIT_FILE) -> SplitPlan:
    """The committed split; a name filed twice is an error (it would be ambiguous)."""
    try:
        plan = SplitPlan.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except (OSError, tomllib.TOMLDecodeError, ValueError) as exc:
        raise CorpusError(
            f"{path} must be TOML with [public] and [hidden] tables of category = [names]: {exc}"
        ) from exc
    filed = Counter(n for table in (plan.public, plan.hidden) for ns in table.values() for n in ns)
    twice = sorted(name for name, count in filed.items() if count > 1)
    if twice:
        raise CorpusError(f"{path} files these cases more than once: {', '.join(twice)}")
    return plan


def split_of(name: str) -> Split:
    """Public only when ``split.toml`` lists the name as public: new cases start hidden."""
    return Split.PUBLIC if name in load_split().public_names() else Split.HIDDEN


def category_of(case: Case, plan: SplitPlan) -> str:
    """The case's category: its kind and its name prefix (or the category it is merged into)."""
    prefix = case.name.split("_", 1)[0]
    for category, prefixes in plan.merged.items():
        if prefix in prefixes:
            prefix = category
    return f"{case.kind.value}/{prefix}"


def _share_problems(label: str, public: int, total: int) -> list[str]:
    lowest, highest = math.ceil(MIN_PUBLIC_SHARE * total), math.floor(MAX_PUBLIC_SHARE * total)
    if lowest <= public <= highest:
        return []
    return [
        f"{label}: {public} of {total} cases public; it needs {lowest}..{highest} "
        f"({MIN_PUBLIC_SHARE:.0%} public, {1 - MAX_PUBLIC_SHARE:.0%} hidden): list or unlist "
        "cases in golden/corpus/split.toml, or merge a category too small to split"
    ]


def split_problems(cases: Iterable[Case], plan: SplitPlan) -> list[str]:
    """Where the split is not stratified: per kind and per category, by the shares above.

    Cases not listed in the plan count as hidden (they are); a listed name that is no case,
    or is filed under another category than its own, is a problem too.
    """
    cases = list(cases)
    problems: list[str] = []
    names = {case.name: case for case in cases}
    for name, filed in sorted(plan.listed().items()):
        if name not in names:
            problems.append(f"split.toml lists {name}, which is no case of the corpus")
        elif category_of(names[name], plan).split("/", 1)[1] != filed:
            problems.append(f"split.toml files {name} under {filed}, not its own category")
    for group in (lambda c: c.kind.value, lambda c: category_of(c, plan)):
        totals = Counter(group(c) for c in cases)
        public = Counter(group(c) for c in cases if c.split is Split.PUBLIC)
        for label in sorted(totals):
            problems += _share_problems(label, public[label], totals[label])
    return problems


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
