"""`ramp toolchain doctor`: what is installed, at which version, and how to fix the rest."""

from __future__ import annotations

import os

from pydantic import BaseModel

from toolchain._engine import DEFAULT_ENGINE_TIMEOUT_S, engine_available
from toolchain._hostcmd import run_host_command, which
from toolchain._image import SANDBOX_PROFILES, find_rootfs, image_tag
from toolchain._manifest import Manifest, MatchRule, Profile, load_manifest, upstream_version

__all__ = ["DoctorReport", "PackageCheck", "SandboxCheck", "ToolCheck", "run_doctor"]


class ToolCheck(BaseModel):
    command: str
    package: str
    path: str | None
    version: str | None
    expected: str
    ok: bool
    matches_pin: bool = False
    fix: str | None = None


class PackageCheck(BaseModel):
    name: str
    pinned: str
    installed: str | None
    ok: bool
    drift: bool = False
    fix: str | None = None


class SandboxCheck(BaseModel):
    name: str
    ok: bool
    detail: str
    fix: str | None = None


class DoctorReport(BaseModel):
    fingerprint: str
    profile_fingerprints: dict[str, str]
    tools: list[ToolCheck]
    packages: list[PackageCheck]
    sandboxes: list[SandboxCheck]

    @property
    def ok(self) -> bool:
        return (
            all(t.ok for t in self.tools)
            and all(p.ok for p in self.packages)
            and all(s.ok for s in self.sandboxes)
        )


def _install_fix(packages: list[str], manifest: Manifest) -> str:
    pins = " ".join(f"{p}={manifest.package(p).version}" for p in packages)
    return f"ramp toolchain install   (or: apt-get install -y {pins})"


def _check_packages(manifest: Manifest) -> list[PackageCheck]:
    pinned = manifest.packages_for(Profile.HOST)
    result = run_host_command(
        [
            "dpkg-query",
            "-W",
            "-f",
            "${Package}\t${Version}\t${db:Status-Abbrev}\n",
            *(p.name for p in pinned),
        ],
        timeout_s=30,
    )
    installed: dict[str, str] = {}
    for line in result.output.splitlines():
        name, _, rest = line.partition("\t")
        version, _, status = rest.partition("\t")
        if status.startswith("ii"):
            installed[name] = version
    checks = []
    for package in pinned:
        have = installed.get(package.name)
        ok = have is not None and package.accepts(have)
        checks.append(
            PackageCheck(
                name=package.name,
                pinned=package.version,
                installed=have,
                ok=ok,
                drift=ok and have != package.version,
                fix=None if ok else _install_fix([package.name], manifest),
            )
        )
    return checks


def _check_tools(manifest: Manifest) -> list[ToolCheck]:
    checks = []
    for tool in manifest.tools_for(Profile.HOST):
        path = which(tool.command)
        pinned = manifest.package(tool.package)
        expected = tool.expect or upstream_version(pinned.version)
        version = None
        if path is not None:
            probe = run_host_command([path, *tool.version_args], timeout_s=20)
            version = tool.parse_version(probe.output)
        matches = version is not None and (
            version.startswith(expected) or expected.startswith(version)
        )
        # A scoring-relevant tool (an exact pin) must be the pinned version; others may drift.
        ok = version is not None and (matches or pinned.match is not MatchRule.EXACT)
        fix = None
        if not ok:
            fix = _install_fix([tool.package], manifest)
            if version is not None:
                fix = f"{path} reports {version}, the pin is {expected}: {fix}"
        checks.append(
            ToolCheck(
                command=tool.command,
                package=tool.package,
                path=path,
                version=version,
                expected=expected,
                ok=ok,
                matches_pin=matches,
                fix=fix,
            )
        )
    return checks


def _check_sandboxes(manifest: Manifest) -> list[SandboxCheck]:
    checks = []
    engine = engine_available(timeout_s=min(5.0, DEFAULT_ENGINE_TIMEOUT_S))
    checks.append(
        SandboxCheck(
            name="docker engine",
            ok=engine,
            detail="answers" if engine else "no engine answered",
            fix=None if engine else "start one: `dockerd >/var/log/dockerd.log 2>&1 &` (as root)",
        )
    )
    if engine:
        from toolchain._engine import docker_client
        from toolchain._image import find_image

        client = docker_client()
        for profile in SANDBOX_PROFILES:
            found = find_image(profile, client, manifest)
            checks.append(
                SandboxCheck(
                    name=f"image {profile.value}",
                    ok=found is not None,
                    detail=image_tag(profile, manifest) + (" present" if found else " missing"),
                    fix=None if found else "ramp toolchain image",
                )
            )
        client.close()
    for profile in SANDBOX_PROFILES:
        rootfs = find_rootfs(profile, manifest)
        checks.append(
            SandboxCheck(
                name=f"root file system {profile.value}",
                ok=rootfs is not None,
                detail=str(rootfs.path) if rootfs else "missing",
                fix=None if rootfs else "ramp toolchain image",
            )
        )
    bwrap = which("bwrap")
    checks.append(
        SandboxCheck(
            name="bubblewrap",
            ok=bwrap is not None,
            detail=bwrap or "missing",
            fix=None if bwrap else _install_fix(["bubblewrap"], manifest),
        )
    )
    if os.geteuid() != 0:
        checks.append(
            SandboxCheck(
                name="privileges",
                ok=True,
                detail="not root: bwrap limits fall back to rlimits, images cannot be built",
            )
        )
    return checks


def run_doctor() -> DoctorReport:
    manifest = load_manifest()
    return DoctorReport(
        fingerprint=manifest.fingerprint(),
        profile_fingerprints={p.value: manifest.fingerprint(p) for p in Profile},
        tools=_check_tools(manifest),
        packages=_check_packages(manifest),
        sandboxes=_check_sandboxes(manifest),
    )
