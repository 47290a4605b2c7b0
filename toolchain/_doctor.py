"""`ramp toolchain doctor`: what is installed, at which version, and how to fix the rest."""

from __future__ import annotations

import os

from pydantic import BaseModel

from toolchain._engine import DEFAULT_ENGINE_TIMEOUT_S, engine_available
from toolchain._errors import RampError
from toolchain._hostcmd import run_host_command, which
from toolchain._image import SANDBOX_PROFILES, find_rootfs, grading_toolchain, image_tag
from toolchain._manifest import Manifest, PinnedPackage, Profile, load_manifest, upstream_version

__all__ = [
    "DoctorReport",
    "PackageCheck",
    "SandboxCheck",
    "ToolCheck",
    "check_package",
    "run_doctor",
]


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
    where: str = "host"
    pinned: str
    installed: str | None
    scoring: bool = False
    match: str = "any"
    ok: bool
    drift: bool = False
    meaning: str | None = None
    fix: str | None = None


class SandboxCheck(BaseModel):
    name: str
    ok: bool
    detail: str
    fix: str | None = None


class DoctorReport(BaseModel):
    fingerprint: str
    profile_fingerprints: dict[str, str]
    grading_fingerprint: str | None = None
    grading_versions: dict[str, str] = {}
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


_DEBIAN_BIN_DIRS = ("/usr/bin/", "/bin/", "/usr/sbin/", "/sbin/", "/usr/lib/")


def _install_fix(packages: list[str], manifest: Manifest) -> str:
    pins = " ".join(f"{p}={manifest.package(p).version}" for p in packages)
    return f"ramp toolchain install   (or: apt-get install -y {pins})"


def _scoring_drift(package: PinnedPackage, installed: str, where: str) -> tuple[str, str]:
    """What a scoring package at another version means, and what to do about it."""
    meaning = (
        f"{package.name} makes or runs what is graded, and {where} has {installed} where the "
        f"manifest pins {package.version} ({package.match.value}). Golden artifacts and scores "
        "were made with the pinned version: they may differ with this one. Runs record the "
        "toolchain fingerprint they were graded with; runs under another fingerprint are "
        "comparable with earlier ones only if `ramp golden verify` reproduces "
        "golden/manifest.json with this version."
    )
    fix = (
        f"install the pinned version if Debian still serves it "
        f"(apt-get install -y {package.name}={package.version}; for an image: "
        "ramp toolchain image --force). Otherwise run `ramp golden verify`: if every artifact "
        f"reproduces, adopt {installed} by setting its version in toolchain/manifest.toml "
        "(scores stay comparable); if not, adopt it, rebuild the golden manifest "
        "(`ramp golden build --write-manifest`) and treat runs before and after as separate cohorts."
    )
    return meaning, fix


def check_package(
    package: PinnedPackage, installed: str | None, where: str = "host"
) -> PackageCheck:
    """One package against its pin: a scoring package outside its rule fails, with what it
    means; a non-scoring one only has to be installed (its drift is reported)."""
    base = PackageCheck(
        name=package.name,
        where=where,
        pinned=package.version,
        installed=installed,
        scoring=package.scoring,
        match=package.match.value,
        ok=False,
    )
    if installed is None:
        return base.model_copy(
            update={"meaning": "not installed", "fix": f"apt-get install -y {package.name}"}
        )
    drift = installed != package.version
    if not package.scoring or package.accepts(installed):
        meaning = None
        if drift:
            meaning = (
                "a Debian revision of a scoring package, accepted by its rule"
                if package.scoring
                else "not scoring: drift is reported, never a failure"
            )
        return base.model_copy(update={"ok": True, "drift": drift, "meaning": meaning})
    meaning, fix = _scoring_drift(package, installed, where)
    return base.model_copy(update={"drift": True, "meaning": meaning, "fix": fix})


def _host_versions(names: list[str]) -> dict[str, str]:
    result = run_host_command(
        ["dpkg-query", "-W", "-f", "${Package}\t${Version}\t${db:Status-Abbrev}\n", *names],
        timeout_s=30,
    )
    installed: dict[str, str] = {}
    for line in result.output.splitlines():
        name, _, rest = line.partition("\t")
        version, _, status = rest.partition("\t")
        if status.startswith("ii"):
            installed[name.split(":", 1)[0]] = version
    return installed


def _check_packages(manifest: Manifest) -> list[PackageCheck]:
    pinned = manifest.packages_for(Profile.HOST)
    installed = _host_versions([p.name for p in pinned])
    checks = [check_package(p, installed.get(p.name)) for p in pinned]
    # What grading really runs: the scoring packages inside the built images.
    for profile in SANDBOX_PROFILES:
        rootfs = find_rootfs(profile, manifest)
        if rootfs is None:
            continue  # reported with the sandboxes
        for package in manifest.scoring_packages(profile):
            checks.append(
                check_package(package, rootfs.installed.get(package.name), f"image {profile.value}")
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
        # A scoring tool from its Debian package must report the pin's upstream version;
        # others (and another build earlier on PATH, like a pyenv python3) may drift.
        from_package = path is not None and path.startswith(_DEBIAN_BIN_DIRS)
        ok = version is not None and (matches or not pinned.scoring or not from_package)
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
    try:
        grading = grading_toolchain(manifest)
    except RampError:
        grading = None  # no images yet: reported with the sandboxes
    return DoctorReport(
        fingerprint=manifest.fingerprint(),
        profile_fingerprints={p.value: manifest.fingerprint(p) for p in Profile},
        grading_fingerprint=None if grading is None else grading.fingerprint,
        grading_versions={} if grading is None else grading.versions,
        tools=_check_tools(manifest),
        packages=_check_packages(manifest),
        sandboxes=_check_sandboxes(manifest),
    )
