"""The doctor's verdict on drift: non-scoring packages never fail it, scoring ones do, with
what the drift means and what to do."""

from __future__ import annotations

from toolchain._doctor import check_package, run_doctor
from toolchain._manifest import load_manifest


def test_drifted_non_scoring_package_passes_and_is_reported() -> None:
    chromium = load_manifest().package("chromium")
    check = check_package(chromium, "157.0.1-1~deb12u1")
    assert check.ok and check.drift
    assert check.meaning is not None and "never a failure" in check.meaning
    assert check.fix is None


def test_drifted_scoring_package_fails_with_meaning_and_fix() -> None:
    clang = load_manifest().package("clang-19")
    check = check_package(clang, "1:19.1.7-3~deb12u2", "image dev")
    assert not check.ok and check.drift and check.scoring
    assert check.meaning is not None
    assert "ramp golden verify" in check.meaning and "fingerprint" in check.meaning
    assert check.fix is not None
    assert f"clang-19={clang.version}" in check.fix and "ramp golden verify" in check.fix


def test_debian_revision_of_an_upstream_pin_is_accepted_drift() -> None:
    qemu = load_manifest().package("qemu-user")
    check = check_package(qemu, "1:7.2+dfsg-7+deb12u99")
    assert check.ok and check.drift
    assert check.meaning is not None and "accepted" in check.meaning
    assert not check_package(qemu, "1:8.2.2+ds-1").ok


def test_missing_package_fails() -> None:
    check = check_package(load_manifest().package("git"), None)
    assert not check.ok and check.fix == "apt-get install -y git"


def test_doctor_on_this_machine_checks_images_and_records_the_grading_fingerprint() -> None:
    report = run_doctor()
    places = {p.where for p in report.packages}
    assert "host" in places
    if report.grading_fingerprint is not None:
        assert {"image dev", "image minimal"} <= places
        assert len(report.grading_fingerprint) == 16
        assert any(key.startswith("minimal/") for key in report.grading_versions)
    # Whatever Debian has moved since the manifest was written, only scoring packages fail.
    assert all(p.ok for p in report.packages if not p.scoring)
