"""One attempt at one trial: a ``ramp run --agent`` through the same Python API
(:func:`ramp_mcp.agents._session.run_agent`), and how it ended.

:func:`run_attempt` is what an executor runs, anywhere RAMP is installed: it takes and
returns plain pydantic models, opens the ledger by URL and never raises (an exception is the
infrastructure's failure, reported as such). Recording the outcome is the driver's job.
"""

from __future__ import annotations

import logging
import re
import socket
import time
import uuid
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from grader.ledger import CampaignAttempt, CampaignTrial, Ledger
from grader.taxonomy import diagnose_run
from ramp_mcp.agents._session import AgentRunOptions, AgentRunResult, run_agent
from ramp_mcp.campaign._agent_call import agent_command
from ramp_mcp.campaign._scripted import SCRIPTED_ENTRY
from ramp_mcp.campaign._spec import DEFAULT_MODEL, AgentSpec, CampaignSpec
from ramp_mcp.harness import Ramp
from toolchain import ramp_home

__all__ = ["AttemptResult", "AttemptTask", "Ended", "agent_argument", "run_attempt"]

_log = logging.getLogger(__name__)
# run_agent says "run <id>: workspace ..." as soon as the run exists: an attempt that fails
# after that still names its run.
_RUN_SAID = re.compile(r"^run (r-[0-9a-f]+):")


class AttemptTask(BaseModel):
    """Everything one attempt needs, and nothing that does not cross a process boundary."""

    model_config = ConfigDict(frozen=True)

    campaign: str
    trial_id: int
    attempt_id: int
    attempt: int
    agent: AgentSpec
    model: str
    index: int
    budget_s: float | None
    attempts_per_stage: int
    sample: int | None
    epoch: str = "0"
    seed: int | None
    sandbox: Literal["auto", "docker", "bwrap"]
    ledger_url: str = Field(repr=False)

    @classmethod
    def of(
        cls,
        spec: CampaignSpec,
        *,
        trial: CampaignTrial,
        attempt: CampaignAttempt,
        ledger_url: str,
    ) -> AttemptTask:
        """The task of ``attempt`` (just claimed) at ``trial`` of campaign ``spec``."""
        assert trial.id is not None and attempt.id is not None  # both are stored rows
        return cls(
            campaign=spec.name,
            trial_id=trial.id,
            attempt_id=attempt.id,
            attempt=attempt.attempt,
            agent=spec.agent(trial.agent),
            model=trial.model,
            index=trial.index,
            budget_s=spec.budget_s,
            attempts_per_stage=spec.attempts_per_stage,
            sample=spec.sample,
            epoch=spec.epoch,
            seed=spec.seed,
            sandbox=spec.sandbox,
            ledger_url=ledger_url,
        )


Ended = Literal["ok", "charged", "infrastructure"]


class AttemptResult(BaseModel):
    """How an attempt ended: ``ok`` (every stage graded), ``charged`` (it stopped on
    something the failure taxonomy charges to the model) or ``infrastructure``."""

    trial_id: int
    attempt_id: int
    run_id: str | None
    outcome: Ended
    error: str | None = None
    node: str
    duration_s: float
    artifacts: str | None = Field(
        default=None,
        description="where the run's agent logs, transcripts and report are on the caller's "
        "machine (the run's home; a Ray task's come back under campaigns/NAME/runs/RUN)",
    )


def agent_argument(campaign: str, agent: AgentSpec) -> str:
    """What ``ramp run --agent`` gets for ``agent``: a launcher's name, a command line, or
    for a Python entry point a small program named after the agent (so the ledger records
    the agent's name) that calls it."""
    if agent.kind in ("claude-code", "codex"):
        return agent.kind
    if agent.kind == "command":
        return agent.command
    if agent.kind == "python":
        entry, options = agent.entry, agent.options
    else:
        entry = SCRIPTED_ENTRY
        options = agent.model_dump(mode="json", include={"break_stage", "degrade_stage"})
    program = ramp_home() / "campaigns" / campaign / "agents" / agent.name
    program.parent.mkdir(parents=True, exist_ok=True)
    text = f"#!/bin/sh\nexec {agent_command(entry, options)}\n"
    # Written afresh by every attempt (threads and nodes at once): each through its own file.
    temporary = program.with_name(f".{agent.name}.{uuid.uuid4().hex}.part")
    temporary.write_text(text, encoding="utf-8")
    temporary.chmod(0o755)
    temporary.replace(program)
    return str(program)


def _options(task: AttemptTask) -> AgentRunOptions:
    agent = task.agent
    return AgentRunOptions(
        agent=agent_argument(task.campaign, agent),
        model=None if task.model == DEFAULT_MODEL else task.model,
        budget_s=task.budget_s,
        sandbox=task.sandbox,
        attempts_per_stage=task.attempts_per_stage,
        sample=task.sample,
        epoch=task.epoch,
        seed=task.seed,
        transport=agent.transport,
        extra_args=list(getattr(agent, "extra_args", [])),
    )


def _classify(ledger: Ledger, result: AgentRunResult) -> tuple[Ended, str | None]:
    """The failure taxonomy's word on the run: no hard stop is ``ok``; a hard stop charged
    to the model is ``charged``; any other (infrastructure) is retried."""
    if result.ended.interrupted:
        return "infrastructure", "the agent was interrupted"
    stop = diagnose_run(ledger, result.run_id).hard_stop
    if stop is None:
        return "ok", None
    if stop.charged_to_model:
        return "charged", None
    return "infrastructure", f"{stop.rule} {stop.precise or stop.category}: " + "; ".join(
        stop.evidence
    )


def run_attempt(task: AttemptTask) -> AttemptResult:
    """Run one attempt; never raises."""
    started, node = time.monotonic(), socket.gethostname()
    said: list[str] = []

    def say(text: str) -> None:
        said.append(text)
        _log.info("%s/%s/%s#%d: %s", task.campaign, task.agent.name, task.model, task.index, text)

    outcome: Ended
    error: str | None
    try:
        with Ramp(task.ledger_url) as ramp:
            result = run_agent(_options(task), ramp, say=say)
            outcome, error = _classify(ramp.ledger, result)
        run_id: str | None = result.run_id
        artifacts: str | None = str(Path(result.agent_dir).parent)
    except Exception as exc:  # noqa: BLE001 - the launcher, engine or ledger failed: not the model
        outcome, error = "infrastructure", f"{type(exc).__name__}: {exc}"
        run_id = next((m.group(1) for t in said if (m := _RUN_SAID.match(t))), None)
        artifacts = None
    return AttemptResult(
        trial_id=task.trial_id,
        attempt_id=task.attempt_id,
        run_id=run_id,
        outcome=outcome,
        error=error,
        node=node,
        duration_s=round(time.monotonic() - started, 3),
        artifacts=artifacts,
    )
