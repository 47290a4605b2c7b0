"""RAMP as an Inspect AI task: the model builds the SysY compiler through `ramp-mcp`.

Each sample is one RAMP run. The solver creates the run (``ramp_mcp.harness``), gives a
ReAct agent the run's MCP server as its tool source (``mcp_server_stdio`` + ``mcp_tools``:
the agent's only tools are RAMP's, served from the run's sandbox), reports the model's
token usage to the run when the agent stops, and the scorer grades the stage the agent left
open and scores the run with the paper's pipeline score (0..1).

    inspect eval examples/inspect_ramp/task.py --model anthropic/claude-sonnet-4-5 \\
        -T sandbox=bwrap -T budget_s=14400

Task options (``-T``): ``ledger`` (SQLAlchemy URL; default $RAMP_LEDGER_URL or SQLite in
RAMP_HOME), ``sandbox`` (auto, docker, bwrap), ``sample`` (grade on a fixed sample of that
many hidden cases), ``budget_s`` (the run's wall-clock budget), ``message_limit``.
"""

from __future__ import annotations

from typing import Literal

import anyio.to_thread
from inspect_ai import Task, task
from inspect_ai.agent import as_solver, react
from inspect_ai.dataset import Sample
from inspect_ai.event import ModelEvent
from inspect_ai.log import transcript
from inspect_ai.scorer import Score, Scorer, Target, mean, scorer
from inspect_ai.solver import Generate, Solver, TaskState, solver
from inspect_ai.tool import mcp_server_stdio, mcp_tools

from ramp_mcp.harness import Ramp, UsageRecord, start_prompt

Sandbox = Literal["auto", "docker", "bwrap"]
RUN_ID = "ramp_run_id"
LEDGER = "ramp_ledger"


def _usage_records(model: str) -> list[UsageRecord]:
    """One record per model call of this sample, keyed by the call's event id (reporting
    twice stores it once)."""
    records = []
    for event in transcript().events:
        if not isinstance(event, ModelEvent) or event.output.usage is None:
            continue
        usage = event.output.usage
        read = usage.input_tokens_cache_read or 0
        written = usage.input_tokens_cache_write or 0
        records.append(
            UsageRecord(
                id=f"inspect:{event.uuid}",
                at=event.timestamp,
                model=event.output.model or model,
                input_tokens=usage.input_tokens + read + written,  # Inspect's excludes cache
                cached_input_tokens=read,
                cache_write_tokens=written,
                output_tokens=usage.output_tokens,
                reasoning_tokens=min(usage.reasoning_tokens or 0, usage.output_tokens),
                cost_usd=usage.total_cost,
            )
        )
    return records


@solver
def ramp_agent(
    ledger: str | None = None,
    sandbox: Sandbox = "auto",
    sample: int | None = None,
    budget_s: float | None = None,
) -> Solver:
    async def solve(state: TaskState, generate: Generate) -> TaskState:
        model = str(state.model)

        def create() -> tuple[str, str, list[str], dict[str, str], str]:
            with Ramp(ledger) as ramp:
                run = ramp.create_run(
                    agent="inspect-react",
                    model=model,
                    harness="inspect_ai",
                    sandbox=sandbox,
                    sample=sample,
                    budget_s=budget_s,
                )
                endpoint = run.stdio()
                return run.id, endpoint.command, endpoint.args, endpoint.env, ramp.ledger_url

        run_id, command, args, env, ledger_url = await anyio.to_thread.run_sync(create)
        state.metadata[RUN_ID], state.metadata[LEDGER] = run_id, ledger_url
        server = mcp_server_stdio(name="ramp", command=command, args=args, env=env)
        agent = react(
            prompt="You are a careful compiler engineer. Work only through the tools.",
            tools=[mcp_tools(server)],
            submit=False,
        )
        try:
            state = await as_solver(agent)(state, generate)
        finally:

            def report() -> None:
                with Ramp(ledger_url) as ramp:
                    ramp.run(run_id).report_usage(*_usage_records(model))

            await anyio.to_thread.run_sync(report)
        return state

    return solve


@scorer(metrics=[mean()])
def ramp_score() -> Scorer:
    """Grade the stage the agent left open; the score is the run's pipeline score / 100."""

    async def score(state: TaskState, target: Target) -> Score:
        run_id, ledger_url = state.metadata[RUN_ID], state.metadata[LEDGER]

        def grade() -> Score:
            with Ramp(ledger_url) as ramp:
                run = ramp.run(run_id)
                graded = run.grade_open()
                results = run.results()
            rewards = results.status.rewards
            return Score(
                value=rewards.pipeline_score / 100,
                answer=f"tier {rewards.tier}",
                explanation=(
                    "no stage was open at the end"
                    if graded is None
                    else f"{graded.stage.value} graded at the end: {graded.chained_score:.1f}"
                ),
                metadata={
                    "run_id": run_id,
                    "stages": {s.stage.value: s.state for s in results.status.stages},
                    "rewards": rewards.model_dump(),
                    "tool_calls": results.usage.tool_calls.count,
                    "tokens": results.usage.tokens.total,
                },
            )

        return await anyio.to_thread.run_sync(grade)

    return score


@task
def ramp(
    ledger: str | None = None,
    sandbox: Sandbox = "auto",
    sample: int | None = None,
    budget_s: float | None = None,
    message_limit: int = 2000,
) -> Task:
    return Task(
        dataset=[Sample(id="ramp", input=start_prompt())],
        solver=ramp_agent(ledger=ledger, sandbox=sandbox, sample=sample, budget_s=budget_s),
        scorer=ramp_score(),
        message_limit=message_limit,
    )
