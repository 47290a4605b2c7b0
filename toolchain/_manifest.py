"""The pinned toolchain manifest (``toolchain/manifest.toml``) as pydantic models."""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from toolchain._errors import ManifestError

__all__ = [
    "MANIFEST_PATH",
    "Manifest",
    "MatchRule",
    "PinnedPackage",
    "Profile",
    "ProfileSpec",
    "ToolProbe",
    "load_manifest",
    "upstream_version",
]

MANIFEST_PATH = Path(__file__).with_name("manifest.toml")


class Profile(StrEnum):
    """The environments built from the manifest."""

    DEV = "dev"
    MINIMAL = "minimal"
    HOST = "host"


class MatchRule(StrEnum):
    """How strictly an installed version must agree with its pin (see the manifest)."""

    EXACT = "exact"
    UPSTREAM = "upstream"
    ANY = "any"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ProfileSpec(_Frozen):
    description: str


class PinnedPackage(_Frozen):
    name: str
    version: str
    match: MatchRule = MatchRule.ANY
    scoring: bool = Field(
        default=False,
        description="a different version can change a score or a golden artifact",
    )
    profiles: tuple[Profile, ...]

    @model_validator(mode="after")
    def _scoring_is_pinned(self) -> Self:
        if self.scoring and self.match is MatchRule.ANY:
            raise ValueError(
                f"package {self.name!r} is scoring but has match = 'any': a scoring package "
                "needs 'exact' or 'upstream'"
            )
        return self

    def accepts(self, installed: str) -> bool:
        """Whether an installed Debian version satisfies this pin."""
        if self.match is MatchRule.EXACT:
            return installed == self.version
        if self.match is MatchRule.UPSTREAM:
            return upstream_version(installed) == upstream_version(self.version)
        return True

    def identity(self) -> tuple[str, str]:
        """What of this pin decides an image's identity: the name, and for a scoring
        package the part of the version its rule holds fixed."""
        if not self.scoring:
            return (self.name, "")
        if self.match is MatchRule.EXACT:
            return (self.name, self.version)
        return (self.name, upstream_version(self.version))


class ToolProbe(_Frozen):
    command: str
    package: str
    version_args: tuple[str, ...] = ("--version",)
    version_pattern: str
    expect: str | None = None
    host_only: bool = False

    def parse_version(self, output: str) -> str | None:
        for line in output.splitlines():
            match = re.search(self.version_pattern, line)
            if match:
                return match.group(1)
        return None


class Manifest(_Frozen):
    schema_version: Literal[1] = Field(alias="schema")
    distribution: Literal["debian"]
    suite: str
    mirror: str
    architecture: str
    profiles: dict[Profile, ProfileSpec]
    packages: tuple[PinnedPackage, ...] = Field(alias="package")
    tools: tuple[ToolProbe, ...] = Field(alias="tool")

    def packages_for(self, profile: Profile) -> tuple[PinnedPackage, ...]:
        return tuple(p for p in self.packages if profile in p.profiles)

    def package(self, name: str) -> PinnedPackage:
        for pinned in self.packages:
            if pinned.name == name:
                return pinned
        raise ManifestError(f"package {name!r} is not in the toolchain manifest")

    def tools_for(self, profile: Profile) -> tuple[ToolProbe, ...]:
        names = {p.name for p in self.packages_for(profile)}
        return tuple(t for t in self.tools if t.package in names)

    def scoring_packages(self, profile: Profile | None = None) -> tuple[PinnedPackage, ...]:
        packages = self.packages if profile is None else self.packages_for(profile)
        return tuple(p for p in packages if p.scoring)

    def fingerprint(self, profile: Profile | None = None) -> str:
        """A sha256 over what decides the toolchain's identity (all profiles, or one).

        Image tags, root file systems and golden artifacts are keyed by it. It covers every
        package's name but only the scoring pins' versions (as far as their rule holds
        them), so Debian moving a non-scoring package, or a Debian revision of an
        ``upstream`` pin, leaves it unchanged.
        """
        packages = self.packages if profile is None else self.packages_for(profile)
        identity = {
            "distribution": self.distribution,
            "suite": self.suite,
            "architecture": self.architecture,
            "profile": None if profile is None else profile.value,
            "packages": sorted(p.identity() for p in packages),
        }
        canonical = json.dumps(identity, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def upstream_version(debian_version: str) -> str:
    """The upstream part of a Debian version: ``1:19.1.7-3~deb12u1`` -> ``19.1.7``."""
    without_epoch = debian_version.split(":", 1)[-1]
    upstream = without_epoch.rsplit("-", 1)[0] if "-" in without_epoch else without_epoch
    return upstream.split("+", 1)[0]


@cache
def load_manifest(path: Path = MANIFEST_PATH) -> Manifest:
    """Read and validate the manifest; errors name the file and the broken field."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ManifestError(f"cannot read toolchain manifest {path}: {exc}") from exc
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as exc:
        raise ManifestError(f"toolchain manifest {path} is invalid:\n{exc}") from exc
    known = {p.name for p in manifest.packages}
    for tool in manifest.tools:
        if tool.package not in known:
            raise ManifestError(
                f"toolchain manifest {path}: tool {tool.command!r} names package "
                f"{tool.package!r}, which has no [[package]] entry"
            )
    return manifest
