"""Load: scripted runs at once through one HTTP server score exactly as a run done alone.

The reduced form for CI: a run done alone, then three at once, each graded on the same
fixed sample of hidden cases (benchmarks/bench_load.py runs eight on a larger sample). Any
infrastructure error (a failed tool call, a submission left in error) fails the test.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from grader._machine import StageMachine
from grader._run_token import ensure_token
from grader.ledger import Ledger, Submission
from ramp_mcp._scripted_agent import ScriptedAgentPlan
from tests.ramp_mcp.harness import http_server, scripted_runs_over_http, stage_scores
from tests.support import backend_missing
from toolchain._manifest import Profile

CONCURRENT = 3
SAMPLE = 4


@pytest.fixture
def home() -> Iterator[Path]:
    if backend_missing("bwrap") or backend_missing("bwrap", Profile.MINIMAL):
        pytest.skip("bwrap not ready")
    directory = Path(tempfile.mkdtemp(prefix="ramp-test-load-", dir="/tmp"))
    directory.chmod(0o755)
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def test_concurrent_runs_score_as_a_run_alone(home: Path) -> None:
    ledger_url = f"sqlite:///{home / 'ledger.sqlite3'}"
    with Ledger.open(ledger_url) as ledger:
        machine = StageMachine(ledger, runs_root=home / "runs")
        runs = [
            machine.create_run(agent="scripted", model="load", sandbox="bwrap", sample=SAMPLE)
            for _ in range(CONCURRENT + 1)
        ]
        tokens = [(run.id, ensure_token(run)) for run in runs]
    plan = ScriptedAgentPlan()
    with http_server(ledger_url, home / "http.log") as (url, _):
        alone = scripted_runs_over_http(url, tokens[:1], plan)
        together = scripted_runs_over_http(url, tokens[1:], plan)
    assert all(len(r.steps) == 6 for r in alone + together)
    expected = stage_scores(ledger_url, runs[0].id)
    assert [state for _, state, _, _ in expected] == ["passed"] * 6, expected
    for run in runs[1:]:
        assert stage_scores(ledger_url, run.id) == expected
    with Ledger.open(ledger_url) as ledger, ledger.session(write=False) as session:
        submissions = session.exec(select(Submission)).all()
        assert len(submissions) == 6 * len(runs)
        assert {s.status for s in submissions} == {"done"}, "no infrastructure error"
        for run in runs:
            events = ledger.usage_events(run.id)
            failed = [(e.tool, e.outcome) for e in events if e.outcome != "ok"]
            assert not failed, failed
