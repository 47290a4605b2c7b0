"""A run graded on a fixed sample of hidden cases, and the token every new run gets."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from golden import CaseKind, Split, builtin_corpus
from grader._grading import hidden_cases
from grader._machine import StageMachine, StageRefusedError, sample_cases
from grader._run_token import read_token, token_path
from grader.ledger import Ledger


def test_sample_is_fixed_and_covers_every_kind() -> None:
    hidden = hidden_cases()
    first = sample_cases(hidden, 9)
    assert first == sample_cases(tuple(reversed(hidden)), 9), "independent of listing order"
    assert len(first) == 9 and len({c.name for c in first}) == 9
    assert all(c.split is Split.HIDDEN for c in first)
    kinds_present = {c.kind for c in hidden}
    assert {c.kind for c in first} == kinds_present
    assert any(c.kind is CaseKind.PERFORMANCE for c in sample_cases(hidden, 2))
    assert len(sample_cases(hidden, 10_000)) == len(hidden)
    with pytest.raises(StageRefusedError):
        sample_cases(hidden, 0)


@pytest.fixture
def runs_root() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="ramp-test-runs-", dir="/tmp"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


def test_run_records_its_sample_and_gets_a_token(ledger: Ledger, runs_root: Path) -> None:
    machine = StageMachine(ledger, runs_root=runs_root)
    run = machine.create_run(agent="test", sample=5)
    chosen = json.loads(ledger.get_run(run.id).config)["cases"]
    assert chosen == [c.name for c in sample_cases(hidden_cases(), 5)]
    assert [c.name for c in machine._cases_of(ledger.get_run(run.id))] == chosen
    whole = machine.create_run(agent="test")
    assert machine._cases_of(ledger.get_run(whole.id)) == hidden_cases()
    token = read_token(run)
    assert token is not None and len(token) >= 32
    assert token_path(run).stat().st_mode & 0o777 == 0o600
    assert read_token(whole) != token
    assert not any(c.name in chosen for c in builtin_corpus() if c.split is Split.PUBLIC)
