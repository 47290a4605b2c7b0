"""The ledger: RAMP's one record of runs, stages, submissions, usage and findings.

The ledger stores and locks; it does not decide. Which stage transition is allowed, when a
run finishes, what a score means: all of that belongs to the grader's stage machine, which
changes rows inside :meth:`Ledger.locked_run` so that two processes acting on one run take
turns.

Objects returned by the helpers are detached from their session and stay readable after it
closes (sessions here never expire objects on commit).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SQLAlchemyError
from sqlmodel import Session, col, select

from grader.ledger._campaigns import CampaignRecords
from grader.ledger._engine import (
    BUSY_TIMEOUT_S,
    LEDGER_URL_ENV,
    READ_ONLY_OPTION,
    create_ledger_engine,
    display_url,
    ledger_url,
    parse_ledger_url,
    sqlite_path,
)
from grader.ledger._errors import (
    LedgerBusyError,
    LedgerError,
    LedgerIntegrityError,
    LedgerUnavailableError,
    RunNotFoundError,
)
from grader.ledger._migrate import current_revision, upgrade_to_head
from grader.ledger._tables import (
    STAGES,
    IntegrityFinding,
    Run,
    RunStatus,
    StageState,
    StageStateName,
    UsageEvent,
    utc_now,
)
from toolchain import Closing

__all__ = ["Ledger", "LockedRun"]


@dataclass(frozen=True)
class LockedRun:
    """A run whose row is locked for the rest of a write transaction.

    Change ``run`` and the rows from :meth:`stage` / :meth:`stage_states` in place, or add
    rows through ``session``; everything commits together when the ``with`` block ends and
    rolls back if it raises.
    """

    session: Session
    run: Run

    def stage_states(self) -> list[StageState]:
        """The run's stage rows, T0..T5."""
        return list(
            self.session.exec(
                select(StageState)
                .where(StageState.run_id == self.run.id)
                .order_by(col(StageState.stage))
            ).all()
        )

    def stage(self, stage: str) -> StageState:
        """The row of one stage of the run."""
        state = self.session.get(StageState, (self.run.id, stage))
        if state is None:
            raise LedgerError(
                f"run {self.run.id!r} has no stage {stage!r} in the ledger; the stages are "
                f"{', '.join(STAGES)}"
            )
        return state


class Ledger(CampaignRecords, Closing):
    """A connection to the ledger database. Open it with :meth:`Ledger.open`.

    The campaign methods (open, claim, finish) come from :class:`CampaignRecords`."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._read_engine = engine.execution_options(**{READ_ONLY_OPTION: True})

    # -- lifetime -------------------------------------------------------------------------

    @classmethod
    def open(cls, url: str | None = None) -> Ledger:
        """Open the ledger at ``url`` (default :func:`ledger_url`), migrating it to the newest
        schema; a SQLite ledger's directory is created if needed."""
        parsed = parse_ledger_url(url if url is not None else ledger_url())
        path = sqlite_path(parsed) if parsed.get_backend_name() == "sqlite" else None
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise LedgerUnavailableError(
                    f"cannot create the directory of the SQLite ledger {path}: {exc}; set "
                    f"RAMP_HOME or ${LEDGER_URL_ENV} to somewhere writable"
                ) from exc
        engine = create_ledger_engine(parsed)
        ledger = cls(engine)
        try:
            with ledger._translated("opening and migrating the ledger"):
                upgrade_to_head(engine)
        except BaseException:
            engine.dispose()
            raise
        return ledger

    def close(self) -> None:
        """Close every pooled connection. The ledger must not be used afterwards."""
        self._engine.dispose()

    def __repr__(self) -> str:
        return f"Ledger({self.url})"

    @property
    def url(self) -> str:
        """The database URL, password masked."""
        return display_url(self._engine.url)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for code that needs plain SQL)."""
        return self._engine

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._engine.dialect.name

    def schema_revision(self) -> str | None:
        """The alembic revision the database is at."""
        with self._translated("reading the ledger's schema revision"):
            return current_revision(self._read_engine)

    # -- transactions ---------------------------------------------------------------------

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        """A session in one transaction: committed when the block ends, rolled back if it
        raises. ``write=False`` promises only reads (on SQLite it then never waits for a
        writer); a write session on SQLite takes the database's write lock at its first
        statement and holds it to the end, so keep write sessions short."""
        engine = self._engine if write else self._read_engine
        with (
            self._translated("a ledger transaction"),
            Session(engine, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session

    @contextmanager
    def locked_run(self, run_id: str) -> Iterator[LockedRun]:
        """A write transaction holding the lock of run ``run_id``'s row.

        On PostgreSQL the row is read with ``SELECT ... FOR UPDATE``; on SQLite the
        transaction began with ``BEGIN IMMEDIATE`` and holds the database's write lock. Either
        way a second ``locked_run`` of the same run waits until this one commits or rolls
        back. Raises :class:`RunNotFoundError` if there is no such run.
        """
        with self.session() as session:
            run = session.exec(select(Run).where(Run.id == run_id).with_for_update()).first()
            if run is None:
                raise self._not_found(run_id)
            yield LockedRun(session=session, run=run)

    # -- runs and stages ------------------------------------------------------------------

    def create_run(
        self,
        *,
        agent: str,
        model: str,
        workspace: str | Path,
        sandbox: str,
        golden_key: str,
        harness: str | None = None,
        workload: str = "sysy-rv64",
        seed: int | None = None,
        config: Mapping[str, Any] | str | None = None,
        attempts_per_stage: int = 1,
        budget_s: float | None = None,
        label: str | None = None,
        status: str = RunStatus.CREATED.value,
        run_id: str | None = None,
        created_at: datetime | None = None,
        toolchain_fingerprint: str | None = None,
        epoch: str = "0",
    ) -> Run:
        """Store a new run and its six stage rows (T0 open, T1..T5 locked)."""
        now = created_at if created_at is not None else utc_now()
        run = Run(
            agent=agent,
            model=model,
            workspace=str(workspace),
            sandbox=sandbox,
            golden_key=golden_key,
            harness=harness,
            workload=workload,
            seed=seed,
            config=_json_text(config),
            attempts_per_stage=attempts_per_stage,
            budget_s=budget_s,
            label=label,
            status=status,
            created_at=now,
            toolchain_fingerprint=toolchain_fingerprint,
            epoch=epoch,
        )
        if run_id is not None:
            run.id = run_id
        states = [
            StageState(
                run_id=run.id,
                stage=stage,
                state=(StageStateName.OPEN if stage == STAGES[0] else StageStateName.LOCKED).value,
                opened_at=now if stage == STAGES[0] else None,
                updated_at=now,
            )
            for stage in STAGES
        ]
        with self.session() as session:
            session.add(run)
            session.flush()  # the run row first: the stage rows reference it
            session.add_all(states)
        return run

    def get_run(self, run_id: str) -> Run:
        """The run ``run_id``; :class:`RunNotFoundError` if there is none."""
        with self.session(write=False) as session:
            run = session.get(Run, run_id)
        if run is None:
            raise self._not_found(run_id)
        return run

    def list_runs(self, *, status: str | None = None, limit: int | None = None) -> list[Run]:
        """Runs, newest first, optionally only those with ``status``."""
        query = select(Run).order_by(col(Run.created_at).desc(), col(Run.id))
        if status is not None:
            query = query.where(Run.status == status)
        if limit is not None:
            query = query.limit(limit)
        with self.session(write=False) as session:
            return list(session.exec(query).all())

    def stage_states(self, run_id: str) -> list[StageState]:
        """The stage rows of run ``run_id``, T0..T5; :class:`RunNotFoundError` if no run."""
        with self.session(write=False) as session:
            if session.get(Run, run_id) is None:
                raise self._not_found(run_id)
            return list(
                session.exec(
                    select(StageState)
                    .where(StageState.run_id == run_id)
                    .order_by(col(StageState.stage))
                ).all()
            )

    # -- usage ----------------------------------------------------------------------------

    def add_usage_events(self, events: Iterable[UsageEvent]) -> int:
        """Store usage events, skipping any whose (run_id, dedup_key) is already stored
        (events without a dedup_key are always stored). Returns how many were new."""
        insert = sqlite_insert if self.dialect == "sqlite" else pg_insert
        added = 0
        with self.session() as session:
            connection = session.connection()
            for event in events:
                values = event.model_dump(exclude={"id"})
                statement = (
                    insert(UsageEvent)
                    .values(**values)
                    .on_conflict_do_nothing(index_elements=["run_id", "dedup_key"])
                    .returning(col(UsageEvent.id))
                )
                # A skipped duplicate returns no row (rowcount is not portable here).
                added += len(connection.execute(statement).all())
        return added

    def usage_events(self, run_id: str) -> list[UsageEvent]:
        """The usage events of run ``run_id``, oldest first."""
        with self.session(write=False) as session:
            return list(
                session.exec(
                    select(UsageEvent)
                    .where(UsageEvent.run_id == run_id)
                    .order_by(col(UsageEvent.at), col(UsageEvent.id))
                ).all()
            )

    # -- integrity findings ---------------------------------------------------------------

    def add_integrity_finding(
        self,
        *,
        kind: str,
        detail: str,
        run_id: str | None = None,
        submission_id: int | None = None,
        stage: str | None = None,
        at: datetime | None = None,
    ) -> IntegrityFinding:
        """Record something found wrong; ``run_id`` is ``None`` for one-shot grading."""
        finding = IntegrityFinding(
            kind=kind,
            detail=detail,
            run_id=run_id,
            submission_id=submission_id,
            stage=stage,
            at=at if at is not None else utc_now(),
        )
        with self.session() as session:
            session.add(finding)
        return finding

    def findings(
        self, run_id: str | None, *, submission_id: int | None = None
    ) -> list[IntegrityFinding]:
        """The findings of run ``run_id`` (``None``: those of no run, i.e. one-shot grading),
        optionally only those of one submission, oldest first."""
        query = select(IntegrityFinding).order_by(
            col(IntegrityFinding.at), col(IntegrityFinding.id)
        )
        if run_id is None:
            query = query.where(col(IntegrityFinding.run_id).is_(None))
        else:
            query = query.where(IntegrityFinding.run_id == run_id)
        if submission_id is not None:
            query = query.where(IntegrityFinding.submission_id == submission_id)
        with self.session(write=False) as session:
            return list(session.exec(query).all())

    # -- errors ---------------------------------------------------------------------------

    def _not_found(self, run_id: str) -> RunNotFoundError:
        return RunNotFoundError(
            f"run {run_id!r} is not in the ledger at {self.url}: check the run id, and that "
            f"${LEDGER_URL_ENV} (or RAMP_HOME) points at the ledger that holds it"
        )

    @contextmanager
    def _translated(self, action: str) -> Iterator[None]:
        """Turn database errors into LedgerErrors that say what to check."""
        try:
            yield
        except IntegrityError as exc:
            raise LedgerIntegrityError(
                f"{action} broke a constraint of the ledger at {self.url}: {_first_line(exc)}; "
                "a referenced run or submission may not exist, or the row is a duplicate"
            ) from exc
        except OperationalError as exc:
            raise _operational(self._engine.url, action, exc) from exc
        except DBAPIError as exc:
            raise LedgerError(
                f"{action} failed in the ledger at {self.url}: {_first_line(exc)}"
            ) from exc
        except SQLAlchemyError as exc:
            raise LedgerError(f"{action} failed in the ledger at {self.url}: {exc}") from exc


def _json_text(config: Mapping[str, Any] | str | None) -> str:
    if config is None:
        return "{}"
    if isinstance(config, str):
        try:
            json.loads(config)
        except ValueError as exc:
            raise LedgerError(f"the run's config is not valid JSON: {exc}") from exc
        return config
    try:
        return json.dumps(dict(config), sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise LedgerError(f"the run's config cannot be stored as JSON: {exc}") from exc


def _first_line(exc: DBAPIError) -> str:
    text = str(exc.orig).strip() or type(exc.orig).__name__
    return text.splitlines()[0]


def _operational(url: URL, action: str, exc: OperationalError) -> LedgerError:
    where = display_url(url)
    reason = _first_line(exc)
    if url.get_backend_name() == "sqlite":
        if "locked" in reason or "busy" in reason:
            return LedgerBusyError(
                f"{action}: the SQLite ledger {where} stayed locked by another process for "
                f"more than {BUSY_TIMEOUT_S:.0f} s ({reason}); check for a hung grader holding "
                "a write transaction"
            )
        return LedgerUnavailableError(
            f"{action}: cannot use the SQLite ledger {where}: {reason}; check that the file "
            "and its directory are writable by this user and that the file is a SQLite "
            f"database (or set ${LEDGER_URL_ENV} to another ledger)"
        )
    return LedgerUnavailableError(
        f"{action}: cannot use the PostgreSQL ledger {where}: {reason}; check that the server "
        "is running and accepts TCP connections on that host and port, that the database "
        "exists, and that the user may log in (password, pg_hba.conf); or unset "
        f"${LEDGER_URL_ENV} to use the local SQLite ledger"
    )
