"""The committed manifest of golden artifact hashes, and checking a build against it."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from golden._builder import CaseArtifacts, GoldenBuild
from golden._measure import runtime_slack
from golden._reference import Stage
from toolchain import Profile, load_manifest

__all__ = ["MANIFEST_PATH", "GoldenManifest", "ManifestEntry", "compare", "key_note", "manifest_of"]

MANIFEST_PATH = Path(__file__).with_name("manifest.json")


class ManifestEntry(BaseModel):
    artifacts: dict[Stage, str]
    expected_exit: int
    reference_instructions: int
    baseline_instructions: int
    runtime_instructions: int


class GoldenManifest(BaseModel):
    key: str
    toolchain: str
    cases: dict[str, ManifestEntry]

    @classmethod
    def load(cls, path: Path = MANIFEST_PATH) -> GoldenManifest | None:
        if not path.is_file():
            return None
        return cls.model_validate_json(path.read_text(encoding="utf-8"))

    def save(self, path: Path = MANIFEST_PATH) -> None:
        data = self.model_dump(mode="json")
        path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def _entry(case: CaseArtifacts) -> ManifestEntry:
    return ManifestEntry(
        artifacts=case.hashes,
        expected_exit=case.expected_exit,
        reference_instructions=case.reference_instructions,
        baseline_instructions=case.baseline_instructions,
        runtime_instructions=case.runtime_instructions,
    )


def manifest_of(build: GoldenBuild) -> GoldenManifest:
    return GoldenManifest(
        key=build.key,
        toolchain=load_manifest().fingerprint(Profile.DEV),
        cases={case.name: _entry(case) for case in build.cases},
    )


def key_note(expected: GoldenManifest, build: GoldenBuild) -> str | None:
    """Why the pipeline key moved, when it did (the artifacts may still be identical)."""
    if expected.key == build.key:
        return None
    return (
        f"the manifest was made by reference pipeline {expected.key}, this machine runs "
        f"{build.key} (toolchain pins, runtime or reference commands changed); the artifacts "
        "are compared anyway: if none differs, scores stay comparable and "
        "`ramp golden build --write-manifest` records the new key"
    )


def compare(expected: GoldenManifest, build: GoldenBuild) -> list[str]:
    """Every difference between the committed manifest's artifacts and a build, in words."""
    problems = []
    for case in build.cases:
        entry = expected.cases.get(case.name)
        if entry is None:
            problems.append(f"{case.name}: not in the manifest")
            continue
        got = _entry(case)
        for stage in Stage:
            if got.artifacts.get(stage) != entry.artifacts.get(stage):
                problems.append(f"{case.name}: {stage} artifact differs")
        if got.expected_exit != entry.expected_exit:
            problems.append(f"{case.name}: exit code {got.expected_exit} != {entry.expected_exit}")
        if got.reference_instructions != entry.reference_instructions:
            problems.append(
                f"{case.name}: T4 reference count {got.reference_instructions} "
                f"!= {entry.reference_instructions}"
            )
        if got.baseline_instructions != entry.baseline_instructions:
            problems.append(
                f"{case.name}: T4 baseline count {got.baseline_instructions} "
                f"!= {entry.baseline_instructions}"
            )
        # The runtime's share moves by a few hundred instructions between runs (buffer
        # alignment, golden._measure): it reproduces within the slack T4 grants it.
        drift = abs(got.runtime_instructions - entry.runtime_instructions)
        if drift > runtime_slack(entry.runtime_instructions):
            problems.append(
                f"{case.name}: T4 runtime count {got.runtime_instructions} "
                f"!= {entry.runtime_instructions}"
            )
    return problems
