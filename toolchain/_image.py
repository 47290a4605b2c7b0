"""Building the sandbox root file systems and Docker images from the pinned manifest.

One root file system per profile is built (debootstrap, or an image built from
``toolchain/Dockerfile`` when a registry is reachable and exported), finalised the same
way (a non-root ``ramp`` user, ``/workspace``, a toolchain record), checked against the
manifest's pins, and imported into the Docker engine. The bwrap backend uses the root
file system directly and the docker backend uses the image, so both run the very same
files. Everything is keyed by the profile's manifest fingerprint and reused when present.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import tarfile
import time
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import docker.errors
from docker import DockerClient
from pydantic import BaseModel
from requests.exceptions import RequestException

from toolchain._engine import docker_client
from toolchain._errors import EngineUnavailableError, ImageBuildError, ImageMissingError
from toolchain._hostcmd import run_host_command, which
from toolchain._manifest import MANIFEST_PATH, Manifest, Profile, load_manifest
from toolchain._paths import ramp_home

__all__ = [
    "FINDINGS_MOUNT",
    "MOUNT_ROOT",
    "ROOTFS_LAYOUT",
    "SANDBOX_GID",
    "SANDBOX_UID",
    "TOOLCHAIN_STUBS",
    "WORKSPACE_MOUNT",
    "BuildMethod",
    "GradingToolchain",
    "ImageBuildReport",
    "ImageInfo",
    "RootfsInfo",
    "build_toolchain",
    "find_image",
    "find_rootfs",
    "grading_toolchain",
    "image_tag",
    "require_rootfs",
]

SANDBOX_UID = 1000
SANDBOX_GID = 1000
WORKSPACE_MOUNT = "/workspace"
# Extra read-only mounts (cases, runtime, golden inputs) live under this directory.
MOUNT_ROOT = "/ramp"
# Bump when `_finalise` changes what a root file system contains: everything rebuilds.
ROOTFS_LAYOUT = 3
_RECORD = "etc/ramp-toolchain.json"
_IMPORT_TIMEOUT_S = 900.0
_DEBOOTSTRAP_TIMEOUT_S = 1800.0
SANDBOX_PROFILES = (Profile.DEV, Profile.MINIMAL)


class BuildMethod(StrEnum):
    AUTO = "auto"
    DEBOOTSTRAP = "debootstrap"
    DOCKERFILE = "dockerfile"


class RootfsInfo(BaseModel):
    """A finalised root file system for one profile."""

    profile: Profile
    fingerprint: str
    path: Path
    method: BuildMethod
    installed: dict[str, str]
    drift: list[str]
    built_at: str
    build_seconds: float
    reused: bool = False


class ImageInfo(BaseModel):
    profile: Profile
    tag: str
    image_id: str
    fingerprint: str
    reused: bool


class ImageBuildReport(BaseModel):
    rootfs: list[RootfsInfo]
    images: list[ImageInfo]
    docker_skipped_reason: str | None = None


def _identity(profile: Profile, manifest: Manifest) -> str:
    """Short fingerprint plus the finalising layout, e.g. ``e51201152808-l2``."""
    return f"{manifest.fingerprint(profile)[:12]}-l{ROOTFS_LAYOUT}"


def image_tag(profile: Profile, manifest: Manifest | None = None) -> str:
    manifest = manifest or load_manifest()
    return f"ramp-toolchain-{profile.value}:{_identity(profile, manifest)}"


def _rootfs_path(profile: Profile, manifest: Manifest) -> Path:
    return ramp_home() / "rootfs" / f"{profile.value}-{_identity(profile, manifest)}"


def find_rootfs(profile: Profile, manifest: Manifest | None = None) -> RootfsInfo | None:
    """The finalised root file system for ``profile``, if it has been built."""
    manifest = manifest or load_manifest()
    path = _rootfs_path(profile, manifest)
    record = path / _RECORD
    if not record.is_file():
        return None
    info = RootfsInfo.model_validate_json(record.read_text(encoding="utf-8"))
    return info.model_copy(update={"path": path, "reused": True})


def require_rootfs(profile: Profile, manifest: Manifest | None = None) -> RootfsInfo:
    info = find_rootfs(profile, manifest)
    if info is None:
        raise ImageMissingError(
            f"the {profile.value} root file system is not built; run `ramp toolchain image`"
        )
    return info


class GradingToolchain(BaseModel):
    """What grading runs with: the scoring packages' versions as installed in the images.

    A run records ``fingerprint`` when it is created and every submission when it is
    graded; two scores are comparable when their fingerprints are equal (and, across
    fingerprints, when `ramp golden verify` reproduces the golden artifacts on both).
    """

    fingerprint: str
    versions: dict[str, str]


def grading_toolchain(manifest: Manifest | None = None) -> GradingToolchain:
    """The scoring versions of the built dev and minimal root file systems."""
    manifest = manifest or load_manifest()
    versions: dict[str, str] = {}
    for profile in SANDBOX_PROFILES:
        info = require_rootfs(profile, manifest)
        for package in manifest.scoring_packages(profile):
            installed = info.installed.get(package.name)
            versions[f"{profile.value}/{package.name}"] = installed or "missing"
    canonical = "\n".join(f"{key}={value}" for key, value in sorted(versions.items()))
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:16]
    return GradingToolchain(fingerprint=digest, versions=versions)


def find_image(
    profile: Profile, client: DockerClient, manifest: Manifest | None = None
) -> str | None:
    """The image id tagged for ``profile``, or None."""
    try:
        return str(client.images.get(image_tag(profile, manifest)).id)
    except docker.errors.ImageNotFound:
        return None


def _installed_versions(rootfs: Path, names: list[str]) -> dict[str, str]:
    result = run_host_command(
        [
            "dpkg-query",
            f"--admindir={rootfs / 'var/lib/dpkg'}",
            "-W",
            "-f",
            "${Package}\t${Version}\n",
            *names,
        ],
        timeout_s=60,
    )
    versions: dict[str, str] = {}
    for line in result.output.splitlines():
        name, _, version = line.partition("\t")
        if version:
            versions[name.split(":", 1)[0]] = version
    return versions


def _debootstrap(target: Path, profile: Profile, manifest: Manifest, log: Path) -> None:
    """A minbase system by debootstrap, then the profile's packages by apt inside it.

    ``debootstrap --include`` resolves dependencies too weakly for LLVM and gdb, so the
    packages are installed by apt in a chroot. Downloaded packages are kept in RAMP's
    cache so a rebuild (or the other profile) fetches nothing twice.
    """
    debootstrap = which("debootstrap")
    if debootstrap is None:
        raise ImageBuildError("debootstrap is not installed; run `ramp toolchain install`")
    cache = ramp_home() / "cache"
    (cache / "debootstrap").mkdir(parents=True, exist_ok=True)
    (cache / "apt").mkdir(parents=True, exist_ok=True)
    _checked(
        [
            debootstrap,
            "--variant=minbase",
            f"--arch={manifest.architecture}",
            f"--cache-dir={cache / 'debootstrap'}",
            manifest.suite,
            str(target),
            manifest.mirror,
        ],
        f"debootstrap of the {profile.value} root file system",
        log,
    )
    archives = target / "var/cache/apt/archives"
    for deb in (cache / "apt").glob("*.deb"):
        shutil.copy2(deb, archives / deb.name)
    shutil.copy2("/etc/resolv.conf", target / "etc/resolv.conf")
    env = {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "DEBIAN_FRONTEND": "noninteractive",
        "LANG": "C",
    }
    chroot = ["chroot", str(target)]
    _checked([*chroot, "apt-get", "update", "-q"], "apt-get update in the chroot", log, env)
    _checked(
        [
            *chroot,
            "apt-get",
            "install",
            "-y",
            "-q",
            "--no-install-recommends",
            *(p.name for p in manifest.packages_for(profile)),
        ],
        f"installing the {profile.value} packages in the chroot",
        log,
        env,
    )
    for deb in archives.glob("*.deb"):
        shutil.move(deb, cache / "apt" / deb.name)
    (target / "etc/resolv.conf").unlink()


def _checked(argv: list[str], what: str, log: Path, env: dict[str, str] | None = None) -> None:
    result = run_host_command(argv, timeout_s=_DEBOOTSTRAP_TIMEOUT_S, log=log, env=env)
    if not result.ok:
        tail = "\n".join(result.output.splitlines()[-15:])
        raise ImageBuildError(
            f"{what} failed (exit {result.returncode}, timed out: {result.timed_out}); "
            f"full log: {log}\n{tail}"
        )


def _registry_reachable(client: DockerClient) -> bool:
    try:
        client.images.pull("debian", tag="bookworm-slim")
    except (docker.errors.DockerException, RequestException):
        return False
    return True


def _dockerfile_build(
    target: Path, profile: Profile, manifest: Manifest, client: DockerClient
) -> None:
    packages = " ".join(p.name for p in manifest.packages_for(profile))
    builder_tag = f"ramp-toolchain-builder-{profile.value}:latest"
    try:
        image, _ = client.images.build(
            path=str(MANIFEST_PATH.parent),
            dockerfile="Dockerfile",
            buildargs={"PACKAGES": packages},
            tag=builder_tag,
            rm=True,
            network_mode="host",
        )
        container = client.containers.create(image.id, command=["true"])
        try:
            stream = container.export()
            reader = io.BufferedReader(_IterStream(stream))
            with tarfile.open(fileobj=reader, mode="r|") as archive:
                archive.extractall(target, filter="tar")
        finally:
            container.remove(force=True)
    except (docker.errors.DockerException, RequestException, tarfile.TarError) as exc:
        raise ImageBuildError(f"building from toolchain/Dockerfile failed: {exc}") from exc


class _IterStream(io.RawIOBase):
    """A readable file over an iterator of byte chunks (the engine's export stream)."""

    def __init__(self, chunks: object) -> None:
        self._chunks = iter(chunks)  # type: ignore[call-overload]
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


# In the minimal environment these names exist but refuse, say why, and leave a record
# the grader reads: a stage program that reaches for the reference toolchain is visible.
TOOLCHAIN_STUBS = (
    "clang", "clang-19", "clang++", "clang++-19", "clang-cpp-19", "llc", "llc-19", "opt",
    "opt-19", "lli", "lli-19", "llvm-as-19", "llvm-dis-19", "llvm-link-19", "llvm-mc-19",
    "ld.lld", "ld.lld-19", "lld", "lld-19",
)  # fmt: skip
FINDINGS_MOUNT = "/ramp/findings"
_STUB = f"""#!/bin/sh
name=$(basename "$0")
echo "RAMP-INTEGRITY: $name is not available to stage programs (no clang/LLVM at run time)" >&2
if [ -d {FINDINGS_MOUNT} ]; then echo "$name" >> {FINDINGS_MOUNT}/toolchain-calls 2>/dev/null; fi
exit 126
"""


def _install_stubs(target: Path) -> None:
    stub_dir = target / "usr/local/bin"
    stub_dir.mkdir(parents=True, exist_ok=True)
    for name in TOOLCHAIN_STUBS:
        stub = stub_dir / name
        stub.write_text(_STUB, encoding="utf-8")
        stub.chmod(0o755)


def _finalise(
    target: Path, profile: Profile, manifest: Manifest
) -> tuple[dict[str, str], list[str]]:
    etc = target / "etc"
    if profile is Profile.MINIMAL:
        _install_stubs(target)
    with (etc / "passwd").open("a", encoding="utf-8") as passwd:
        passwd.write(
            f"ramp:x:{SANDBOX_UID}:{SANDBOX_GID}:RAMP sandbox:{WORKSPACE_MOUNT}:/bin/bash\n"
        )
    with (etc / "group").open("a", encoding="utf-8") as group:
        group.write(f"ramp:x:{SANDBOX_GID}:\n")
    (target / WORKSPACE_MOUNT.lstrip("/")).mkdir(mode=0o755, exist_ok=True)
    (target / MOUNT_ROOT.lstrip("/")).mkdir(mode=0o755, exist_ok=True)
    (target / "tmp").mkdir(mode=0o1777, exist_ok=True)
    for junk in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for entry in (target / junk).glob("*"):
            if entry.is_file():
                entry.unlink()
    pinned = manifest.packages_for(profile)
    installed = _installed_versions(target, [p.name for p in pinned])
    missing = [p.name for p in pinned if p.name not in installed]
    if missing:
        raise ImageBuildError(
            f"the {profile.value} root file system lacks pinned packages: {', '.join(missing)}"
        )
    rejected = [
        f"{p.name}: pinned {p.version} ({p.match.value}), archive gave {installed[p.name]}"
        for p in pinned
        if not p.accepts(installed[p.name])
    ]
    if rejected:
        raise ImageBuildError(
            "the Debian archive no longer serves the pinned toolchain:\n  "
            + "\n  ".join(rejected)
            + "\nupdate toolchain/manifest.toml deliberately (scores and golden artifacts "
            "are tied to these versions)"
        )
    drift = [
        f"{p.name}: pinned {p.version}, installed {installed[p.name]}"
        for p in pinned
        if installed[p.name] != p.version
    ]
    return installed, drift


def _build_rootfs(
    profile: Profile,
    manifest: Manifest,
    method: BuildMethod,
    client: DockerClient | None,
    force: bool,
) -> RootfsInfo:
    existing = find_rootfs(profile, manifest)
    if existing is not None and not force:
        return existing
    if os.geteuid() != 0:
        raise ImageBuildError("building root file systems needs root (debootstrap, chown)")
    final = _rootfs_path(profile, manifest)
    partial = final.with_name(final.name + f".partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    log = ramp_home() / "logs" / f"build-{profile.value}-{_identity(profile, manifest)}.log"
    started = time.monotonic()
    try:
        if method is BuildMethod.DOCKERFILE:
            if client is None:
                raise ImageBuildError("--method dockerfile needs a Docker engine")
            _dockerfile_build(partial, profile, manifest, client)
        else:
            _debootstrap(partial, profile, manifest, log)
        installed, drift = _finalise(partial, profile, manifest)
        info = RootfsInfo(
            profile=profile,
            fingerprint=manifest.fingerprint(profile),
            path=final,
            method=method,
            installed=installed,
            drift=drift,
            built_at=datetime.now(UTC).isoformat(timespec="seconds"),
            build_seconds=round(time.monotonic() - started, 1),
        )
        (partial / _RECORD).write_text(info.model_dump_json(indent=2), encoding="utf-8")
        if final.exists():
            shutil.rmtree(final)
        partial.rename(final)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return info


def _import_image(
    rootfs: RootfsInfo, client: DockerClient, manifest: Manifest, force: bool
) -> ImageInfo:
    tag = image_tag(rootfs.profile, manifest)
    existing = find_image(rootfs.profile, client, manifest)
    if existing is not None and not force:
        return ImageInfo(
            profile=rootfs.profile,
            tag=tag,
            image_id=existing,
            fingerprint=rootfs.fingerprint,
            reused=True,
        )
    repository, _, version = tag.partition(":")
    changes = [
        f"LABEL io.ramp.toolchain.profile={rootfs.profile.value}",
        f"LABEL io.ramp.toolchain.fingerprint={rootfs.fingerprint}",
        "ENV PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8",
        f"WORKDIR {WORKSPACE_MOUNT}",
    ]
    tar = subprocess.Popen(
        ["tar", "--numeric-owner", "-C", str(rootfs.path), "-c", "."],
        stdout=subprocess.PIPE,
    )
    assert tar.stdout is not None
    try:
        importer = docker_client(_IMPORT_TIMEOUT_S)
        importer.api.import_image_from_stream(
            tar.stdout, repository=repository, tag=version, changes=changes
        )
        importer.close()
    except (docker.errors.DockerException, RequestException) as exc:
        raise ImageBuildError(f"docker import of {tag} failed: {exc}") from exc
    finally:
        tar.stdout.close()
        if tar.wait(timeout=60) != 0:
            raise ImageBuildError(f"tar of {rootfs.path} failed with exit {tar.returncode}")
    image_id = find_image(rootfs.profile, client, manifest)
    if image_id is None:
        raise ImageBuildError(f"docker import reported success but {tag} is not in the engine")
    return ImageInfo(
        profile=rootfs.profile,
        tag=tag,
        image_id=image_id,
        fingerprint=rootfs.fingerprint,
        reused=False,
    )


def build_toolchain(
    profiles: tuple[Profile, ...] = SANDBOX_PROFILES,
    *,
    method: BuildMethod = BuildMethod.AUTO,
    docker: bool = True,
    force: bool = False,
) -> ImageBuildReport:
    """Build (or reuse) the root file systems and, when an engine answers, the images."""
    manifest = load_manifest()
    client: DockerClient | None = None
    skipped: str | None = None
    if docker:
        try:
            client = docker_client()
        except EngineUnavailableError as exc:
            skipped = str(exc)
    else:
        skipped = "disabled with --no-docker"
    chosen = method
    if method is BuildMethod.AUTO:
        needed = [p for p in profiles if force or find_rootfs(p, manifest) is None]
        if needed and client is not None and _registry_reachable(client):
            chosen = BuildMethod.DOCKERFILE
        else:
            chosen = BuildMethod.DEBOOTSTRAP
    rootfs = [_build_rootfs(p, manifest, chosen, client, force) for p in profiles]
    images = [] if client is None else [_import_image(r, client, manifest, force) for r in rootfs]
    if client is not None:
        client.close()
    return ImageBuildReport(rootfs=rootfs, images=images, docker_skipped_reason=skipped)
