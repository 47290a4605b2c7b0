"""RAMP for third-party harnesses: create a run, connect an agent to its MCP server, report
the agent's token usage, grade, and read the results and the report.

A harness that drives its own agent loop (Inspect AI, a custom scaffold) needs nothing
else; see docs/harness-api.md. In short::

    from ramp_mcp.harness import Ramp, UsageRecord

    with Ramp() as ramp:                       # the ledger in $RAMP_LEDGER_URL or RAMP_HOME
        run = ramp.create_run(agent="my-agent", model="my-model", budget_s=4 * 3600)
        server = run.stdio()                   # command + args + env of `ramp-mcp --run`
        prompt = run.start_prompt()            # the task brief (the server's `start` prompt)
        ...                                    # the agent works through MCP tool calls
        run.report_usage(UsageRecord(id="resp-1", model="my-model",
                                     input_tokens=1200, output_tokens=80))
        run.grade_open()                       # grade the stage the agent left open
        print(run.results().status.rewards)
        print(run.report("term"))

Every call is synchronous (``submit`` and ``grade_open`` take minutes: grading runs the
hidden cases); from async code, call them through ``anyio.to_thread.run_sync``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

import anyio
from mcp import Client
from mcp.types import TextContent
from pydantic import BaseModel, ConfigDict
from sqlmodel import select

from golden import Stage
from grader import RunStatusView, StageMachine, SubmissionOutcome
from grader.ledger import Ledger, Run, UsageEvent
from grader.ledger import ledger_url as default_ledger_url
from grader.usage import (
    ImportReport,
    RunUsage,
    UsageRecord,
    import_claude_code,
    import_codex,
    import_jsonl,
    report_usage,
    run_usage,
)
from ramp_mcp._runs import ServerSettings
from ramp_mcp._server import build_server
from ramp_mcp._tokens import ensure_token
from ramp_mcp.agents._endpoint import (
    HttpEndpoint,
    HttpServer,
    StdioEndpoint,
    mcp_servers_json,
    ramp_mcp_program,
    server_environment,
)
from toolchain import Closing

__all__ = [
    "HttpEndpoint",
    "HttpServer",
    "ImportReport",
    "Ramp",
    "RampRun",
    "RunResults",
    "RunStatusView",
    "RunUsage",
    "StdioEndpoint",
    "SubmissionOutcome",
    "TranscriptFormat",
    "UsageRecord",
    "start_prompt",
]

TranscriptFormat = Literal["claude-code", "codex", "jsonl"]
ReportFormat = Literal["term", "md", "json", "html"]

_IMPORTERS = {"claude-code": import_claude_code, "codex": import_codex, "jsonl": import_jsonl}


@functools.cache
def start_prompt() -> str:
    """The task brief: the text of the server's ``start`` prompt, read through MCP."""

    async def fetch() -> str:
        async with Client(build_server(ServerSettings())) as client:
            result = await client.get_prompt("start")
        return "\n".join(
            m.content.text for m in result.messages if isinstance(m.content, TextContent)
        )

    # A thread of its own, so this works from inside a running event loop too.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(anyio.run, fetch).result()


class RunResults(BaseModel):
    """Where a run stands: its stages and the paper's metrics, and its usage and cost."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    agent: str
    model: str
    harness: str | None
    status: RunStatusView
    usage: RunUsage


class Ramp(Closing):
    """The entry point: one ledger (``ledger_url``, default ``$RAMP_LEDGER_URL`` or SQLite
    in RAMP_HOME), opened on first use and closed by :meth:`close` (or ``with``)."""

    def __init__(self, ledger_url: str | None = None) -> None:
        self.ledger_url = ledger_url or default_ledger_url()
        self._ledger: Ledger | None = None

    @property
    def ledger(self) -> Ledger:
        if self._ledger is None:
            self._ledger = Ledger.open(self.ledger_url)
        return self._ledger

    @property
    def machine(self) -> StageMachine:
        return StageMachine(self.ledger)

    def create_run(
        self,
        *,
        agent: str = "unknown",
        model: str = "unknown",
        harness: str | None = None,
        sandbox: Literal["auto", "docker", "bwrap"] = "auto",
        attempts_per_stage: int = 1,
        budget_s: float | None = None,
        seed: int | None = None,
        sample: int | None = None,
        epoch: str | None = None,
    ) -> RampRun:
        """A new run: a ledger entry, an empty workspace with the public material, a bearer
        token. ``budget_s`` is its wall-clock budget; ``epoch`` the hidden cases that grade it
        (default: ``ramp golden epoch use``'s, else 0); ``sample`` grades it on a fixed subset
        of that many of them (quicker, comparable only with runs on the same sample)."""
        run = self.machine.create_run(
            agent=agent,
            model=model,
            harness=harness,
            sandbox=sandbox,
            attempts_per_stage=attempts_per_stage,
            budget_s=budget_s,
            seed=seed,
            sample=sample,
            epoch=epoch,
        )
        return RampRun(self, run)

    def run(self, run_id: str) -> RampRun:
        """An existing run (``RunNotFoundError`` if the ledger has none by that id)."""
        return RampRun(self, self.ledger.get_run(run_id))

    def serve_http(
        self, *, log: Path, host: str = "127.0.0.1", port: int | None = None
    ) -> HttpServer:
        """Start ``ramp-mcp --http`` for every run of this ledger (close it when done);
        :meth:`RampRun.http` gives a run's endpoint on it."""
        return HttpServer(self.ledger_url, log=log, host=host, port=port)

    def close(self) -> None:
        if self._ledger is not None:
            self._ledger.close()
            self._ledger = None


class RampRun:
    """One run: its MCP endpoints, usage, grading and results."""

    def __init__(self, ramp: Ramp, run: Run) -> None:
        self.ramp = ramp
        self.id = run.id
        self.workspace = Path(run.workspace)
        self.home = self.workspace.parent
        """The run's directory (outside the workspace): snapshots, token, agent files."""

    def __repr__(self) -> str:
        return f"RampRun({self.id!r})"

    # -- connecting an agent ---------------------------------------------------------------

    def stdio(self) -> StdioEndpoint:
        """How to start this run's MCP server over stdio: ``ramp-mcp --run RUN``."""
        return StdioEndpoint(
            command=ramp_mcp_program(),
            args=["--run", self.id],
            env=server_environment(self.ramp.ledger_url),
        )

    def http(self, server: HttpServer | str) -> HttpEndpoint:
        """This run's endpoint on a running ``ramp-mcp --http`` (a server or its URL)."""
        url = server.url if isinstance(server, HttpServer) else server
        return HttpEndpoint(url=url, token=self.token())

    def token(self) -> str:
        """The run's bearer token for the HTTP transport."""
        return ensure_token(self.ramp.ledger.get_run(self.id))

    def mcp_config(self, endpoint: StdioEndpoint | HttpEndpoint | None = None) -> dict[str, Any]:
        """``{"mcpServers": {"ramp": ...}}`` for ``endpoint`` (default: stdio)."""
        return mcp_servers_json(endpoint or self.stdio())

    def start_prompt(self) -> str:
        return start_prompt()

    # -- usage -------------------------------------------------------------------------------

    def report_usage(self, *records: UsageRecord | Mapping[str, Any]) -> int:
        """Store model-call usage as it happens; returns how many records were new (a record
        whose ``id`` was stored before is skipped, so reporting twice is harmless)."""
        added = 0
        for record in records:
            valid = (
                record if isinstance(record, UsageRecord) else UsageRecord.model_validate(record)
            )
            added += report_usage(self.ramp.ledger, self.id, valid)
        return added

    def import_transcript(self, path: Path, format: TranscriptFormat) -> ImportReport:
        """Import an agent's transcript(s): a file, or every ``*.jsonl`` under a directory."""
        return _IMPORTERS[format](self.ramp.ledger, self.id, Path(path))

    def usage(self) -> RunUsage:
        return run_usage(self.ramp.ledger, self.id)

    def tool_calls(self) -> list[UsageEvent]:
        """The MCP tool calls the server recorded for this run, oldest first."""
        with self.ramp.ledger.session(write=False) as session:
            rows = session.exec(
                select(UsageEvent)
                .where(UsageEvent.run_id == self.id, UsageEvent.kind == "tool_call")
                .order_by(UsageEvent.at)  # type: ignore[arg-type]
            ).all()
            return [row.model_copy() for row in rows]

    # -- grading and results -----------------------------------------------------------------

    def status(self) -> RunStatusView:
        return self.ramp.machine.status(self.id)

    def submit(self, stage: Stage | str) -> SubmissionOutcome:
        """Grade ``stage`` (the open one) on the hidden cases, as ``submit_stage`` does."""
        return self.ramp.machine.submit(self.id, Stage(stage))

    def grade_open(self) -> SubmissionOutcome | None:
        """Grade the stage that is open now, as the workspace stands; None when no stage is
        open (the run is finished, or its budget is spent)."""
        open_stage = self.status().open_stage
        return None if open_stage is None else self.submit(open_stage)

    def results(self) -> RunResults:
        run = self.ramp.ledger.get_run(self.id)
        return RunResults(
            run_id=self.id,
            agent=run.agent,
            model=run.model,
            harness=run.harness,
            status=self.status(),
            usage=self.usage(),
        )

    def report(self, format: ReportFormat = "term", *, output: Path | None = None) -> str:
        """The run's report (``ramp-grade report``): terminal text, Markdown, JSON or one
        self-contained HTML page; also written to ``output`` when given."""
        # Imported here: the report pulls in the whole rendering stack (HTML, charts), which
        # a harness that never asks for a report should not pay for.
        from grader.report import render_report

        rendered = render_report(self.ramp.ledger, [self.id], output_format=format)
        assert isinstance(rendered, str)
        if output is not None:
            output.parent.mkdir(parents=True, exist_ok=True)
            temporary = output.with_name(f".{output.name}.part")
            temporary.write_text(rendered, encoding="utf-8")
            temporary.replace(output)
        return rendered
