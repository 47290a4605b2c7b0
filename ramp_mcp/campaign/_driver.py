"""The campaign driver: open (or resume) the campaign in the ledger, keep the executor's
slots filled with claimed trials, record every attempt as it ends, retry the ones whose
infrastructure failed, until no trial is queued or running.

Resuming is the same call: finished trials stay, trials whose driver is gone go back in the
queue (their open attempts ``abandoned``), and a trial's counted run is set once by the
ledger (``Ledger.finish_attempt``), so nothing is lost or counted twice.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Callable

from golden import EpochError, epoch_cases
from grader.ledger import Ledger, TrialKey, TrialState, utc_now
from grader.report import printable
from ramp_mcp.agents import AgentError, launcher_for
from ramp_mcp.campaign._errors import CampaignError
from ramp_mcp.campaign._executor import Executor, LocalExecutor, local_slots
from ramp_mcp.campaign._ray import RayExecutor
from ramp_mcp.campaign._spec import CampaignSpec
from ramp_mcp.campaign._status import CampaignStatus, campaign_status
from ramp_mcp.campaign._trial import AttemptResult, AttemptTask
from toolchain import pid_alive

__all__ = ["driver_alive", "driver_id", "run_campaign"]

_log = logging.getLogger(__name__)
_POLL_S = 1.0


def driver_id() -> str:
    """``host:pid`` of this driver, as trials it claims record it."""
    return f"{socket.gethostname()}:{os.getpid()}"


def driver_alive(claimed_by: str) -> bool:
    """Whether the driver ``host:pid`` still runs: a driver on this host is asked by pid;
    one on another host is taken as alive (one driver per campaign at a time is the rule;
    a trial claimed elsewhere is left to that driver)."""
    host, _, pid = claimed_by.rpartition(":")
    if host != socket.gethostname():
        return True
    return pid.isdigit() and pid_alive(int(pid))


def _check_agents(spec: CampaignSpec) -> None:
    """Every agent program is found before any trial starts."""
    for agent in spec.agents:
        if agent.kind not in ("claude-code", "codex", "command"):
            continue
        target = agent.kind if agent.kind != "command" else agent.command
        try:
            launcher_for(target).locate()
        except AgentError as exc:
            raise CampaignError(f"agent {agent.name!r} of campaign {spec.name!r}: {exc}") from exc


def _check_epoch(spec: CampaignSpec) -> None:
    """The campaign's epoch is on this machine before any trial starts (on Ray, each node
    needs it too: made there from the same seed, it is the same bytes)."""
    try:
        epoch_cases(spec.epoch)
    except EpochError as exc:
        raise CampaignError(f"campaign {spec.name!r} names epoch {spec.epoch}: {exc}") from exc


def _trial_keys(spec: CampaignSpec) -> list[TrialKey]:
    return [
        TrialKey(agent.name, model, index)
        for agent in spec.agents
        for model in spec.models_of(agent)
        for index in range(spec.trials)
    ]


def _executor_for(spec: CampaignSpec, ledger_url: str, say: Callable[[str], None]) -> Executor:
    if spec.executor.kind == "ray":
        if ledger_url.startswith("sqlite"):
            raise CampaignError(
                f"campaign {spec.name!r} runs on Ray, whose nodes all write to the ledger: "
                "give one they all reach, a PostgreSQL URL (--ledger "
                "postgresql+psycopg://USER@HOST/DB, or ledger = ... in the file)"
            )
        address = spec.executor.address or "auto"
        say(f"campaign {spec.name}: trials are Ray tasks on the cluster at {address}")
        return RayExecutor(address, spec.concurrency)
    slots, clamped = local_slots(spec.concurrency)
    if clamped:
        say(clamped)
    return LocalExecutor(slots)


class _Driver:
    """One pass of the campaign through an executor (the loop of :func:`run_campaign`)."""

    def __init__(self, ledger: Ledger, spec: CampaignSpec, executor: Executor, url: str) -> None:
        self.ledger, self.spec, self.executor, self.url = ledger, spec, executor, url
        self.me = driver_id()
        self.in_flight: dict[int, AttemptTask] = {}

    def fill(self) -> None:
        """Claim queued trials and submit them while slots are free."""
        free = self.executor.slots - len(self.in_flight)
        if free <= 0:
            return
        for trial in self.ledger.campaign_trials(self.spec.name):
            if free == 0:
                break
            if trial.state != TrialState.QUEUED.value or trial.id is None:
                continue
            attempt = self.ledger.claim_trial(trial.id, driver=self.me, node=socket.gethostname())
            if attempt is None or attempt.id is None:
                continue  # another driver took it
            task = AttemptTask.of(self.spec, trial=trial, attempt=attempt, ledger_url=self.url)
            self.executor.submit(task)
            self.in_flight[trial.id] = task
            free -= 1

    def record(self, result: AttemptResult) -> None:
        """Record how an attempt ended; retry an infrastructure failure within the limit."""
        self.in_flight.pop(result.trial_id, None)
        failures = sum(
            a.trial_id == result.trial_id and a.outcome == "infrastructure"
            for a in self.ledger.campaign_attempts(self.spec.name)
        )
        retry = result.outcome == "infrastructure" and failures < self.spec.infra_retries
        self.ledger.finish_attempt(
            result.attempt_id,
            outcome=result.outcome,
            run_id=result.run_id,
            error=result.error,
            retry=retry,
            node=result.node,
        )
        if result.outcome == "infrastructure":
            _log.warning(
                "trial %d attempt %d: infrastructure failed (%s)%s",
                result.trial_id,
                result.attempt_id,
                printable(result.error or "no error text"),
                "; retrying" if retry else "; no retries left",
            )


def run_campaign(
    spec: CampaignSpec,
    *,
    ledger_url: str,
    restart: bool = False,
    executor: Executor | None = None,
    on_progress: Callable[[CampaignStatus], None] | None = None,
    say: Callable[[str], None] = _log.info,
) -> CampaignStatus:
    """Run (or resume) campaign ``spec`` on the ledger at ``ledger_url`` until every trial
    is graded or failed; returns where it stands."""
    _check_agents(spec)
    _check_epoch(spec)
    executor = executor or _executor_for(spec, ledger_url, say)
    progress = on_progress or (lambda status: None)
    try:
        with Ledger.open(ledger_url) as ledger:
            _open(ledger, spec, restart, say)
            started = utc_now()
            driver = _Driver(ledger, spec, executor, ledger_url)
            driver.fill()
            while driver.in_flight:
                for result in executor.finished(_POLL_S):
                    driver.record(result)
                driver.fill()
                progress(campaign_status(ledger, spec.name, since=started, slots=executor.slots))
            status = campaign_status(ledger, spec.name, since=started, slots=executor.slots)
    except BaseException:
        executor.cancel()
        raise
    finally:
        executor.close()
    progress(status)
    return status


def _open(ledger: Ledger, spec: CampaignSpec, restart: bool, say: Callable[[str], None]) -> None:
    """Make or resume the campaign; queue again the trials of drivers that are gone."""
    opened = ledger.open_campaign(
        spec.name,
        spec=json.dumps(spec.model_dump(mode="json"), sort_keys=True),
        spec_hash=spec.spec_hash(),
        trials=_trial_keys(spec),
        restart=restart,
    )
    if opened.restarted:
        say(f"campaign {spec.name}: restarted from a changed file")
    elif not opened.created:
        say(f"campaign {spec.name}: resuming")
    released = ledger.release_trials(spec.name, driver_alive=driver_alive)
    if released:
        say(f"{released} trial(s) whose driver had gone are queued again")
