"""The corpus: ours, complete, well formed, split stably, and free of undefined behaviour."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest

from golden import CaseKind, Split, builtin_corpus, load_case_dir, split_of
from golden._corpus import CorpusError
from golden._expected import establish

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


def test_split_is_about_forty_percent_and_stable() -> None:
    cases = builtin_corpus()
    public = sum(case.split is Split.PUBLIC for case in cases)
    assert 0.3 <= public / len(cases) <= 0.5
    assert all(split_of(case.name) is case.split for case in cases)
    # Adding cases never moves an existing one: the split is a function of the name only.
    assert split_of("a_case_that_does_not_exist_yet") in set(Split)


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
    from golden._expected import ExpectationError

    source = tmp_path / "overflow.sy"
    source.write_text(
        "int main() { int x = 2147483647; int y = getint(); putint(x + y); return 0; }\n"
    )
    with pytest.raises(ExpectationError, match="undefined behaviour"):
        establish(source, b"1\n")
