"""Making an epoch: generate, keep what every build agrees on, build its golden artifacts.

Candidates are generated in index order from the seed. A candidate is kept only if the
differential check (golden._expected: native clang -O0 and -O2, RV64 under qemu,
UBSan+ASan, MSan) agrees and runs clean, and the reference pipeline (golden._builder)
builds it and its T3, T4 and T5 artifacts reproduce that behaviour. A candidate that fails
is recorded in the manifest as rejected (each is a bug of the generator or the pipeline)
and the next index is tried, so an epoch always has the counts it was asked for.

Everything is written into a hidden staging directory and renamed into place at the end:
an epoch directory with a manifest is complete, and one seed makes the same bytes twice.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from golden._builder import CaseArtifacts, build_golden, golden_key
from golden._corpus import Case, CaseKind
from golden._expected import ExpectationError, establish
from golden.epochs._models import EpochCaseRecord, EpochError, EpochManifest, Rejection
from golden.epochs._store import (
    MANIFEST,
    case_of,
    epoch_dir,
    epoch_id,
    epochs_root,
    file_sha256,
)
from golden.generator import (
    GENERATOR_VERSION,
    GeneratedProgram,
    generate_functional,
    generate_performance,
)

__all__ = ["Progress", "make_epoch"]

Progress = Callable[[str, int, int], None]
"""``(phase, done, total)``: called as candidates are checked and built."""

_GENERATORS: dict[CaseKind, Callable[[int, int], GeneratedProgram]] = {
    CaseKind.FUNCTIONAL: generate_functional,
    CaseKind.PERFORMANCE: generate_performance,
}
# How many rejected candidates an epoch tolerates before the generator is called broken.
_MAX_REJECTED = 20


def _write_candidate(cases: Path, program: GeneratedProgram) -> Path:
    source = cases / f"{program.name}.sy"
    source.write_text(program.source, encoding="utf-8")
    if program.stdin:
        source.with_suffix(".in").write_text(program.stdin, encoding="utf-8")
    return source


def _establish(source: Path) -> str | None:
    """Write NAME.out and NAME.exit once every build agrees; the reason when not."""
    stdin_file = source.with_suffix(".in")
    stdin = stdin_file.read_bytes() if stdin_file.is_file() else b""
    try:
        expected = establish(source, stdin)
    except ExpectationError as exc:
        return str(exc)
    source.with_suffix(".out").write_bytes(expected.stdout)
    source.with_suffix(".exit").write_text(f"{expected.exit_code}\n")
    return None


def _discard(source: Path) -> None:
    for suffix in (".sy", ".in", ".out", ".exit"):
        source.with_suffix(suffix).unlink(missing_ok=True)


class _Maker:
    """One epoch being made: its staging directory, what is kept and what was rejected."""

    def __init__(self, seed: int, staging: Path, *, backend: str, jobs: int | None) -> None:
        self.seed = seed
        self.staging = staging
        self.cases_dir = staging / "cases"
        self.cases_dir.mkdir(parents=True)
        self.backend = backend
        self.jobs = jobs or os.cpu_count() or 2
        self.next_index = {kind: 1 for kind in _GENERATORS}
        self.kept: dict[str, tuple[GeneratedProgram, CaseArtifacts]] = {}
        self.rejected: list[Rejection] = []

    def candidates(self, kind: CaseKind, count: int) -> list[GeneratedProgram]:
        first = self.next_index[kind]
        self.next_index[kind] = first + count
        return [_GENERATORS[kind](self.seed, index) for index in range(first, first + count)]

    def check(self, programs: Sequence[GeneratedProgram], on_progress: Progress) -> list[Case]:
        """Differential execution of every candidate; the agreeing ones as cases."""
        sources = [_write_candidate(self.cases_dir, p) for p in programs]
        agreed: list[Case] = []
        with ThreadPoolExecutor(max_workers=self.jobs) as pool:
            for done, (program, source, reason) in enumerate(
                zip(programs, sources, pool.map(_establish, sources), strict=True), start=1
            ):
                on_progress("checked", done, len(programs))
                if reason is None:
                    agreed.append(case_of(self.staging, program.name, CaseKind(program.kind)))
                else:
                    self.reject(program.name, f"differential check: {reason}", source)
        return agreed

    def build(
        self, cases: Sequence[Case], programs: dict[str, GeneratedProgram], on_progress: Progress
    ) -> None:
        """Golden artifacts of the agreeing cases; a case the pipeline fails is rejected."""
        built = 0

        def advance(name: str, ok: bool) -> None:
            nonlocal built
            built += 1
            on_progress("built", built, len(cases))

        result = build_golden(cases, backend=self.backend, jobs=self.jobs, on_case=advance)
        for name, reason in sorted(result.failures.items()):
            self.reject(name, f"reference pipeline: {reason}", self.cases_dir / f"{name}.sy")
        for artifacts in result.cases:
            self.kept[artifacts.name] = (programs[artifacts.name], artifacts)

    def reject(self, name: str, reason: str, source: Path) -> None:
        self.rejected.append(Rejection(name=name, reason=reason[:2000]))
        _discard(source)
        if len(self.rejected) > _MAX_REJECTED:
            raise EpochError(
                f"{len(self.rejected)} generated programs failed their checks (the last: "
                f"{name}: {reason[:500]}); the generator or the reference pipeline is broken: "
                "report it with the seed"
            )

    def fill(self, wanted: dict[CaseKind, int], on_progress: Progress) -> None:
        """Generate, check and build until each kind has its count."""
        while True:
            have = {kind: 0 for kind in wanted}
            for program, _ in self.kept.values():
                have[CaseKind(program.kind)] += 1
            programs = [
                p
                for kind, count in wanted.items()
                for p in self.candidates(kind, count - have[kind])
            ]
            if not programs:
                return
            agreed = self.check(programs, on_progress)
            self.build(agreed, {p.name: p for p in programs}, on_progress)

    def record(self, name: str) -> EpochCaseRecord:
        """Copy the case's golden artifacts into the epoch; its manifest row."""
        program, artifacts = self.kept[name]
        golden = self.staging / "golden" / name
        golden.mkdir(parents=True)
        for path in sorted(artifacts.artifacts.values()):
            shutil.copyfile(path, golden / path.name)
        source = self.cases_dir / f"{name}.sy"
        stdin = source.with_suffix(".in")
        return EpochCaseRecord(
            name=name,
            kind=CaseKind(program.kind),
            features=sorted(program.features),
            source_sha256=file_sha256(source),
            input_sha256=file_sha256(stdin) if stdin.is_file() else None,
            expected_stdout_sha256=file_sha256(source.with_suffix(".out")),
            expected_exit_code=artifacts.expected_exit,
            golden=dict(sorted(artifacts.hashes.items())),
        )


def _ignore(phase: str, done: int, total: int) -> None:
    del phase, done, total


def make_epoch(
    seed: int,
    *,
    functional: int = 100,
    performance: int = 25,
    backend: str = "auto",
    jobs: int | None = None,
    on_progress: Progress = _ignore,
) -> EpochManifest:
    """Make the epoch of ``seed`` with these counts; refuse one that exists already."""
    if functional < 0 or performance < 0 or functional + performance == 0:
        raise EpochError(
            "an epoch needs at least one program: give --functional and/or --performance"
        )
    epoch = epoch_id(seed, functional, performance)
    final = epoch_dir(epoch)
    if final.exists():
        raise EpochError(
            f"epoch {epoch} exists already ({final}): check it with `ramp golden epoch verify "
            f"{epoch}`, or delete that directory to make it again"
        )
    staging = epochs_root() / f".new-{epoch}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        maker = _Maker(seed, staging, backend=backend, jobs=jobs)
        wanted = {CaseKind.FUNCTIONAL: functional, CaseKind.PERFORMANCE: performance}
        maker.fill({k: n for k, n in wanted.items() if n}, on_progress)
        manifest = EpochManifest(
            epoch=epoch,
            seed=seed,
            generator_version=GENERATOR_VERSION,
            functional=functional,
            performance=performance,
            golden_key=golden_key(),
            cases=[maker.record(name) for name in sorted(maker.kept)],
            rejected=maker.rejected,
        )
        (staging / MANIFEST).write_text(manifest.model_dump_json(indent=1) + "\n", encoding="utf-8")
        staging.rename(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest
