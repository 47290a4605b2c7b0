"""The sandbox environments are built from the manifest, verified, tagged, and reused."""

from __future__ import annotations

import pytest

from tests.support import backend_missing
from toolchain._engine import docker_client
from toolchain._image import build_toolchain, find_image, find_rootfs, image_tag
from toolchain._manifest import Profile, load_manifest


def test_root_file_systems_match_the_pins() -> None:
    manifest = load_manifest()
    for profile in (Profile.DEV, Profile.MINIMAL):
        rootfs = find_rootfs(profile)
        if rootfs is None:
            pytest.skip(f"{profile.value} root file system not built")
        assert rootfs.fingerprint == manifest.fingerprint(profile)
        for package in manifest.packages_for(profile):
            assert package.accepts(rootfs.installed[package.name]), package.name
        assert (rootfs.path / "workspace").is_dir()
        assert "ramp:x:1000:1000" in (rootfs.path / "etc/passwd").read_text()


def test_minimal_root_has_no_clang() -> None:
    rootfs = find_rootfs(Profile.MINIMAL)
    if rootfs is None:
        pytest.skip("minimal root file system not built")
    assert not list((rootfs.path / "usr/bin").glob("clang*"))
    assert not list((rootfs.path / "usr/lib").glob("llvm*"))
    assert (rootfs.path / "usr/bin/python3").exists()


def test_rebuild_reuses_what_exists() -> None:
    if backend_missing("docker") or backend_missing("docker", Profile.MINIMAL):
        pytest.skip("docker images not built")
    report = build_toolchain((Profile.MINIMAL, Profile.DEV))
    assert all(r.reused for r in report.rootfs)
    assert all(i.reused for i in report.images)
    client = docker_client()
    try:
        image = client.images.get(image_tag(Profile.DEV))
        assert image.labels["io.ramp.toolchain.fingerprint"] == load_manifest().fingerprint(
            Profile.DEV
        )
        assert find_image(Profile.DEV, client) == image.id
    finally:
        client.close()
