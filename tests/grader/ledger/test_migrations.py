"""Schema migrations: an older ledger opens in a newer RAMP, a newer one is refused."""

from __future__ import annotations

import fnmatch
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from grader.ledger import (
    Ledger,
    LedgerMigrationError,
    TrialKey,
    create_ledger_engine,
    current_revision,
    head_revision,
    upgrade_to,
)
from grader.ledger._migrate import MIGRATIONS_DIR

ROOT = Path(__file__).resolve().parents[3]


def _prepare(url: str) -> None:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


def test_a_ledger_written_at_0001_opens_at_head_with_its_data(fresh_url: str) -> None:
    _prepare(fresh_url)
    engine = create_ledger_engine(fresh_url)
    try:
        upgrade_to(engine, "0001")
        assert current_revision(engine) == "0001"
        columns = {c["name"] for c in inspect(engine).get_columns("runs")}
        assert "label" not in columns
        stamp = (
            "2025-01-01 12:00:00+00"
            if engine.dialect.name == "postgresql"
            else ("2025-01-01 12:00:00.000000")
        )
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO runs (id, created_at, agent, model, workload, config, status,"
                    " workspace, sandbox, attempts_per_stage, golden_key) VALUES ('r-00000old01',"
                    " :at, 'old-agent', 'old-model', 'sysy-rv64', '{\"k\": 1}', 'running',"
                    " '/ws', 'docker', 2, 'g-old')"
                ),
                {"at": stamp},
            )
            connection.execute(
                text(
                    "INSERT INTO stage_states (run_id, stage, state, attempts_used, updated_at)"
                    " VALUES ('r-00000old01', 'T0', 'passed', 1, :at)"
                ),
                {"at": stamp},
            )
            connection.execute(
                text(
                    "INSERT INTO usage_events (run_id, at, kind, source, dedup_key, output_tokens)"
                    " VALUES ('r-00000old01', :at, 'tokens', 'jsonl', 'k1', 42)"
                ),
                {"at": stamp},
            )
    finally:
        engine.dispose()

    with Ledger.open(fresh_url) as ledger:
        assert ledger.schema_revision() == head_revision() == "0008"
        old = ledger.get_run("r-00000old01")
        assert (old.agent, old.status, old.attempts_per_stage, old.label) == (
            "old-agent",
            "running",
            2,
            None,
        )
        assert old.created_at == datetime(2025, 1, 1, 12, tzinfo=UTC)
        assert [(s.stage, s.state) for s in ledger.stage_states(old.id)] == [("T0", "passed")]
        assert [e.output_tokens for e in ledger.usage_events(old.id)] == [42]
        # What revision 0002 added is there and used.
        inspector = inspect(ledger.engine)
        assert "label" in {c["name"] for c in inspector.get_columns("runs")}
        assert "ix_usage_events_run_id_at" in {
            i["name"] for i in inspector.get_indexes("usage_events")
        }
        # Revision 0003: usage events carry a detail; the old event has none.
        assert "detail" in {c["name"] for c in inspector.get_columns("usage_events")}
        assert [e.detail for e in ledger.usage_events(old.id)] == [None]
        # Revision 0006: frozen stage outputs, one row per (submission, case).
        assert {"submission_id", "case", "sha256", "size"} <= {
            c["name"] for c in inspector.get_columns("stage_outputs")
        }
        with ledger.locked_run(old.id) as locked:
            locked.run.label = "migrated"
        assert ledger.get_run(old.id).label == "migrated"


def test_a_ledger_from_a_newer_ramp_is_refused(fresh_url: str) -> None:
    with Ledger.open(fresh_url) as ledger, ledger.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(LedgerMigrationError, match=r"'9999'[\s\S]*newer RAMP"):
        Ledger.open(fresh_url)


def test_migration_scripts_ship_inside_the_package() -> None:
    assert MIGRATIONS_DIR == ROOT / "grader" / "ledger" / "migrations"
    scripts = [
        path.relative_to(ROOT / "grader").as_posix()
        for path in [MIGRATIONS_DIR / "env.py", *sorted((MIGRATIONS_DIR / "versions").glob("*.py"))]
    ]
    assert "ledger/migrations/versions/v0001_initial.py" in scripts
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["grader"]
    for script in scripts:
        assert any(fnmatch.fnmatch(script, pattern) for pattern in package_data), script


def test_a_ledger_written_at_0006_gains_the_campaign_tables(fresh_url: str) -> None:
    _prepare(fresh_url)
    engine = create_ledger_engine(fresh_url)
    try:
        upgrade_to(engine, "0006")
        assert "campaigns" not in inspect(engine).get_table_names()
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO runs (id, created_at, agent, model, workload, config, status,"
                    " workspace, sandbox, attempts_per_stage, golden_key) VALUES ('r-00000old06',"
                    " :at, 'old-agent', 'old-model', 'sysy-rv64', '{}', 'finished',"
                    " '/ws', 'bwrap', 1, 'g-old')"
                ),
                {"at": datetime(2026, 12, 1, tzinfo=UTC)},
            )
    finally:
        engine.dispose()

    with Ledger.open(fresh_url) as ledger:
        assert ledger.schema_revision() == "0008"
        inspector = inspect(ledger.engine)
        assert {"campaigns", "campaign_trials", "campaign_attempts"} <= set(
            inspector.get_table_names()
        )
        assert "uq_campaign_trials_campaign_agent_model_index" in {
            c["name"] for c in inspector.get_unique_constraints("campaign_trials")
        }
        # The old run can be the run a campaign trial counts.
        ledger.open_campaign(
            "old", spec="{}", spec_hash="h", trials=[TrialKey("old-agent", "old-model", 0)]
        )
        (trial,) = ledger.campaign_trials("old")
        assert trial.id is not None
        attempt = ledger.claim_trial(trial.id, driver="h:1", node="h")
        assert attempt is not None and attempt.id is not None
        counted = ledger.finish_attempt(attempt.id, outcome="ok", run_id="r-00000old06")
        assert (counted.state, counted.run_id) == ("graded", "r-00000old06")
        assert ledger.get_run("r-00000old06").status == "finished"
        # Revision 0008: a run made before epochs was graded on the built-in corpus.
        assert ledger.get_run("r-00000old06").epoch == "0"
