"""The pinned manifest: valid, complete, and the fingerprint moves with every pin."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolchain._errors import ManifestError
from toolchain._manifest import MANIFEST_PATH, Profile, load_manifest, upstream_version

REQUIRED = {
    "clang-19",
    "llvm-19",
    "lld-19",
    "qemu-user",
    "gcc-riscv64-linux-gnu",
    "g++-riscv64-linux-gnu",
    "libc6-dev-riscv64-cross",
    "make",
    "cmake",
    "python3",
    "flex",
    "bison",
    "valgrind",
}


def test_manifest_pins_the_required_packages() -> None:
    manifest = load_manifest()
    dev = {p.name for p in manifest.packages_for(Profile.DEV)}
    assert dev >= REQUIRED
    assert {"bubblewrap", "docker.io", "debootstrap"} <= {
        p.name for p in manifest.packages_for(Profile.HOST)
    }


def test_minimal_profile_has_no_llvm() -> None:
    minimal = {p.name for p in load_manifest().packages_for(Profile.MINIMAL)}
    assert "python3" in minimal
    assert not any("clang" in n or "llvm" in n or "lld" in n for n in minimal)


def test_fingerprint_is_stable_and_moves_with_a_pin(tmp_path: Path) -> None:
    manifest = load_manifest()
    assert manifest.fingerprint() == load_manifest().fingerprint()
    assert len({manifest.fingerprint(p) for p in Profile}) == 3
    changed = tmp_path / "manifest.toml"
    changed.write_text(MANIFEST_PATH.read_text().replace("1:19.1.7-3~deb12u1", "1:19.1.7-4", 1))
    other = load_manifest.__wrapped__(changed)
    assert other.fingerprint() != manifest.fingerprint()
    assert other.fingerprint(Profile.MINIMAL) == manifest.fingerprint(Profile.MINIMAL)


def test_match_rules() -> None:
    manifest = load_manifest()
    clang = manifest.package("clang-19")
    assert clang.accepts("1:19.1.7-3~deb12u1")
    assert not clang.accepts("1:19.1.7-3~deb12u2")
    qemu = manifest.package("qemu-user")
    assert qemu.accepts("1:7.2+dfsg-7+deb12u19")
    assert not qemu.accepts("1:8.0+dfsg-1")
    assert upstream_version("1:19.1.7-3~deb12u1") == "19.1.7"
    assert upstream_version("2.36-8cross1") == "2.36"


def test_broken_manifest_names_file_and_field(tmp_path: Path) -> None:
    broken = tmp_path / "manifest.toml"
    broken.write_text(MANIFEST_PATH.read_text().replace('suite = "bookworm"', "suite = 12"))
    with pytest.raises(ManifestError, match=r"manifest.toml is invalid[\s\S]*suite"):
        load_manifest.__wrapped__(broken)
    broken.write_text("schema = [")
    with pytest.raises(ManifestError, match="cannot read"):
        load_manifest.__wrapped__(broken)
    with pytest.raises(ManifestError, match="not in the toolchain manifest"):
        load_manifest().package("gcc-13")
