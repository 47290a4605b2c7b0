"""Golden artifacts: built by the reference pipeline, identical on both backends, cached."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from golden import ARTIFACT_FILES, GoldenManifest, Stage, build_golden, builtin_corpus, compare
from golden._builder import golden_key
from golden._corpus import load_case_dir
from golden._reference import retarget_ir_for_rv64
from golden.scoring import canonical_ast
from tests.support import backend_missing, reachable_temp_dir

SAMPLE = ("exit_large_codes", "init_partial_nested", "perf_matmul")


@pytest.fixture
def cache_root() -> Iterator[Path]:
    path = reachable_temp_dir("ramp-test-golden-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def sample_cases() -> tuple:  # type: ignore[type-arg]
    corpus = {c.name: c for c in builtin_corpus()}
    chosen = [corpus[n] for n in SAMPLE if n in corpus]
    if len(chosen) < 2:
        chosen = list(corpus.values())[:3]
    return tuple(chosen)


@pytest.mark.parametrize("backend", ["bwrap", "docker"])
def test_artifacts_match_the_committed_manifest(backend: str, cache_root: Path) -> None:
    if backend_missing(backend):
        pytest.skip(f"{backend} not ready")
    manifest = GoldenManifest.load()
    assert manifest is not None, "golden/manifest.json is missing"
    build = build_golden(sample_cases(), backend=backend, cache_root=cache_root)
    assert build.failures == {}
    assert compare(manifest, build) == []
    for case in build.cases:
        assert set(case.artifacts) == set(Stage)
        assert all(path.is_file() for path in case.artifacts.values())
        assert case.reference_instructions > 0


def test_second_build_is_a_cache_lookup(cache_root: Path) -> None:
    if backend_missing("bwrap"):
        pytest.skip("bwrap not ready")
    cases = sample_cases()[:1]
    first = build_golden(cases, backend="bwrap", cache_root=cache_root)
    second = build_golden(cases, backend="bwrap", cache_root=cache_root)
    assert (first.built, second.built, second.reused) == (1, 0, 1)
    assert second.cases[0].hashes == first.cases[0].hashes


def test_user_cases_get_their_expectation_from_the_reference(
    cache_root: Path, tmp_path: Path
) -> None:
    if backend_missing("bwrap"):
        pytest.skip("bwrap not ready")
    (tmp_path / "twice.sy").write_text(
        "int main() { int x = getint(); putint(x * 2); return x; }\n"
    )
    (tmp_path / "twice.in").write_text("21\n")
    build = build_golden(load_case_dir(tmp_path), backend="bwrap", cache_root=cache_root)
    (case,) = build.cases
    assert case.expected_exit == 21
    assert case.expected_stdout.read_bytes() == b"42"
    tokens = case.artifacts[Stage.T1].read_text()
    assert "Loc=</ramp/case/twice.sy:1:1>" in tokens
    assert tokens.splitlines()[-1].startswith("eof ''")


def test_a_case_the_reference_rejects_is_reported_not_cached(
    cache_root: Path, tmp_path: Path
) -> None:
    if backend_missing("bwrap"):
        pytest.skip("bwrap not ready")
    (tmp_path / "broken.sy").write_text("int main() { return undeclared; }\n")
    build = build_golden(load_case_dir(tmp_path), backend="bwrap", cache_root=cache_root)
    assert build.cases == []
    assert "reference pipeline failed" in build.failures["broken"]
    assert not list((cache_root / golden_key()).glob("broken-*"))


def test_ast_ids_are_renumbered_consistently() -> None:
    raw = json.dumps(
        {
            "id": "0x55d0a1",
            "kind": "TranslationUnitDecl",
            "inner": [
                {"id": "0x55d0b2", "kind": "VarDecl", "name": "x"},
                {"id": "0x55d0c3", "kind": "DeclRefExpr", "referencedDecl": {"id": "0x55d0b2"}},
            ],
        }
    )
    once = canonical_ast(raw)
    assert once is not None and json.loads(once) == {
        "id": "0x1",
        "kind": "TranslationUnitDecl",
        "inner": [
            {"id": "0x2", "kind": "VarDecl", "name": "x"},
            {"kind": "DeclRefExpr", "referencedDecl": {"id": "0x2"}},
        ],
    }
    assert canonical_ast(raw.replace("55d0", "7f11")) == once


def test_retargeting_keeps_the_code() -> None:
    ir = (
        'target datalayout = "e-m:e"\ntarget triple = "x86_64-pc-linux-gnu"\n'
        "define i32 @main() #0 {\n  ret i32 0\n}\n"
        'attributes #0 = { nounwind "target-cpu"="x86-64" "target-features"="+sse" "tune-cpu"="generic" }\n'
    )
    out = retarget_ir_for_rv64(ir)
    assert "target" not in out.replace("attributes", "")
    assert "define i32 @main() #0 {\n  ret i32 0\n}" in out
    assert "attributes #0 = { nounwind }" in out


def test_artifact_names_cover_every_stage() -> None:
    assert [ARTIFACT_FILES[s] for s in Stage] == [
        "T0.i",
        "T1.tokens",
        "T2.json",
        "T3.ll",
        "T4.ll",
        "T5.s",
    ]
