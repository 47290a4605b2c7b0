"""The pinned manifest: valid, complete, and the fingerprint moves with every pin."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolchain._errors import ManifestError
from toolchain._manifest import MANIFEST_PATH, MatchRule, Profile, load_manifest, upstream_version

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


def test_pin_policy_pins_only_what_scores() -> None:
    manifest = load_manifest()
    scoring = {p.name for p in manifest.scoring_packages()}
    assert {"clang-19", "llvm-19", "lld-19", "qemu-user", "valgrind", "libc6", "python3"} <= scoring
    assert {
        "gcc-riscv64-linux-gnu",
        "libc6-dev-riscv64-cross",
        "binutils-riscv64-linux-gnu",
    } <= scoring
    floating = {"chromium", "postgresql", "git", "gdb", "bubblewrap", "docker.io", "debootstrap"}
    assert not floating & scoring
    for package in manifest.packages:
        assert package.scoring or package.match is MatchRule.ANY, package.name


def test_a_scoring_package_cannot_float(tmp_path: Path) -> None:
    broken = tmp_path / "manifest.toml"
    text = MANIFEST_PATH.read_text()
    start = text.index('name = "clang-19"')
    end = text.index("[[package]]", start)
    broken.write_text(
        text[:start] + text[start:end].replace('match = "exact"', 'match = "any"') + text[end:]
    )
    with pytest.raises(ManifestError, match="scoring but has match = 'any'"):
        load_manifest.__wrapped__(broken)


def _with_version(name: str, version: str, tmp_path: Path) -> Path:
    text = MANIFEST_PATH.read_text()
    start = text.index(f'name = "{name}"\n')
    line_start = text.index("version = ", start)
    line_end = text.index("\n", line_start)
    changed = tmp_path / f"manifest-{name}.toml"
    changed.write_text(text[:line_start] + f'version = "{version}"' + text[line_end:])
    return changed


def test_fingerprint_ignores_what_does_not_score(tmp_path: Path) -> None:
    manifest = load_manifest()
    chromium = load_manifest.__wrapped__(_with_version("chromium", "999.0-1", tmp_path))
    assert chromium.fingerprint() == manifest.fingerprint()
    git = load_manifest.__wrapped__(_with_version("git", "1:9.9.9-1", tmp_path))
    assert git.fingerprint(Profile.DEV) == manifest.fingerprint(Profile.DEV)
    # A Debian revision of an upstream-pinned scoring package keeps the images.
    qemu = load_manifest.__wrapped__(_with_version("qemu-user", "1:7.2+dfsg-7+deb12u99", tmp_path))
    assert qemu.fingerprint(Profile.DEV) == manifest.fingerprint(Profile.DEV)
    # An upstream change of it, or any change of an exact pin, makes new images.
    newer = load_manifest.__wrapped__(_with_version("qemu-user", "1:8.0+dfsg-1", tmp_path))
    assert newer.fingerprint(Profile.DEV) != manifest.fingerprint(Profile.DEV)
    llc = load_manifest.__wrapped__(_with_version("llvm-19", "1:19.1.7-3~deb12u2", tmp_path))
    assert llc.fingerprint(Profile.DEV) != manifest.fingerprint(Profile.DEV)
