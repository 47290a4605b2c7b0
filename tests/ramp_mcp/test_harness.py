"""The harness API (ramp_mcp.harness) drives a whole run as a third-party harness would:
create it, serve it over HTTP and connect the real MCP client with the run's token, report
usage, grade, read results and the report; its stdio endpoint works too."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult, TextContent
from pydantic import ValidationError

from ramp_mcp.harness import HttpEndpoint, Ramp, RampRun, UsageRecord
from tests.support import backend_missing
from toolchain._manifest import Profile

BUILD_SH = (
    "#!/bin/sh\nset -e\nmkdir -p bin\nprintf '#!/bin/sh\\nexec clang-19 -E -x c -isystem "
    '/ramp/include -include sylib.h "$1" -o "$2"\\n\' > bin/t0\nchmod +x bin/t0\n'
)


@pytest.fixture
def ramp(tmp_path: Path) -> Iterator[Ramp]:
    if backend_missing("bwrap") or backend_missing("bwrap", Profile.MINIMAL):
        pytest.skip("bwrap or its root file systems are not ready (bash toolchain/setup.sh)")
    with Ramp(f"sqlite:///{tmp_path / 'ledger.sqlite3'}") as opened:
        yield opened


@pytest.fixture
def run(ramp: Ramp) -> Iterator[RampRun]:
    made = ramp.create_run(agent="my-harness-agent", model="m-1", sandbox="bwrap", sample=4)
    yield made
    shutil.rmtree(made.home, ignore_errors=True)


def _structured(result: CallToolResult) -> dict[str, object]:
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    return result.structured_content


async def _work_over_http(endpoint: HttpEndpoint) -> tuple[str, str]:
    async with (
        httpx2.AsyncClient(headers=endpoint.headers, timeout=httpx2.Timeout(30, read=300)) as http,
        Client(streamable_http_client(endpoint.url, http_client=http)) as client,
    ):
        prompt = await client.get_prompt("start")
        _structured(await client.call_tool("write_file", {"path": "build.sh", "content": BUILD_SH}))
        built = _structured(await client.call_tool("build", {}))
        assert built["ok"] is True, built
        status = _structured(await client.call_tool("status", {}))
        text = prompt.messages[0].content
        assert isinstance(text, TextContent)
        return str(status["run_id"]), text.text


def test_a_harness_drives_a_run_over_http(ramp: Ramp, run: RampRun, tmp_path: Path) -> None:
    with ramp.serve_http(log=tmp_path / "mcp-http.log") as server:
        endpoint = run.http(server)
        assert endpoint.url == server.url and endpoint.token == run.token()
        served_run, prompt = anyio.run(_work_over_http, endpoint)
        config = run.mcp_config(endpoint)["mcpServers"]["ramp"]
        assert config == {"type": "http", "url": server.url, "headers": endpoint.headers}
    assert served_run == run.id
    assert prompt.strip() == run.start_prompt().strip() and "T0" in prompt
    assert (run.workspace / "bin" / "t0").is_file()

    calls = [(c.tool, c.outcome) for c in run.tool_calls()]
    assert calls == [("write_file", "ok"), ("build", "ok"), ("status", "ok")]

    first = UsageRecord(
        id="call-1",
        model="m-1",
        input_tokens=1500,
        cached_input_tokens=1000,
        output_tokens=90,
        reasoning_tokens=30,
        cost_usd=0.004,
    )
    second = {"id": "call-2", "model": "m-1", "input_tokens": 1800, "output_tokens": 60}
    assert run.report_usage(first, second) == 2
    assert run.report_usage(first) == 0  # the same id again is not counted twice
    with pytest.raises(ValidationError, match="cached_input_tokens"):
        run.report_usage({"id": "bad", "input_tokens": 10, "cached_input_tokens": 20})

    outcome = run.grade_open()
    assert outcome is not None and outcome.stage.value == "T0" and outcome.passed, outcome

    results = run.results()
    assert (results.agent, results.model) == ("my-harness-agent", "m-1")
    assert results.status.open_stage is not None and results.status.open_stage.value == "T1"
    assert results.status.stages[0].state == "passed"
    tokens = results.usage.tokens
    assert (tokens.reports, tokens.input, tokens.cache_read, tokens.output) == (
        2,
        3300,
        1000,
        150,
    )
    assert results.usage.tool_calls.count == 3

    document = json.loads(run.report("json"))
    assert [r["run"]["run_id"] for r in document["runs"]] == [run.id]
    html = run.report("html", output=tmp_path / "report.html")
    assert (tmp_path / "report.html").read_text() == html and run.id in html


async def _status_over_stdio(params: StdioServerParameters) -> dict[str, object]:
    async with Client(params) as client:
        return _structured(await client.call_tool("status", {}))


def test_the_stdio_endpoint_serves_the_run(run: RampRun) -> None:
    endpoint = run.stdio()
    params = StdioServerParameters(command=endpoint.command, args=endpoint.args, env=endpoint.env)
    status = anyio.run(_status_over_stdio, params)
    assert status["run_id"] == run.id and status["open_stage"] == "T0"
    entry = run.mcp_config()["mcpServers"]["ramp"]
    assert entry["command"] == endpoint.command and entry["args"] == ["--run", run.id]


def test_a_wrong_token_is_refused(ramp: Ramp, run: RampRun, tmp_path: Path) -> None:
    with ramp.serve_http(log=tmp_path / "mcp-http.log") as server:
        response = httpx2.post(
            server.url,
            headers={"Authorization": "Bearer not-the-token", "Accept": "application/json"},
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
            timeout=30,
        )
    assert response.status_code == 401
