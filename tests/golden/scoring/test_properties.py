"""Property tests: no scorer raises, stays in [0, 100], or varies between calls."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from golden.scoring import (
    CaseScore,
    RunOutcome,
    load_ast,
    parse_token_dump,
    score_behaviour,
    score_t0,
    score_t1,
    score_t2,
    score_t4,
)

text_or_bytes = st.one_of(st.text(), st.binary())
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                ["kind", "name", "value", "opcode", "type", "qualType", "inner", "isImplicit"]
            ),
            inner,
            max_size=5,
        )
    ),
    max_leaves=30,
)
runs = st.builds(
    RunOutcome,
    stdout=st.binary(max_size=64),
    exit_code=st.none() | st.integers(-300, 300),
    timed_out=st.booleans(),
    build_ok=st.booleans(),
    build_diagnostic=st.text(max_size=300),
    detail=st.text(max_size=40),
)


class Goldens(dict[str, str]):
    """The three golden texts, with a short repr so Hypothesis reports stay readable."""

    def __repr__(self) -> str:
        return "<golden artifacts>"


@pytest.fixture(scope="module")
def goldens(clang: Any, program: str) -> Goldens:
    return Goldens(t0=clang.preprocess(program), t1=clang.tokens(program), t2=clang.ast(program))


def _twice_in_range(first: CaseScore, second: CaseScore) -> None:
    assert 0.0 <= first.score <= 100.0
    assert first == second


@settings(max_examples=200, deadline=None)
@given(produced=text_or_bytes)
def test_text_scorers_never_raise(goldens: Goldens, produced: str | bytes) -> None:
    _twice_in_range(score_t0(goldens["t0"], produced), score_t0(goldens["t0"], produced))
    _twice_in_range(score_t1(goldens["t1"], produced), score_t1(goldens["t1"], produced))
    _twice_in_range(score_t2(goldens["t2"], produced), score_t2(goldens["t2"], produced))
    parse_token_dump(produced)
    load_ast(produced)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_mutated_token_dumps_stay_in_range(goldens: Goldens, data: st.DataObject) -> None:
    lines = goldens["t1"].splitlines(keepends=True)
    index = data.draw(st.integers(0, len(lines) - 1))
    lines[index] = data.draw(st.text(max_size=60)) + data.draw(st.sampled_from(["\n", "\r\n", ""]))
    produced = "".join(lines)
    _twice_in_range(score_t1(goldens["t1"], produced), score_t1(goldens["t1"], produced))


@settings(max_examples=200, deadline=None)
@given(produced=json_values)
def test_ast_scorer_never_raises_on_any_json(goldens: Goldens, produced: Any) -> None:
    text = json.dumps(produced)
    # A str argument is JSON text to parse, so only non-strings can be passed as values.
    as_value = text if isinstance(produced, str) else produced
    _twice_in_range(score_t2(goldens["t2"], text), score_t2(goldens["t2"], as_value))


@settings(max_examples=300, deadline=None)
@given(stdout=st.binary(max_size=64), code=st.integers(-300, 300), run=runs)
def test_behaviour_scorers_never_raise(stdout: bytes, code: int, run: RunOutcome) -> None:
    result = score_behaviour(stdout, code, run)
    _twice_in_range(result, score_behaviour(stdout, code, run))
    assert result.score in (0.0, 100.0)


@settings(max_examples=300, deadline=None)
@given(
    stdout=st.binary(max_size=64),
    code=st.integers(-300, 300),
    run=runs,
    reference=st.integers(1, 10**12),
    baseline=st.integers(1, 10**12),
    agent=st.none() | st.integers(-(10**12), 10**12),
)
def test_t4_never_raises(
    stdout: bytes, code: int, run: RunOutcome, reference: int, baseline: int, agent: int | None
) -> None:
    def score() -> CaseScore:
        return score_t4(stdout, code, run, reference, agent, baseline_instructions=baseline)

    _twice_in_range(score(), score())


@settings(max_examples=300, deadline=None)
@given(
    reference=st.integers(1, 10**10),
    baseline_factor=st.floats(1.0, 50.0),
    counts=st.lists(st.integers(1, 10**11), min_size=2, max_size=6),
)
def test_t4_a_lower_count_never_scores_lower(
    reference: int, baseline_factor: float, counts: list[int]
) -> None:
    right = RunOutcome(stdout=b"ok", exit_code=0)
    baseline = max(1, int(reference * baseline_factor))
    scored = sorted(
        (n, score_t4(b"ok", 0, right, reference, n, baseline_instructions=baseline).score)
        for n in counts
    )
    values = [score for _, score in scored]
    assert values == sorted(values, reverse=True), scored


@settings(max_examples=300, deadline=None)
@given(secret=st.binary(min_size=1, max_size=40), run=runs, code=st.integers(-300, 300))
def test_behaviour_diagnosis_never_contains_expected_stdout(
    secret: bytes, run: RunOutcome, code: int
) -> None:
    expected = b"@@" + secret
    result = score_behaviour(expected, code, run)
    assert "@@" not in result.diagnosis
    assert expected.decode(errors="replace") not in result.diagnosis
