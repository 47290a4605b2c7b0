"""The serial stage machine: runs, submissions, resurrection, crash recovery.

States per stage: locked -> open -> grading -> passed | resurrected (or back to open while
attempts remain); which state may follow which is ``grader._transitions``' table, and every
change goes through it. Every transition happens inside ``Ledger.locked_run``, so two
submissions for one run serialise: the first claims the stage (state ``grading``), the
second is refused with the reason. Grading itself runs outside the lock; its result is
written in one transaction. A grader killed mid-grade leaves its submission ``grading``
with a dead pid: :meth:`StageMachine.recover` takes it over (still ``grading``) and grades
it again from the snapshot it saved, so nothing is half-written and nothing is lost.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import socket
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field
from sqlmodel import col, select

from golden import (
    BUILTIN_EPOCH,
    PASS_THRESHOLD,
    Case,
    EpochError,
    Stage,
    build_golden,
    current_epoch,
    epoch_cases,
    golden_key,
)
from golden.scoring import CaseCategory
from grader._agent_workspace import (
    REFERENCE_MOUNT,
    prepare_agent_workspace,
    reveal_stage_inputs,
    write_resurrection_note,
)
from grader._grading import (
    NO_BUILD_SCRIPT,
    NOT_GRADED,
    CaseOutcome,
    GradeReport,
    GradingError,
    NoBuildScriptError,
    StageGrade,
    grade_workspace,
    hidden_cases,
    public_cases,
    require_build_script,
)
from grader._handoff import NOT_ACCEPTED
from grader._run_home import RunHome, grading_uid, pick_uid, stop_processes_of
from grader._run_token import ensure_token
from grader._snapshot import take_snapshot, tree_hash
from grader._store import OutputStore, StoredOutput
from grader._transitions import move_run, move_stage, move_submission
from grader.ledger import (
    NOT_COPIED,
    REFUSED,
    CaseResult,
    IntegrityFinding,
    Ledger,
    LedgerIntegrityError,
    LockedRun,
    ResurrectionEvent,
    Run,
    RunStatus,
    StageOutput,
    StageState,
    StageStateName,
    Submission,
    SubmissionStatus,
    utc_now,
)
from grader.metrics import rewards
from toolchain import (
    SANDBOX_UID,
    EngineUnavailableError,
    RampError,
    WorkspaceError,
    WorkspaceLimitError,
    gc_scratch_dirs,
    grading_toolchain,
    pid_alive,
    ramp_home,
    remove_tree,
)
from toolchain.sandbox import gc_cgroups, gc_containers
from toolchain.workspace import (
    EntryKind,
    UnreadableEntryError,
    WorkerError,
    Workspace,
    WorkspaceTimeoutError,
)

__all__ = [
    "RunRewardsView",
    "RunStatusView",
    "StageMachine",
    "StageRefusedError",
    "StageView",
    "SubmissionOutcome",
    "grader_failure",
    "sample_cases",
    "shown_score",
]

_log = logging.getLogger(__name__)
# Failures on the grader's side that give a stage's attempt back; a later one counts.
_GIVEN_BACK = 2
# What the stage machine answers a submission recorded meanwhile by another grader.
_RECORDED = "this submission was recorded meanwhile by another grader; see status"
# RAMP's installation (its paths are not shown to an agent).
_INSTALL_DIR = Path(__file__).resolve().parents[1]


def grader_failure(stage: Stage) -> str:
    """What the agent is told when grading failed on the grader's side: always the same
    words. The failure's own text (a golden build's error, the reference pipeline's
    output) may name a hidden case or quote its source; it goes to the ledger
    (``submissions.error``), the log and the run's report, for the operator."""
    return (
        f"grading {stage.value} failed on the grader's side (RAMP's own trouble, such as its "
        "reference pipeline or a sandbox; the operator finds the detail in the run's ledger "
        "and report)"
    )


def _workspace_caused(exc: BaseException) -> bool:
    """Whether a snapshot failed because of what the workspace holds (no build.sh, an
    unreadable entry, over its caps): the agent's doing, which the failure taxonomy charges
    to the model. Anything else (a worker that timed out or died, a full disk, the ledger)
    is RAMP's, and never lets an agent pass its own failure off as infrastructure."""
    if isinstance(exc, WorkspaceTimeoutError):
        return False
    return isinstance(exc, UnreadableEntryError | WorkspaceLimitError | NoBuildScriptError)


class StageRefusedError(GradingError):
    """A submission the stage machine does not accept (the message says why)."""


def shown_score(score: float) -> float:
    """A score as the agent sees it: a whole number, rounded down (so a shown 60 passes and
    a shown 59 does not). Its stage program decides every case's score and may spoil its
    outputs by chosen amounts; four decimals of a mean would carry ~19 bits of what it saw
    of the hidden cases per submission, a whole number at most ~6.6. Exact scores stay in
    the ledger and the reports."""
    return float(math.floor(score))


class StageView(BaseModel):
    stage: Stage
    state: str
    attempts_used: int
    attempts_left: int
    chained_score: float | None
    isolated_score: float | None
    passed: bool
    seconds_open: float | None = Field(description="from opening to its final grade")


class RunRewardsView(BaseModel):
    """The paper's metrics over the chained scores (a stage not yet graded counts 0)."""

    tier: int
    mean_reward: float
    pipeline_score: float
    pass_score: float


class RunStatusView(BaseModel):
    run_id: str
    status: str
    workspace: str
    open_stage: Stage | None
    budget_left_s: float | None
    elapsed_s: float | None
    stages: list[StageView]
    rewards: RunRewardsView

    def for_agent(self) -> RunStatusView:
        """This view with the scores an agent is shown (:func:`shown_score`); the rewards
        are computed from those, so they carry nothing the shown scores do not."""
        stages = [
            s.model_copy(
                update={
                    "chained_score": None
                    if s.chained_score is None
                    else shown_score(s.chained_score),
                    "isolated_score": None
                    if s.isolated_score is None
                    else shown_score(s.isolated_score),
                }
            )
            for s in self.stages
        ]
        return self.model_copy(
            update={
                "stages": stages,
                "rewards": _rewards_view([s.chained_score or 0.0 for s in stages]),
            }
        )


class SubmissionOutcome(BaseModel):
    """What a submission returns: nothing of the hidden cases beyond scores and categories.

    The one model the grader hands on for a submission (to ramp_mcp, the harness and the
    CLI); grading's own :class:`~grader._grading.StageGrade` stays inside the grader, and
    the MCP server's wire model is built from this one (its :meth:`for_agent` view).
    """

    run_id: str
    stage: Stage
    submission_id: int
    attempt: int
    chained_score: float
    isolated_score: float
    passed: bool
    resurrected: bool
    attempts_left: int
    next_open: Stage | None
    feedback: list[str]
    integrity_findings: list[str]
    reference_dir: str | None

    def for_agent(self) -> SubmissionOutcome:
        """This outcome with the scores an agent is shown (:func:`shown_score`); the
        feedback is counts by category already, never a hidden case's name or score."""
        return self.model_copy(
            update={
                "chained_score": shown_score(self.chained_score),
                "isolated_score": shown_score(self.isolated_score),
            }
        )


def _rewards_view(scores: Sequence[float]) -> RunRewardsView:
    summary = rewards(list(scores))
    return RunRewardsView(
        tier=summary.tier,
        mean_reward=round(summary.mean_reward, 4),
        pipeline_score=round(summary.pipeline_score, 4),
        pass_score=round(summary.pass_score, 4),
    )


def _category(stage: Stage, outcome: CaseOutcome) -> CaseCategory:
    """What kind of result a hidden case had: what kind of problem, never where or what.

    A scored case carries the category its scorer set. A case with nothing to score has
    the grader's own diagnosis, made by ``grader._grading`` from what the sandbox reported
    (the program timed out or failed, wrote no file, had no input, was not run); it is
    matched only at its start, where nothing the program wrote can be. Never a search of
    the whole text: a scorer's diagnosis quotes the program's output, which would steer it.
    """
    if outcome.score >= 100:
        return CaseCategory.FULL_MARKS
    if outcome.category is not None:
        return outcome.category
    program = f"bin/{stage.value.lower()}"
    text = outcome.diagnosis
    if text == f"{program} failed: timed out":
        return CaseCategory.TIMED_OUT
    if text.startswith(f"{program} failed: "):
        return CaseCategory.PROGRAM_FAILED
    if text.startswith(f"{program} wrote no output file"):
        return CaseCategory.NO_OUTPUT
    if text.startswith("no input: "):
        return CaseCategory.NO_INPUT
    if text == NOT_GRADED:
        return CaseCategory.NOT_GRADED
    return CaseCategory.PARTIAL_CREDIT if outcome.score > 0 else CaseCategory.NO_CREDIT


def _feedback(report: GradeReport) -> list[str]:
    """Counts of cases by category: no hidden case's name, position or content."""
    lines: list[str] = []
    if not report.build_ok:
        lines.append(
            "build.sh failed on the submitted workspace (run it in your sandbox to see why)"
        )
    for grade in report.stages:
        categories: dict[str, int] = {}
        for outcome in grade.chained:
            key = _category(grade.stage, outcome).value
            categories[key] = categories.get(key, 0) + 1
        summary = ", ".join(f"{count} {key}" for key, count in sorted(categories.items()))
        lines.append(f"{grade.stage.value}: {len(grade.chained)} hidden cases: {summary}")
    if report.integrity_findings and report.build_ok:
        lines.append("the stage scores 0: grading raised integrity findings (integrity_findings)")
    return lines


class StageMachine:
    def __init__(
        self,
        ledger: Ledger,
        *,
        cases: Sequence[Case] | None = None,
        jobs: int | None = None,
        pass_threshold: float = PASS_THRESHOLD,
        runs_root: Path | None = None,
        store: OutputStore | None = None,
    ) -> None:
        self.ledger = ledger
        self.cases = tuple(cases) if cases is not None else hidden_cases()
        self.jobs = jobs
        self.pass_threshold = pass_threshold
        self.runs_root = runs_root or ramp_home() / "runs"
        # Where graded stages' outputs are frozen for the next stage (root only).
        self.store = store or OutputStore()

    # -- runs ----------------------------------------------------------------------------

    def create_run(
        self,
        *,
        agent: str = "unknown",
        model: str = "unknown",
        harness: str | None = None,
        sandbox: str = "auto",
        attempts_per_stage: int = 1,
        budget_s: float | None = None,
        seed: int | None = None,
        workspace: Path | None = None,
        sample: int | None = None,
        epoch: str | None = None,
    ) -> Run:
        """A new run with an empty workspace holding the public cases and the contracts.

        ``epoch`` names the hidden cases that grade it (default: ``ramp golden epoch use``'s
        choice, else ``0``, the built-in corpus); the run records it. ``sample`` grades the
        run on a fixed, documented subset of that many of them (:func:`sample_cases`):
        quicker, and comparable only with runs graded on the same sample of the same epoch.
        """
        if attempts_per_stage < 1:
            raise StageRefusedError("attempts per stage must be at least 1")
        epoch = current_epoch() if epoch is None else epoch
        cases = self._epoch_cases(epoch)
        config: dict[str, object] = {"pass_threshold": self.pass_threshold}
        if sample is not None:
            config["cases"] = [c.name for c in sample_cases(cases, sample)]
        run = self.ledger.create_run(
            toolchain_fingerprint=_grading_fingerprint(),
            agent=agent,
            model=model,
            harness=harness,
            sandbox=sandbox,
            golden_key=golden_key(),
            workspace="",
            attempts_per_stage=attempts_per_stage,
            budget_s=budget_s,
            seed=seed,
            config=json.dumps(config),
            epoch=epoch,
        )
        uid = self._allocate_uid(run.id)
        target = workspace or self.runs_root / run.id / "workspace"
        cap = RunHome(workspace=target).create(uid)
        if not cap.enforced or cap.note:
            _log.warning("run %s: workspace cap is %s (%s)", run.id, cap.kind.value, cap.note)
        owner = (uid, uid) if os.geteuid() == 0 else None
        prepare_agent_workspace(target, public_cases(), owner=owner)
        config["workspace_cap"] = cap.model_dump(
            include={"kind", "max_bytes", "max_entries", "note"}
        )
        with self.ledger.locked_run(run.id) as locked:
            locked.run.workspace = str(target)
            locked.run.config = json.dumps(config)
        run.workspace, run.sandbox_uid, run.config = str(target), uid, json.dumps(config)
        ensure_token(run)
        return run

    def _allocate_uid(self, run_id: str) -> int:
        """A fresh uid for the run (gid: the same number), unique in the ledger."""
        for _ in range(20):
            try:
                with self.ledger.locked_run(run_id) as locked:
                    taken = locked.session.exec(
                        select(Run.sandbox_uid).where(Run.sandbox_uid.is_not(None))  # type: ignore[union-attr]
                    ).all()
                    uid = pick_uid({u for u in taken if u is not None})
                    locked.run.sandbox_uid = uid
                return uid
            except LedgerIntegrityError:
                continue  # another run took it at the same moment: pick again
        raise StageRefusedError("no unique uid could be allocated for the run; try again")

    def start(self, run_id: str) -> None:
        """The agent has begun: the run is running and its budget counts from now.

        Idempotent; the MCP server calls it on a run's first tool call, launchers before
        they start the agent. A run nobody started counts its budget from creation.
        """
        with self.ledger.locked_run(run_id) as locked:
            if locked.run.started_at is None:
                locked.run.started_at = utc_now()
            if locked.run.status == RunStatus.CREATED:
                move_run(locked.run, RunStatus.RUNNING)

    def finish(self, run_id: str) -> None:
        """The agent has stopped: the run is finished and its elapsed time ends here."""
        with self.ledger.locked_run(run_id) as locked:
            if locked.run.status != RunStatus.FINISHED:
                move_run(locked.run, RunStatus.FINISHED)

    def status(self, run_id: str) -> RunStatusView:
        """Where the run stands, after :meth:`catch_up` (which writes: see there)."""
        self.catch_up(run_id)
        return self.view(run_id)

    def catch_up(self, run_id: str) -> None:
        """Bring the run up to now; the writes :meth:`status` makes, and all of them.

        When the run's budget is spent and it is not finished: its open stage is
        resurrected (a ``resurrection_events`` row; the stage's chained score 0 if it had
        none) and the run finished, in the ledger. When a stage is open: the public golden
        outputs of the stage before it are put in the run's reference directory, unless
        they are there already (``grader._agent_workspace.reveal_stage_inputs``, with its
        cache in RAMP's home), which repairs a grader that died between closing a stage
        and revealing the next one's inputs. Idempotent.
        """
        self._expire_if_spent(run_id)
        run = self.ledger.get_run(run_id)
        open_stage = _open_stage(self.ledger.stage_states(run_id))
        if open_stage is not None:
            self._reveal(run, open_stage)

    def view(self, run_id: str) -> RunStatusView:
        """Where the run stands, as the ledger has it: reads only (see :meth:`status`)."""
        run = self.ledger.get_run(run_id)
        states = self.ledger.stage_states(run_id)
        open_stage = _open_stage(states)
        started = run.started_at
        ended = run.finished_at or datetime.now(UTC)
        return RunStatusView(
            run_id=run.id,
            status=run.status,
            workspace=run.workspace,
            open_stage=open_stage,
            budget_left_s=self._budget_left(run),
            elapsed_s=None if started is None else round((ended - started).total_seconds(), 3),
            stages=[
                StageView(
                    stage=Stage(s.stage),
                    state=s.state,
                    attempts_used=s.attempts_used,
                    attempts_left=max(0, run.attempts_per_stage - s.attempts_used),
                    chained_score=s.chained_score,
                    isolated_score=s.isolated_score,
                    passed=s.state == StageStateName.PASSED,
                    seconds_open=(
                        round((s.closed_at - s.opened_at).total_seconds(), 3)
                        if s.opened_at is not None and s.closed_at is not None
                        else None
                    ),
                )
                for s in states
            ],
            rewards=_rewards_view([s.chained_score or 0.0 for s in states]),
        )

    @staticmethod
    def _budget_left(run: Run) -> float | None:
        if run.budget_s is None:
            return None
        started = run.started_at or run.created_at
        elapsed = (datetime.now(UTC) - started).total_seconds()
        return max(0.0, run.budget_s - elapsed)

    @staticmethod
    def _reveal(run: Run, opened: Stage) -> None:
        """Give the open stage its public inputs (beside the workspace), unless a reveal
        already did."""
        before = opened.previous
        reference = RunHome(workspace=Path(run.workspace)).reference
        if before is None or not reference.parent.is_dir():
            return
        if (reference / before.value).is_dir():
            return
        built = build_golden(public_cases())
        reveal_stage_inputs(
            reference, opened, built.cases, cache=ramp_home() / "reveal" / built.key
        )

    # -- submissions ---------------------------------------------------------------------

    def submit(self, run_id: str, stage: Stage, *, backend: str | None = None) -> SubmissionOutcome:
        """Claim, snapshot, grade and record one submission of ``stage``.

        When ``stage`` is still marked as being graded by a grader that has died, that
        submission is graded now and its outcome returned: the agent gets the result of
        what it submitted before the crash, not a refusal.
        """
        states = {s.stage: s.state for s in self.ledger.stage_states(run_id)}
        if states.get(stage.value) == StageStateName.GRADING:
            for outcome in self.recover(backend=backend, run_id=run_id, ours_alive=True):
                if outcome.stage is stage:
                    return outcome
        # After a reboot the workspace is not mounted until someone mounts it: a snapshot of
        # the empty mount point would grade nothing.
        run = self.ledger.get_run(run_id)
        RunHome(workspace=Path(run.workspace)).open()
        # The workspace is read through a confined worker (as the run's uid, seeing nothing
        # but the workspace): whether it has a build.sh, then the snapshot.
        uid = run.sandbox_uid or SANDBOX_UID
        with Workspace(Path(run.workspace), uid=uid, gid=uid, read_only=True, workers=1) as files:
            submission_id, snapshot = self._claim(run_id, stage, files)
        return self._grade_claimed(run_id, stage, submission_id, snapshot, backend)

    def _expire_if_spent(self, run_id: str) -> None:
        """When the run's budget is spent, its open stage's time has run out: resurrect it."""
        with self.ledger.locked_run(run_id) as locked:
            run = locked.run
            budget = self._budget_left(run)
            if budget is None or budget > 0 or run.status == RunStatus.FINISHED:
                return
            for state in locked.stage_states():
                if state.state == StageStateName.OPEN:
                    move_stage(state, StageStateName.RESURRECTED)
                    state.chained_score = state.chained_score or 0.0
                    locked.session.add(
                        ResurrectionEvent(
                            run_id=run_id,
                            stage=state.stage,
                            reason=f"the run's wall-clock budget of {run.budget_s:g} s ran out",
                        )
                    )
            move_run(run, RunStatus.FINISHED)

    def _claim(self, run_id: str, stage: Stage, files: Workspace) -> tuple[int, Path]:
        """Claim ``stage`` and copy the workspace for it: the submission and its snapshot."""
        submission_id, snapshot, uid = self._take_stage(run_id, stage, files)
        self._copy_claimed(run_id, stage, submission_id, snapshot, files, uid)
        return submission_id, snapshot

    def _take_stage(self, run_id: str, stage: Stage, files: Workspace) -> tuple[int, Path, int]:
        """In one locked transaction: refuse, or mark ``stage`` "grading" with a new
        submission (its id, where its snapshot goes, the run's uid).

        Whether the workspace has a build.sh is asked here, of the confined worker (a few
        milliseconds): without one the submission is refused before anything is claimed or
        copied, and the refusal is recorded (no attempt used) for the run's diagnosis.
        """
        self._expire_if_spent(run_id)
        with self.ledger.locked_run(run_id) as locked:
            state = self._claimable(locked, stage)
            if _has_build_script(files):
                return self._new_submission(locked, state)
            now = utc_now()  # one instant: made and ended at once (never ended before made)
            refused = Submission(
                run_id=run_id,
                stage=stage.value,
                attempt=state.attempts_used + 1,
                status=SubmissionStatus.ERROR.value,
                error=REFUSED + NO_BUILD_SCRIPT,
                created_at=now,
                finished_at=now,
            )
            locked.session.add(refused)
        raise StageRefusedError(f"{stage.value} was not submitted: {NO_BUILD_SCRIPT}")

    def _claimable(self, locked: LockedRun, stage: Stage) -> StageState:
        """``stage``'s state if a submission of it may be taken now; else the refusal."""
        run = locked.run
        state = locked.stage(stage.value)
        if state.state == StageStateName.GRADING:
            raise StageRefusedError(
                f"{stage.value} is being graded right now; wait for that result "
                "(a run's submissions are graded one at a time)"
            )
        if run.status == RunStatus.FINISHED and self._budget_left(run) == 0:
            raise StageRefusedError(
                f"the run's wall-clock budget of {run.budget_s:g} s is spent; the stage that "
                "was open has been resurrected and no more submissions are taken"
            )
        if state.state != StageStateName.OPEN:
            open_now = [s.stage for s in locked.stage_states() if s.state == StageStateName.OPEN]
            hint = f"the open stage is {open_now[0]}" if open_now else "no stage is open"
            raise StageRefusedError(
                f"{stage.value} is {state.state}, not open: stages are submitted in order "
                f"T0..T5 and each is graded once; {hint}"
            )
        if state.attempts_used >= run.attempts_per_stage:
            raise StageRefusedError(f"{stage.value} has no attempts left")
        return state

    @staticmethod
    def _new_submission(locked: LockedRun, state: StageState) -> tuple[int, Path, int]:
        run = locked.run
        if run.started_at is None:
            run.started_at = utc_now()
            if run.status != RunStatus.RUNNING:
                move_run(run, RunStatus.RUNNING)
        state.attempts_used += 1
        move_stage(state, StageStateName.GRADING)
        submission = Submission(run_id=run.id, stage=state.stage, attempt=state.attempts_used)
        locked.session.add(submission)
        locked.session.flush()
        assert submission.id is not None
        # In the run's home (whoever created the run, with whichever runs root).
        home = RunHome(workspace=Path(run.workspace)).home
        snapshot = home / "submissions" / str(submission.id) / "snapshot"
        submission.snapshot = str(snapshot)
        return submission.id, snapshot, run.sandbox_uid or SANDBOX_UID

    def _copy_claimed(
        self,
        run_id: str,
        stage: Stage,
        submission_id: int,
        snapshot: Path,
        files: Workspace,
        uid: int,
    ) -> None:
        """Take the claimed submission's snapshot; any failure is a refusal."""
        # The snapshot is taken once the claim is committed: what is graded is what was
        # there when the agent submitted, whatever it does next.
        remove_tree(snapshot.parent)
        try:
            snapshot.parent.mkdir(parents=True, exist_ok=True)
            snapshot_hash = take_snapshot(files, snapshot, uid=uid)
            # What is graded is the copy: checked again there (build.sh may have gone or
            # become a link since the first look), with lstat, by root, on a private tree.
            require_build_script(snapshot)
            with self.ledger.session() as session:
                row = session.get(Submission, submission_id)
                assert row is not None
                row.snapshot_hash = snapshot_hash
        except Exception as exc:
            # Anything at all (no build.sh, a workspace over its caps, a full disk, the ledger
            # gone) is a refusal: nothing was graded, the attempt is given back and nothing
            # of the copy is kept (a copy left per refusal filled the disk).
            remove_tree(snapshot.parent)
            why = self._for_agent(
                str(exc)
                if isinstance(exc, RampError)
                else "the workspace could not be copied, probably because it changed while it "
                f"was being copied ({type(exc).__name__}); submit again"
            )
            prefix = REFUSED if _workspace_caused(exc) else NOT_COPIED
            self._abandon(run_id, stage, submission_id, f"{prefix}{why} ({exc!r})"[:2000])
            raise StageRefusedError(f"{stage.value} was not submitted: {why}") from exc

    def _grade_claimed(
        self, run_id: str, stage: Stage, submission_id: int, snapshot: Path, backend: str | None
    ) -> SubmissionOutcome:
        try:
            run = self.ledger.get_run(run_id)
            # Nothing of the agent's runs while its programs are graded (a command of any
            # server of the run: see ramp_mcp's grading gate), and the programs run as the
            # run's grading uid: no per-uid counter of the kernel links the two.
            uid = SANDBOX_UID
            if run.sandbox_uid is not None:
                stop_processes_of(run.sandbox_uid)
                uid = grading_uid(run.sandbox_uid)
            resurrected = [
                Stage(s.stage)
                for s in self.ledger.stage_states(run_id)
                if s.state == StageStateName.RESURRECTED
            ]
            report = grade_workspace(
                snapshot,
                [stage],
                cases=self._cases_of(run),
                resurrected=resurrected,
                auto_resurrect=False,
                backend=backend or run.sandbox,
                jobs=self.jobs,
                pass_threshold=self.pass_threshold,
                uid=uid,
                upstream=self._upstream(run_id, stage),
                store=self.store,
                private=True,
            )
            return self._record(run_id, stage, submission_id, report)
        except Exception as exc:  # noqa: BLE001 - every failure must end the submission
            # Any failure at all (the judge's, the sandbox's, a file the grader could not
            # read, the ledger's) ends the submission; left "grading" under a live server's
            # pid, the stage would stay stuck.
            return self._failed(run_id, stage, submission_id, snapshot, exc)

    def _failed(
        self, run_id: str, stage: Stage, submission_id: int, snapshot: Path, exc: Exception
    ) -> SubmissionOutcome:
        """A grading that failed after its claim: the attempt is given back, at most
        ``_GIVEN_BACK`` times per stage; past that it counts, with a score of 0.

        Whether a failure is the grader's or was provoked by the agent's tree cannot be
        told apart in general (what an agent can do to grading is meant to end in a graded
        outcome: caps stop its writes, any depth is walked, sparse files cost nothing). So
        each failure is given back a few times, for a grader in trouble, but not without
        end: grading runs the agent's programs on the hidden cases, and unlimited failed
        gradings would be unlimited re-runs (each one leaking whether it failed).
        """
        error = f"{exc!r}"[:4000]
        _log.warning("run %s: grading %s failed: %s", run_id, stage.value, error)
        if self._given_back(run_id, stage) >= _GIVEN_BACK:
            why = (
                f"{grader_failure(stage)} after {_GIVEN_BACK} earlier failures were given back; "
                "this attempt counts, with a score of 0"
            )
            try:
                return self._record(
                    run_id,
                    stage,
                    submission_id,
                    _nothing_graded(stage),
                    failure=why,
                    detail=error,
                )
            except StageRefusedError:
                pass  # recorded by another grader meanwhile: its outcome stands
        elif self._abandon(run_id, stage, submission_id, error):
            remove_tree(snapshot.parent)
        if isinstance(exc, StageRefusedError) and str(exc) == _RECORDED:
            raise StageRefusedError(f"{stage.value}: {_RECORDED}") from exc
        raise GradingError(
            f"{grader_failure(stage)}; the attempt was given back: submit again"
        ) from exc

    def _given_back(self, run_id: str, stage: Stage) -> int:
        """How many submissions of ``stage`` failed on the grader's side and were given
        back (refusals before grading, which cost nothing, do not count)."""
        with self.ledger.session(write=False) as session:
            errors = session.exec(
                select(Submission.error).where(
                    Submission.run_id == run_id,
                    Submission.stage == stage.value,
                    Submission.status == SubmissionStatus.ERROR,
                )
            ).all()
        return sum(1 for e in errors if not (e or "").startswith((REFUSED, NOT_COPIED)))

    def _for_agent(self, text: str) -> str:
        """``text`` without the host's paths: an error may name a directory of RAMP's home,
        of the runs or of its installation; the agent is told what happened, not where."""
        for root, label in (
            (self.runs_root, "<runs>"),
            (ramp_home(), "<ramp home>"),
            (_INSTALL_DIR, "<ramp>"),
        ):
            text = text.replace(str(root), label)
        return text

    def _upstream(self, run_id: str, stage: Stage) -> dict[str, Path | str] | None:
        """The chained inputs of ``stage``: the outputs frozen when the submission that
        passed the stage before was graded (read back from the store and checked).

        None when the stage before was resurrected (grading then feeds golden inputs) or
        for T0; also for a run whose stage before passed before outputs were frozen (ledger
        revision 0006): that one grading re-runs the earlier programs, as RAMP did then.
        """
        if stage.previous is None:
            return None
        before = stage.previous.value
        with self.ledger.session(write=False) as session:
            closing = session.exec(
                select(Submission)
                .where(Submission.run_id == run_id, Submission.stage == before)
                .where(Submission.status == SubmissionStatus.DONE)
                .where(Submission.passed == True)  # noqa: E712
                .order_by(col(Submission.id).desc())
            ).first()
            if closing is None:
                return None
            rows = session.exec(
                select(StageOutput).where(StageOutput.submission_id == closing.id)
            ).all()
            frozen = [(r.case, r.sha256, r.size) for r in rows]
        if not frozen:
            _log.warning("run %s: %s passed before outputs were frozen", run_id, before)
            return None
        return {
            case: (
                self.store.fetch(StoredOutput(sha256=sha, size=size))
                if sha is not None and size is not None
                else NOT_ACCEPTED
            )
            for case, sha, size in frozen
        }

    def _epoch_cases(self, epoch: str) -> tuple[Case, ...]:
        """The hidden cases of ``epoch``: this machine's own set for ``0`` (the built-in
        corpus, or the cases it was given), else the generated epoch's."""
        return self.cases if epoch == BUILTIN_EPOCH else epoch_cases(epoch)

    def _cases_of(self, run: Run) -> tuple[Case, ...]:
        """What grades ``run``: its epoch's hidden cases, or the sample of them it chose."""
        try:
            cases = self._epoch_cases(run.epoch)
        except EpochError as exc:
            raise GradingError(f"run {run.id} is graded on epoch {run.epoch}: {exc}") from exc
        chosen = json.loads(run.config or "{}").get("cases")
        if chosen is None:
            return cases
        by_name = {c.name: c for c in cases}
        missing = [name for name in chosen if name not in by_name]
        if missing:
            raise GradingError(
                f"run {run.id} is graded on cases this grader does not have: {missing[:3]}; "
                "grade it with the corpus it was created with"
            )
        return tuple(by_name[name] for name in chosen)

    def _abandon(self, run_id: str, stage: Stage, submission_id: int, error: str) -> bool:
        """A refusal or a failure on the grader's side: the attempt is given back, the stage
        reopened and the reason recorded on the submission; False when another grader
        recorded it meanwhile (then nothing is changed)."""
        with self.ledger.locked_run(run_id) as locked:
            submission = locked.session.get(Submission, submission_id)
            assert submission is not None
            if submission.status != SubmissionStatus.GRADING:
                return False
            move_submission(submission, SubmissionStatus.ERROR)
            submission.error = error
            state = locked.stage(stage.value)
            move_stage(state, StageStateName.OPEN)
            state.attempts_used = max(0, state.attempts_used - 1)
        return True

    def _record(
        self,
        run_id: str,
        stage: Stage,
        submission_id: int,
        report: GradeReport,
        *,
        failure: str | None = None,
        detail: str | None = None,
    ) -> SubmissionOutcome:
        """Write a grade (``failure``: what the agent is told when grading failed, for an
        attempt that counts although nothing was graded; ``detail``, the submission's
        error, says what failed, for the operator)."""
        grade = report.stages[-1]
        with self.ledger.locked_run(run_id) as locked:
            run = locked.run
            submission = locked.session.get(Submission, submission_id)
            assert submission is not None
            if submission.status != SubmissionStatus.GRADING:
                raise StageRefusedError(_RECORDED)
            for mode, outcomes in (("chained", grade.chained), ("isolated", grade.isolated)):
                locked.session.add_all(
                    CaseResult(
                        submission_id=submission_id,
                        case=o.case,
                        mode=mode,
                        score=o.score,
                        diagnosis=o.diagnosis,
                        details=json.dumps(o.details),
                    )
                    for o in outcomes
                )
            move_submission(submission, SubmissionStatus.DONE)
            submission.error = detail or failure
            submission.toolchain_fingerprint = _grading_fingerprint()
            submission.chained_score = grade.chained_score
            submission.isolated_score = grade.isolated_score
            submission.passed = grade.passed
            state: StageState = locked.stage(stage.value)
            state.chained_score, state.isolated_score = grade.chained_score, grade.isolated_score
            attempts_left = run.attempts_per_stage - state.attempts_used
            resurrected = False
            reference: str | None = None
            if grade.passed:
                move_stage(state, StageStateName.PASSED)
            elif attempts_left > 0:
                move_stage(state, StageStateName.OPEN)
            else:
                resurrected = True
                move_stage(state, StageStateName.RESURRECTED)
                home = RunHome(workspace=Path(run.workspace))
                note = write_resurrection_note(
                    home.reference, stage, shown_score(grade.chained_score)
                )
                reference = f"{REFERENCE_MOUNT}/{stage.value}"
                locked.session.add(
                    ResurrectionEvent(
                        run_id=run_id,
                        stage=stage.value,
                        reason=f"chained score {grade.chained_score:.2f} below {self.pass_threshold:g} "
                        "with no attempts left",
                        artifacts_path=str(note.parent),
                    )
                )
            next_open: Stage | None = None
            if state.state in (StageStateName.PASSED, StageStateName.RESURRECTED):
                if stage.next is None:
                    move_run(run, RunStatus.FINISHED)
                else:
                    move_stage(locked.stage(stage.next.value), StageStateName.OPEN)
                    next_open = stage.next
            locked.session.add_all(_evidence(run_id, submission_id, stage, report))
            if grade.passed:
                locked.session.add_all(_frozen_rows(submission_id, report, stage))
        if next_open is not None:
            # After the commit: a crash here is repaired by the next status().
            self._reveal(run, next_open)
        return SubmissionOutcome(
            run_id=run_id,
            stage=stage,
            submission_id=submission_id,
            attempt=state.attempts_used,
            chained_score=grade.chained_score,
            isolated_score=grade.isolated_score,
            passed=grade.passed,
            resurrected=resurrected,
            attempts_left=max(0, attempts_left),
            next_open=next_open,
            feedback=[failure] if failure is not None else _feedback(report),
            integrity_findings=list(dict.fromkeys(f.shown() for f in report.integrity_findings)),
            reference_dir=reference,
        )

    # -- crash recovery ------------------------------------------------------------------

    def recover(
        self, *, backend: str | None = None, run_id: str | None = None, ours_alive: bool = False
    ) -> list[SubmissionOutcome]:
        """Re-grade submissions whose grader died mid-grade (on this host; of ``run_id``
        only, if given), after removing the sandboxes (containers, control groups) that
        dead graders left behind.

        A submission recorded under this process's own pid counts as dead (a recover run at
        start-up may have inherited a dead grader's pid) unless ``ours_alive``: then another
        thread of this process may be grading it right now.
        """
        host = socket.gethostname()
        _collect_sandboxes()
        query = select(Submission).where(Submission.status == SubmissionStatus.GRADING)
        if run_id is not None:
            query = query.where(Submission.run_id == run_id)
        with self.ledger.session(write=False) as session:
            stuck = [
                (s.id, s.run_id, s.stage, s.snapshot, s.snapshot_hash, s.grader_pid)
                for s in session.exec(query).all()
                if s.grader_host in (None, host)
            ]
        outcomes = []
        for submission_id, stuck_run, stage, snapshot, snapshot_hash, pid in stuck:
            assert submission_id is not None
            if pid_alive(pid) and (ours_alive or pid != os.getpid()):
                continue
            with self.ledger.locked_run(stuck_run) as locked:
                row = locked.session.get(Submission, submission_id)
                assert row is not None
                if row.status != SubmissionStatus.GRADING:
                    continue
                row.grader_pid = os.getpid()
                row.error = f"re-graded after grader pid {pid} died"
            # A grader that died while copying leaves a partial snapshot and no hash: grading
            # that would grade something the agent never submitted.
            if (
                snapshot is None
                or snapshot_hash is None
                or not Path(snapshot).is_dir()
                or tree_hash(Path(snapshot)) != snapshot_hash
            ):
                if (
                    self._abandon(
                        stuck_run, Stage(stage), submission_id, "snapshot lost; submit again"
                    )
                    and snapshot is not None
                ):
                    remove_tree(Path(snapshot).parent)
                continue
            outcomes.append(
                self._grade_claimed(stuck_run, Stage(stage), submission_id, Path(snapshot), backend)
            )
        return outcomes


def _has_build_script(files: Workspace) -> bool:
    """Whether the workspace has a regular file build.sh at its root. Asked of the confined
    worker, which sees nothing but the workspace: a link to a host path is answered as a
    missing file, whether that path exists or not."""
    try:
        entry = files.stat("build.sh")
    except (WorkerError, WorkspaceLimitError):
        raise  # the worker's trouble (or its deadline), not an answer
    except WorkspaceError:
        return False  # missing, or a link that leads out of the workspace
    return entry.kind is EntryKind.FILE


def _nothing_graded(stage: Stage) -> GradeReport:
    """The report of an attempt that counts although grading failed: 0, no case."""
    grade = StageGrade(
        stage=stage,
        chained_score=0.0,
        isolated_score=0.0,
        passed=False,
        propagation_loss=0.0,
        chained=[],
        isolated=[],
        duration_s=0.0,
    )
    return GradeReport(
        stages=[grade],
        integrity_findings=[],
        build_ok=True,
        build_log_tail="",
        cases=0,
        duration_s=0.0,
    )


def _evidence(
    run_id: str, submission_id: int, stage: Stage, report: GradeReport
) -> list[IntegrityFinding]:
    """The report's findings as ledger rows: category, stage and the full evidence."""
    return [
        IntegrityFinding(
            run_id=run_id,
            submission_id=submission_id,
            stage=(finding.stage or stage).value,
            kind=finding.kind.value,
            detail=finding.detail,
            at=utc_now(),
        )
        for finding in report.integrity_findings
    ]


def _frozen_rows(submission_id: int, report: GradeReport, stage: Stage) -> list[StageOutput]:
    """One row per case for the outputs frozen when ``stage`` passed (none for T5)."""
    return [
        StageOutput(
            submission_id=submission_id,
            case=case,
            sha256=None if stored is None else stored.sha256,
            size=None if stored is None else stored.size,
        )
        for case, stored in sorted(report.outputs.get(stage, {}).items())
    ]


def sample_cases(cases: Sequence[Case], size: int) -> tuple[Case, ...]:
    """A fixed subset of ``size`` cases, taken round-robin across the case kinds.

    Within each kind cases are ordered by the SHA-256 of their name (the order does not
    depend on the corpus listing), so every kind appears once ``size`` reaches the number
    of kinds, and T4 (graded on performance cases) always has some.
    """
    if size < 1:
        raise StageRefusedError("a case sample needs at least 1 case")
    by_kind: dict[str, list[Case]] = {}
    for case in cases:
        by_kind.setdefault(case.kind.value, []).append(case)
    queues = [
        sorted(group, key=lambda c: hashlib.sha256(c.name.encode()).hexdigest())
        for _, group in sorted(by_kind.items())
    ]
    chosen: list[Case] = []
    while len(chosen) < min(size, len(cases)):
        for queue in queues:
            if queue and len(chosen) < size:
                chosen.append(queue.pop(0))
    return tuple(sorted(chosen, key=lambda c: c.name))


def _collect_sandboxes() -> None:
    """What dead graders left: control groups, containers, and scratch directories with
    the capped file systems mounted in them."""
    gc_cgroups()
    gc_scratch_dirs()
    try:
        gc_containers()
    except EngineUnavailableError:
        pass  # no engine: no containers
    except RampError as exc:
        _log.warning("could not remove the containers of dead graders: %s", exc)


def _grading_fingerprint() -> str | None:
    """The grading toolchain's fingerprint, or None where no images are built (local)."""
    try:
        return grading_toolchain().fingerprint
    except RampError:
        return None


def _open_stage(states: Sequence[StageState]) -> Stage | None:
    """The run's open stage (at most one is), if any."""
    return next((Stage(s.stage) for s in states if s.state == StageStateName.OPEN), None)
