"""The corpus: ours, complete, well formed, split stably, and free of undefined behaviour."""

from __future__ import annotations

import random
import re
from collections import Counter
from pathlib import Path

import pytest

from golden import CONTRACTS_DIR, Case, CaseKind, Split, builtin_corpus, load_case_dir, split_of
from golden._corpus import CorpusError, SplitPlan, load_split, split_problems
from golden._expected import ExpectationError, establish

MINIMUMS = {CaseKind.FUNCTIONAL: 120, CaseKind.PERFORMANCE: 20, CaseKind.STRESS: 6}


def test_corpus_size_and_kinds() -> None:
    kinds = Counter(case.kind for case in builtin_corpus())
    assert sum(kinds.values()) >= 160
    for kind, minimum in MINIMUMS.items():
        assert kinds[kind] >= minimum, kind


def test_every_case_has_its_expectation() -> None:
    for case in builtin_corpus():
        assert case.expected_stdout is not None, case.name
        assert case.expected_exit is not None and 0 <= case.expected_exit <= 255, case.name


def test_performance_cases_read_input_and_time_themselves() -> None:
    for case in builtin_corpus():
        if case.kind is CaseKind.PERFORMANCE:
            source = case.source.read_text()
            assert case.stdin is not None, case.name
            assert "starttime()" in source and "stoptime()" in source, case.name


def test_sources_are_contest_style_sysy() -> None:
    for case in builtin_corpus():
        source = case.source.read_text()
        assert "#include" not in source, case.name
        for construct in ("for (", "for(", "++", "--;", "+=", "-=", "do {", "switch"):
            assert construct not in source, (case.name, construct)


def test_stress_sizes() -> None:
    stress = {c.name: c for c in builtin_corpus() if c.kind is CaseKind.STRESS}
    assert max(c.source.stat().st_size for c in stress.values()) >= 200_000


def test_split_is_stratified_and_about_forty_percent_public() -> None:
    cases = builtin_corpus()
    assert split_problems(cases, load_split()) == []
    public = sum(case.split is Split.PUBLIC for case in cases)
    assert 0.35 <= public / len(cases) <= 0.45
    assert all(split_of(case.name) is case.split for case in cases)


def test_only_listed_cases_are_public() -> None:
    plan = load_split()
    for case in builtin_corpus():
        assert (case.split is Split.PUBLIC) is (case.name in plan.public_names()), case.name
    # Cases not placed yet (in neither table) are tolerated, as hidden ones.
    assert split_of("a_case_that_does_not_exist_yet") is Split.HIDDEN


def test_every_case_a_contract_names_is_public() -> None:
    # The contracts show forms by public examples (clang's array types in
    # sysy-language.md, T2.md; each construct of T5.md): those must stay visible.
    corpus = {case.name: case.split for case in builtin_corpus()}
    named: set[str] = set()
    for contract in CONTRACTS_DIR.glob("*.md"):
        named |= set(re.findall(r"`([a-z0-9_]+)`", contract.read_text(encoding="utf-8")))
    examples = named & corpus.keys()
    assert {"lit_array_dims", "decl_const_param_dims", "decl_local_const_dims"} <= examples
    assert [n for n in sorted(examples) if corpus[n] is not Split.PUBLIC] == []


def _fake(name: str, split: Split, kind: CaseKind = CaseKind.FUNCTIONAL) -> Case:
    source = Path(f"/nonexistent/{name}.sy")
    return Case(
        name=name,
        split=split,
        kind=kind,
        source=source,
        stdin=None,
        expected_stdout=None,
        expected_exit=None,
    )


def test_split_problems_name_each_unbalanced_category() -> None:
    pub, hid = Split.PUBLIC, Split.HIDDEN
    cases = [_fake(f"cond_{i}", hid) for i in range(5)] + [_fake(f"io_{i}", pub) for i in range(3)]
    cases += [_fake("io_9", hid), _fake("perf_a", pub, CaseKind.PERFORMANCE)]
    cases += [_fake("perf_b", hid, CaseKind.PERFORMANCE)]
    plan = SplitPlan(public={"io": ["io_0", "io_1", "io_2"]}, hidden={"cond": ["cond_0", "gone"]})
    problems = "\n".join(split_problems(cases, plan))
    assert "functional/cond: 0 of 5 cases public; it needs 2..2" in problems
    assert "functional/io: 3 of 4 cases public; it needs 2..2" in problems
    assert "lists gone, which is no case" in problems
    assert "performance" not in problems  # 1 of 2: both bounds hold
    # A prefix too small to split is folded into another category.
    tiny = [_fake("tiny_x", pub), _fake("misc_a", hid), _fake("misc_b", hid)]
    merged = SplitPlan(public={"misc": ["tiny_x"]}, hidden={}, merged={"misc": ["tiny"]})
    assert split_problems(tiny, merged) == []
    assert "functional/tiny: 1 of 1" in "\n".join(
        split_problems(tiny, SplitPlan(public={}, hidden={}))
    )


def test_a_case_filed_twice_or_elsewhere_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "split.toml"
    path.write_text('[public]\nio = ["io_a"]\n[hidden]\nio = ["io_a"]\n')
    with pytest.raises(CorpusError, match="more than once: io_a"):
        load_split.__wrapped__(path)
    path.write_text("[public]\nio = 3\n")
    with pytest.raises(CorpusError, match="must be TOML"):
        load_split.__wrapped__(path)
    plan = SplitPlan(public={"cond": ["io_a"]}, hidden={})
    assert "files io_a under cond" in "\n".join(split_problems([_fake("io_a", Split.PUBLIC)], plan))


def test_user_case_directory(tmp_path: Path) -> None:
    (tmp_path / "mine.sy").write_text("int main() { return 3; }\n")
    (tmp_path / "mine.in").write_text("")
    (case,) = load_case_dir(tmp_path)
    assert (case.name, case.split, case.kind) == ("mine", Split.HIDDEN, CaseKind.FUNCTIONAL)
    assert case.expected_exit is None
    with pytest.raises(CorpusError, match="does not exist"):
        load_case_dir(tmp_path / "missing")
    (tmp_path / "Bad-Name.sy").write_text("int main() { return 0; }\n")
    with pytest.raises(CorpusError, match="lower-case letters"):
        load_case_dir(tmp_path)


def test_expectations_reproduce_two_ways_with_sanitizers() -> None:
    # The whole corpus takes minutes; a seeded sample checks the committed expectations
    # (benchmarks/bench_golden.py --check-expectations runs all of them).
    functional = [c for c in builtin_corpus() if c.kind is CaseKind.FUNCTIONAL]
    for case in random.Random(20261125).sample(functional, 6):
        expected = establish(case.source, case.stdin_bytes())
        assert case.expected_stdout is not None
        assert expected.stdout == case.expected_stdout.read_bytes(), case.name
        assert expected.exit_code == case.expected_exit, case.name


def test_undefined_behaviour_is_rejected(tmp_path: Path) -> None:
    source = tmp_path / "overflow.sy"
    source.write_text(
        "int main() { int x = 2147483647; int y = getint(); putint(x + y); return 0; }\n"
    )
    with pytest.raises(ExpectationError, match="undefined behaviour"):
        establish(source, b"1\n")


def test_a_read_of_an_unwritten_local_is_rejected_by_msan(tmp_path: Path) -> None:
    # Every build prints the same (nothing) and ASan/UBSan see nothing wrong: only
    # MemorySanitizer notices the branch on a value that was never written.
    source = tmp_path / "unwritten.sy"
    source.write_text(
        "int main() { int a[4]; a[0] = 1; int i = getint();\n"
        "  if (a[i] == 1234567) { putint(1); }\n  return 0; }\n"
    )
    with pytest.raises(ExpectationError, match="found by MSan"):
        establish(source, b"2\n")
    assert establish(source, b"0\n").exit_code == 0
