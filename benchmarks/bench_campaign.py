"""Campaign throughput and overhead with the scripted agents, against a sequential loop of the
same trials on the same machine in the same invocation.

    .venv/bin/python benchmarks/bench_campaign.py [--trials 2] [--concurrency 2] [--sample 4]
        [--sandbox bwrap|docker] [--no-warmup]
    .venv/bin/python benchmarks/bench_campaign.py --executor ray --ray-address ADDR \\
        --ledger postgresql+psycopg://USER@HOST/DB

The campaign is examples/campaigns/scripted.toml's: the scripted reference agent and one that
breaks T2, ``--trials`` each, on a ``--sample``-case sample, in a RAMP home of its own (the
machine's root file systems and golden artifacts linked in, like the campaign tests). The same
trials run twice:

- **sequential**: one after another, each with :func:`ramp_mcp.campaign.run_attempt` (what
  every executor runs: one ``ramp run --agent`` through the Python API, then the failure
  taxonomy), no campaign in the ledger;
- **campaign**: :func:`ramp_mcp.campaign.run_campaign` with ``--concurrency`` slots on the
  local executor (or Ray's), the driver claiming, recording and retrying in the ledger.

Printed: trials per hour of each and the speed-up; and per trial, the run's own time (the
ledger's run created -> finished), the attempt's (``AttemptResult.duration_s``: the run plus
launching the agent and classifying the end) and the campaign slot's (the ledger's attempt
claimed -> recorded), whose difference from the attempt's is what the driver, the executor and
the ledger add. The campaign's set-up and wind-down (before the first claim, after the last
record) are shown apart. Figures are printed, never asserted on. A first, untimed attempt
warms the caches unless ``--no-warmup``.
"""

from __future__ import annotations

import logging
import os
import statistics
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grader.ledger import Ledger
from ramp_mcp.campaign import (
    AttemptResult,
    AttemptTask,
    CampaignSpec,
    Executor,
    LocalExecutor,
    local_slots,
    parse_campaign,
    run_attempt,
    run_campaign,
)
from tests.support import reachable_temp_dir
from toolchain import ramp_home, remove_tree

AGENTS: list[dict[str, Any]] = [
    {"name": "scripted-reference", "kind": "scripted"},
    {"name": "scripted-breaks-t2", "kind": "scripted", "break_stage": "T2"},
]


@dataclass
class Recording:
    """An executor that keeps every result it hands to the driver (for their durations)."""

    inner: Executor
    results: list[AttemptResult] = field(default_factory=list)

    @property
    def slots(self) -> int:
        return self.inner.slots

    def submit(self, task: AttemptTask) -> None:
        self.inner.submit(task)

    def finished(self, timeout_s: float) -> list[AttemptResult]:
        done = self.inner.finished(timeout_s)
        self.results.extend(done)
        return done

    def cancel(self) -> None:
        self.inner.cancel()

    def close(self) -> None:
        self.inner.close()


@dataclass(frozen=True)
class Measured:
    """One way of running the trials: its wall time, results and ledger spans."""

    label: str
    slots: int
    wall_s: float
    results: list[AttemptResult]
    run_s: list[float]  # per run: the ledger's created -> finished
    slot_s: list[float] = field(default_factory=list)  # per attempt: claimed -> recorded
    setup_s: float | None = None  # campaign start -> first claim, last record -> end


def _spec(name: str, options: dict[str, Any]) -> CampaignSpec:
    executor: dict[str, Any] = {"kind": options["executor"]}
    if options["executor"] == "ray":
        executor["address"] = options["ray_address"]
    document = {
        "name": name,
        "trials": options["trials"],
        "sample": options["sample"],
        "seed": 7,
        "sandbox": options["sandbox"],
        "concurrency": options["concurrency"],
        "infra_retries": 0,  # a failure is shown, not hidden by a retry
        "executor": executor,
        "agents": AGENTS,
    }
    return parse_campaign(document, source="bench_campaign.py")


def _executor(spec: CampaignSpec) -> Executor:
    if spec.executor.kind == "ray":
        from ramp_mcp.campaign import RayExecutor

        return RayExecutor(spec.executor.address or "auto", spec.concurrency)
    return LocalExecutor(local_slots(spec.concurrency)[0])


def _task(spec: CampaignSpec, number: int, agent: str, index: int, url: str) -> AttemptTask:
    """A trial's attempt outside any campaign (the ids are only echoed back)."""
    chosen = spec.agent(agent)
    return AttemptTask(
        campaign=spec.name,
        trial_id=number,
        attempt_id=number,
        attempt=1,
        agent=chosen,
        model=spec.models_of(chosen)[0],
        index=index,
        budget_s=spec.budget_s,
        attempts_per_stage=spec.attempts_per_stage,
        sample=spec.sample,
        seed=spec.seed,
        sandbox=spec.sandbox,
        ledger_url=url,
    )


def _tasks(spec: CampaignSpec, url: str) -> list[AttemptTask]:
    keys = [(a.name, i) for a in spec.agents for i in range(spec.trials)]
    return [_task(spec, n, agent, index, url) for n, (agent, index) in enumerate(keys)]


def _run_spans(url: str, results: Sequence[AttemptResult]) -> list[float]:
    spans = []
    with Ledger.open(url) as ledger:
        for result in results:
            if result.run_id is None:
                continue
            run = ledger.get_run(result.run_id)
            if run.finished_at is not None:
                spans.append((run.finished_at - run.created_at).total_seconds())
    return spans


def sequential(spec: CampaignSpec, url: str) -> Measured:
    started = time.monotonic()
    results = [run_attempt(task) for task in _tasks(spec, url)]
    wall = time.monotonic() - started
    return Measured("sequential", 1, wall, results, _run_spans(url, results))


def campaign(spec: CampaignSpec, url: str, say: Any) -> Measured:
    executor = Recording(_executor(spec))
    begun, started = datetime.now().astimezone(), time.monotonic()
    run_campaign(spec, ledger_url=url, executor=executor, say=say)
    wall = time.monotonic() - started
    with Ledger.open(url) as ledger:
        attempts = ledger.campaign_attempts(spec.name)
    spans = [(a.finished_at - a.started_at).total_seconds() for a in attempts if a.finished_at]
    first = min(a.started_at for a in attempts)
    last = max(a.finished_at for a in attempts if a.finished_at)
    setup = (first - begun).total_seconds() + (wall - (last - begun).total_seconds())
    label = f"campaign, {spec.executor.kind}"
    runs = _run_spans(url, executor.results)
    return Measured(label, executor.slots, wall, executor.results, runs, spans, setup)


def _mean(values: Sequence[float]) -> str:
    return f"{statistics.fmean(values):.1f} s" if values else "-"


def _throughput(measured: Sequence[Measured]) -> Table:
    base = measured[0]
    table = Table("how", "slots", "trials", "graded", "wall", "trials / hour", "speed-up",
                  title="Throughput")  # fmt: skip
    for m in measured:
        counted = sum(r.outcome != "infrastructure" for r in m.results)
        table.add_row(
            m.label,
            str(m.slots),
            str(len(m.results)),
            str(counted),
            f"{m.wall_s:.1f} s",
            f"{len(m.results) / m.wall_s * 3600:.1f}",
            f"{base.wall_s / m.wall_s:.2f} x",
        )
    return table


def _overhead(measured: Sequence[Measured]) -> Table:
    table = Table("how", "run (ledger)", "attempt", "campaign slot", "slot - attempt",
                  "campaign set-up + wind-down", title="Per trial (means)")  # fmt: skip
    for m in measured:
        attempt = [r.duration_s for r in m.results]
        extra = (
            statistics.fmean(m.slot_s) - statistics.fmean(attempt) if m.slot_s and attempt else None
        )
        table.add_row(
            m.label,
            _mean(m.run_s),
            _mean(attempt),
            _mean(m.slot_s),
            "-" if extra is None else f"{extra:.2f} s",
            "-" if m.setup_s is None else f"{m.setup_s:.2f} s",
        )
    return table


def _home() -> Path:
    """A RAMP home of the benchmark's own that shares the machine's images and artifacts."""
    shared = ramp_home()
    home = reachable_temp_dir("ramp-bench-campaign-")
    for name in ("rootfs", "golden"):
        (home / name).symlink_to(shared / name)
    os.environ["RAMP_HOME"] = str(home)
    os.environ.pop("RAMP_LEDGER_URL", None)
    return home


@click.command(help=__doc__)
@click.option("--trials", type=click.IntRange(min=1), default=2, show_default=True,
              help="trials per agent (two agents)")  # fmt: skip
@click.option("--concurrency", type=click.IntRange(min=1), default=2, show_default=True)
@click.option("--sample", type=click.IntRange(min=1), default=4, show_default=True)
@click.option("--sandbox", type=click.Choice(["bwrap", "docker"]), default="bwrap",
              show_default=True)  # fmt: skip
@click.option("--executor", type=click.Choice(["local", "ray"]), default="local",
              show_default=True)  # fmt: skip
@click.option("--ray-address", default="auto", show_default=True, help="with --executor ray")
@click.option("--ledger", "ledger", default=None,
              help="SQLAlchemy URL (default: SQLite in the benchmark's home; Ray needs PostgreSQL)")  # fmt: skip
@click.option("--warmup/--no-warmup", default=True, show_default=True)
def main(**options: Any) -> None:
    if options["executor"] == "ray" and not str(options["ledger"] or "").startswith("postgresql"):
        raise click.UsageError(
            "--executor ray needs --ledger postgresql+psycopg://... (every node writes to it)"
        )
    console = Console(width=110)
    for chatty in ("ramp_mcp", "alembic"):  # each attempt's start and end, each ledger opened
        logging.getLogger(chatty).setLevel(logging.WARNING)
    home = _home()
    try:
        url = options["ledger"] or f"sqlite:///{home / 'ledger.sqlite3'}"
        tag = uuid.uuid4().hex[:8]
        spec = _spec(f"bench-{tag}", options)
        if options["warmup"]:
            console.print("warm-up attempt (not timed) ...")
            run_attempt(_task(spec.model_copy(update={"name": f"warm-{tag}"}), 0,
                              AGENTS[0]["name"], 0, url))  # fmt: skip
        console.print(f"sequential loop: {len(_tasks(spec, url))} trials ...")
        base = sequential(spec.model_copy(update={"name": f"seq-{tag}"}), url)
        console.print(f"campaign {spec.name}, concurrency {spec.concurrency} ...")
        measured = [base, campaign(spec, url, console.print)]
    finally:
        remove_tree(home)  # the runs' capped workspaces released first
    console.print(
        f"{spec.trials} trial(s) x {len(AGENTS)} scripted agents, sample {spec.sample}, "
        f"{spec.sandbox}, {os.cpu_count()} cores"
    )
    console.print(_throughput(measured))
    console.print(_overhead(measured))


if __name__ == "__main__":
    main()
