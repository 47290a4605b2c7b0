"""Epochs made for real: generated, checked by every build, golden-built, written, listed,
verified, chosen and graded on, through the `ramp` and `ramp-grade` command lines.

Each test home shares the machine's root file systems and golden cache (as the campaign
tests do), so a case built once is a lookup afterwards; epochs themselves are the home's.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from golden.epochs import epoch_cases, epoch_id, epoch_manifest
from golden.generator import FEATURES, GENERATOR_VERSION
from tests.support import backend_missing, ramp_command, shared_ramp_home
from toolchain._manifest import Profile

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[3]
SEED, FUNCTIONAL, PERFORMANCE = 11, 3, 1
EPOCH = epoch_id(SEED, FUNCTIONAL, PERFORMANCE)


def _home() -> Path:
    return shared_ramp_home("ramp-test-epoch-")


def _cli(home: Path, *argv: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    return ramp_command(home, *argv, ok=ok)


def _new(home: Path, seed: int = SEED) -> dict[str, Any]:
    made = _cli(
        home, "ramp", "golden", "epoch", "new", "--seed", str(seed), "--guessable-seed",
        "--functional", str(FUNCTIONAL), "--performance", str(PERFORMANCE), "--backend", "bwrap",
        "--json",
    )  # fmt: skip
    result: dict[str, Any] = json.loads(made.stdout)
    return result


@pytest.fixture(scope="module")
def made() -> Iterator[tuple[Path, dict[str, Any]]]:
    if backend_missing("bwrap", Profile.DEV):
        pytest.skip("bwrap not ready")
    home = _home()
    try:
        yield home, _new(home)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _tree(directory: Path) -> dict[str, bytes]:
    """Every file of an epoch but its golden cache (a cache: its records name paths)."""
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file() and p.relative_to(directory).parts[0] != "golden-cache"
    }


def test_new_prints_the_epoch_with_absolute_paths(made: tuple[Path, dict[str, Any]]) -> None:
    home, view = made
    assert (
        view["epoch"] == EPOCH
        and view["seed"] == SEED
        and view["generator_version"] == GENERATOR_VERSION
    )
    # The id never shows the seed (whoever knows the seed can make the epoch).
    assert EPOCH.startswith(f"g{GENERATOR_VERSION}-f{FUNCTIONAL}-p{PERFORMANCE}-")
    assert epoch_id(SEED + 1, FUNCTIONAL, PERFORMANCE) != EPOCH
    directory = Path(view["dir"])
    assert directory == home / "epochs" / EPOCH and directory.is_absolute()
    kinds = [case["kind"] for case in view["cases"]]
    assert kinds.count("functional") == FUNCTIONAL and kinds.count("performance") == PERFORMANCE
    for case in view["cases"]:
        for key in ("source", "expected_stdout"):
            assert Path(case[key]).is_absolute() and Path(case[key]).is_file(), case
        assert case["input"] is None or Path(case["input"]).is_file()
        assert isinstance(case["expected_exit_code"], int)
        assert set(case["features"]) <= set(FEATURES)
    assert sum(view["coverage"].values()) > 0 and set(view["coverage"]) <= set(FEATURES)


def test_the_hidden_set_is_root_only_and_outside_the_repository(
    made: tuple[Path, dict[str, Any]],
) -> None:
    home, view = made
    assert (home / "epochs").stat().st_mode & 0o777 == 0o700
    assert not Path(view["dir"]).resolve().is_relative_to(ROOT)
    tracked = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files"], capture_output=True, text=True, check=False
    ).stdout
    for case in view["cases"]:
        assert case["name"] not in tracked


def test_one_seed_makes_the_same_bytes_twice_and_two_seeds_differ(
    made: tuple[Path, dict[str, Any]],
) -> None:
    _, view = made
    again, other = _home(), _home()
    try:
        second = _new(again)
        assert _tree(Path(view["dir"])) == _tree(Path(second["dir"]))
        third = _new(other, seed=SEED + 1)
        sources = {Path(c["source"]).read_bytes() for c in view["cases"]}
        assert sources.isdisjoint({Path(c["source"]).read_bytes() for c in third["cases"]})
    finally:
        shutil.rmtree(again, ignore_errors=True)
        shutil.rmtree(other, ignore_errors=True)


def test_list_show_use_and_verify(made: tuple[Path, dict[str, Any]]) -> None:
    home, view = made
    listed = json.loads(_cli(home, "ramp", "golden", "epoch", "list", "--json").stdout)["epochs"]
    assert [row["epoch"] for row in listed] == ["0", EPOCH]
    assert listed[0]["current"] and not listed[1]["current"]
    shown = json.loads(_cli(home, "ramp", "golden", "epoch", "show", EPOCH).stdout)
    assert shown["cases"] == view["cases"]
    _cli(home, "ramp", "golden", "epoch", "use", EPOCH)
    try:
        listed = json.loads(_cli(home, "ramp", "golden", "epoch", "list", "--json").stdout)
        assert [row["current"] for row in listed["epochs"]] == [False, True]
    finally:
        _cli(home, "ramp", "golden", "epoch", "use", "0")
    verdict = json.loads(_cli(home, "ramp", "golden", "epoch", "verify", EPOCH, "--json").stdout)
    assert verdict == {"epoch": EPOCH, "ok": True, "checked": 4, "problems": []}


def test_verify_finds_a_changed_expectation(made: tuple[Path, dict[str, Any]]) -> None:
    home, view = made
    case = view["cases"][0]
    expected = Path(case["expected_stdout"])
    kept = expected.read_bytes()
    expected.write_bytes(kept + b"1\n")
    try:
        done = _cli(home, "ramp", "golden", "epoch", "verify", EPOCH, "--json", ok=False)
    finally:
        expected.write_bytes(kept)
    assert done.returncode == 1, done.stderr
    problems = json.loads(done.stdout)["problems"]
    # The changed file, and the rebuilt reference artifacts no longer matching it.
    assert f"{case['name']}: {expected.name} differs from the manifest" in problems
    assert all(problem.startswith(f"{case['name']}: ") for problem in problems), problems


def test_grade_on_an_epoch_and_refusals(made: tuple[Path, dict[str, Any]]) -> None:
    home, _ = made
    reference = _cli(home, "ramp", "reference", "path").stdout.strip()
    graded = _cli(
        home, "ramp-grade", "grade", "--workspace", reference, "--epoch", EPOCH, "--stages",
        "T0-T2", "--backend", "bwrap", "--json",
    )  # fmt: skip
    report = json.loads(graded.stdout)
    assert report["epoch"] == EPOCH
    assert [(s["stage"], s["chained_score"], s["cases"]) for s in report["stages"]] == [
        (stage, 100.0, FUNCTIONAL + PERFORMANCE) for stage in ("T0", "T1", "T2")
    ]
    for program in (("ramp-grade", "grade", "--workspace", reference), ("ramp", "run", "create")):
        done = _cli(home, *program, "--epoch", "no-such-epoch", ok=False)
        assert done.returncode == 2 and "there is no epoch 'no-such-epoch'" in done.stderr, done


def test_the_manifest_names_every_case_and_the_store_reads_them(
    made: tuple[Path, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    home, _ = made
    monkeypatch.setenv("RAMP_HOME", str(home))
    manifest = epoch_manifest(EPOCH)
    cases = epoch_cases(EPOCH)
    assert [c.name for c in cases] == sorted(r.name for r in manifest.cases)
    assert all(c.split.value == "hidden" for c in cases)
    assert {c.name: c.expected_exit for c in cases} == {
        r.name: r.expected_exit_code for r in manifest.cases
    }
