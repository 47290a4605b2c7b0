"""The RAMP MCP server through the real SDK client: stdio and streamable HTTP, both eras.

Each session runs on a run made with `ramp run create --sandbox bwrap` on a throwaway
SQLite ledger: write build.sh, build, run_rv64, run_stage T0 on a public case, submit T0,
status; plus refusals (malformed arguments, a path outside the workspace, missing or wrong
bearer tokens) and the usage events the calls leave in the ledger.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from click.testing import CliRunner
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from golden import Split, builtin_corpus
from grader.ledger import Ledger
from ramp_mcp._config_cli import mcp_config_command
from ramp_mcp._server import TOOL_NAMES
from tests.ramp_mcp.harness import create_run, http_server
from tests.support import backend_missing
from toolchain._manifest import Profile

BIN = Path(sys.executable).parent
MODES = ["legacy", "auto"]
ERAS = {"legacy": "2025-11-25", "auto": "2026-07-28"}

BUILD_SH = (
    "#!/bin/sh\nmkdir -p bin\nprintf '#!/bin/sh\\nexec clang-19 -E -x c -isystem /ramp/include "
    '-include sylib.h "$1" -o "$2"\\n\' > bin/t0\nchmod +x bin/t0\n'
)
SEVEN_S = ".globl main\n.type main, @function\nmain:\n  li a0, 7\n  ret\n"


@pytest.fixture(scope="module")
def ledger_url() -> Iterator[str]:
    if backend_missing("bwrap") or backend_missing("bwrap", Profile.MINIMAL):
        pytest.skip("bwrap not ready")
    directory = Path(tempfile.mkdtemp(prefix="ramp-test-mcp-"))
    yield f"sqlite:///{directory / 'ledger.sqlite3'}"
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def run(ledger_url: str) -> Iterator[tuple[str, Path]]:
    run_id, workspace = create_run(ledger_url, agent="mcp-test")
    yield run_id, workspace
    shutil.rmtree(workspace.parent, ignore_errors=True)


def _public_case() -> str:
    return next(c.name for c in builtin_corpus() if c.split is Split.PUBLIC)


async def _session(client: Client, workspace: Path) -> None:
    """The same small job over any transport."""
    tools = await client.list_tools()
    assert {t.name for t in tools.tools} == set(TOOL_NAMES)
    annotations = {t.name: t.annotations for t in tools.tools}
    assert annotations["read_file"] is not None and annotations["read_file"].read_only_hint
    resources = await client.list_resources()
    assert {"ramp://contracts/workspace", "ramp://language", "ramp://runtime/sylib.h"} <= {
        r.uri for r in resources.resources
    }
    templates = await client.list_resource_templates()
    assert "ramp://contracts/{stage}" in {t.uri_template for t in templates.resource_templates}
    t0 = await client.read_resource("ramp://contracts/T0")
    assert "T0" in t0.contents[0].text  # type: ignore[union-attr]
    prompt = await client.get_prompt("start")
    assert "submit_stage" in str(prompt.messages[0].content)

    written = await client.call_tool("write_file", {"path": "build.sh", "content": BUILD_SH})
    assert not written.is_error and written.structured_content == {
        "path": "build.sh",
        "bytes_written": len(BUILD_SH),
        "created": True,
    }
    seen: list[float] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(progress)

    built = await client.call_tool("build", {}, progress_callback=on_progress)
    assert not built.is_error, built.content
    assert built.structured_content is not None and built.structured_content["ok"] is True
    assert (workspace / "bin" / "t0").is_file()

    await client.call_tool("write_file", {"path": "asm/seven.s", "content": SEVEN_S})
    ran = await client.call_tool("run_rv64", {"source": "asm/seven.s"})
    assert not ran.is_error, ran.content
    assert ran.structured_content is not None
    assert ran.structured_content["built"] is True and ran.structured_content["exit_code"] == 7

    case = _public_case()
    tried = await client.call_tool(
        "run_stage", {"stage": "T0", "case": case}, progress_callback=on_progress
    )
    assert not tried.is_error, tried.content
    assert tried.structured_content is not None and tried.structured_content["score"] == 100.0
    assert "sylib.h" in tried.structured_content["output_head"]
    seen.clear()
    slow = await client.call_tool(
        "run_command", {"command": "sleep 3"}, progress_callback=on_progress
    )
    assert not slow.is_error and slow.structured_content is not None
    assert seen, "a tool running past the progress interval (2 s) reports progress"

    own = await client.call_tool(
        "run_stage", {"stage": "T0", "input_text": "int main(){return 0;}"}
    )
    assert not own.is_error and own.structured_content is not None
    assert (
        own.structured_content["score"] is None
        and "int main" in own.structured_content["output_head"]
    )
    # JSON-looking text (T3's input is a JSON AST) stays text: the SDK parses string
    # arguments that look like JSON unless they are typed plain `str`.
    as_json = await client.call_tool(
        "run_stage", {"stage": "T0", "input_text": '{"kind": "TranslationUnitDecl"}'}
    )
    assert not as_json.is_error, as_json.content
    assert as_json.structured_content is not None
    assert "TranslationUnitDecl" in as_json.structured_content["output_head"]
    hidden = next(c.name for c in builtin_corpus() if c.split is Split.HIDDEN)
    refused = await client.call_tool("run_stage", {"stage": "T0", "case": hidden})
    assert refused.is_error and "unknown public case" in str(refused.content)

    bad = await client.call_tool("read_file", {"path": 3})
    assert bad.is_error and "validation error" in str(bad.content)
    bad_stage = await client.call_tool("submit_stage", {"stage": "T9"})
    assert bad_stage.is_error
    outside = await client.call_tool("read_file", {"path": "../mcp-token"})
    assert outside.is_error and "'..'" in str(outside.content)
    absolute = await client.call_tool("write_file", {"path": "/etc/x", "content": ""})
    assert absolute.is_error and "relative" in str(absolute.content)

    early = await client.call_tool("submit_stage", {"stage": "T1"})
    assert early.is_error and "T1 is locked" in str(early.content)
    submitted = await client.call_tool(
        "submit_stage", {"stage": "T0"}, progress_callback=on_progress
    )
    assert not submitted.is_error, submitted.content
    outcome = submitted.structured_content
    assert outcome is not None and outcome["passed"] is True and outcome["score"] == 100.0
    assert outcome["next_open"] == "T1"

    status = await client.call_tool("status", {})
    assert not status.is_error and status.structured_content is not None
    assert status.structured_content["open_stage"] == "T1"
    states = [s["state"] for s in status.structured_content["stages"]]
    assert states[:2] == ["passed", "open"]


def _check_usage(ledger_url: str, run_id: str) -> None:
    with Ledger.open(ledger_url) as ledger:
        events = ledger.usage_events(run_id)
    assert events and all(e.kind == "tool_call" and e.source == "mcp" for e in events)
    tools = [e.tool for e in events]
    for name in ("write_file", "build", "run_rv64", "run_stage", "submit_stage", "status"):
        assert name in tools
    outcomes = {(e.tool, e.outcome) for e in events}
    assert ("read_file", "error") in outcomes and ("submit_stage", "ok") in outcomes
    assert all(e.arguments_bytes is not None and e.duration_s is not None for e in events)


@pytest.mark.parametrize("mode", MODES)
def test_stdio_session(mode: str, ledger_url: str, run: tuple[str, Path]) -> None:
    run_id, workspace = run
    params = StdioServerParameters(
        command=str(BIN / "ramp-mcp"), args=["--run", run_id, "--ledger", ledger_url]
    )

    async def main() -> None:
        async with Client(params, mode=mode) as client:
            assert client.protocol_version == ERAS[mode]
            assert client.server_info is not None and client.server_info.name == "ramp"
            await _session(client, workspace)

    anyio.run(main)
    _check_usage(ledger_url, run_id)


@pytest.fixture(scope="module")
def live_http_server(ledger_url: str) -> Iterator[str]:
    log = Path(ledger_url.removeprefix("sqlite:///")).with_name("http.log")
    with http_server(ledger_url, log) as (url, _process):
        yield url


def _config(run_id: str, ledger_url: str, client: str) -> str:
    done = CliRunner().invoke(
        mcp_config_command, [run_id, "--client", client, "--ledger", ledger_url]
    )
    assert done.exit_code == 0, done.output
    return done.output


def _bearer(run_id: str, ledger_url: str) -> dict[str, str]:
    config: dict[str, Any] = json.loads(_config(run_id, ledger_url, "json"))
    headers: dict[str, str] = config["mcpServers"]["ramp-http"]["headers"]
    assert config["mcpServers"]["ramp"]["args"][:2] == ["--run", run_id]
    return headers


@pytest.mark.parametrize("mode", MODES)
def test_http_session(
    mode: str, ledger_url: str, run: tuple[str, Path], live_http_server: str
) -> None:
    run_id, workspace = run
    headers = _bearer(run_id, ledger_url)
    token_file = workspace.parent / "mcp-token"
    assert token_file.stat().st_mode & 0o777 == 0o600

    async def main() -> None:
        async with httpx2.AsyncClient(
            headers=headers, timeout=httpx2.Timeout(30, read=300)
        ) as http:
            transport = streamable_http_client(live_http_server, http_client=http)
            async with Client(transport, mode=mode) as client:
                assert client.protocol_version == ERAS[mode]
                await _session(client, workspace)

    anyio.run(main)
    _check_usage(ledger_url, run_id)


def test_http_refuses_missing_and_wrong_tokens(
    ledger_url: str, run: tuple[str, Path], live_http_server: str
) -> None:
    run_id, _ = run
    _bearer(run_id, ledger_url)  # a real token exists, so a wrong one is really wrong
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    accept = {"Accept": "application/json, text/event-stream"}
    for extra in ({}, {"Authorization": "Bearer not-a-ramp-token"}):
        answer = httpx2.post(live_http_server, json=body, headers=accept | extra, timeout=30)
        assert answer.status_code == 401, answer.text


def test_mcp_config_for_codex_and_claude_code(ledger_url: str, run: tuple[str, Path]) -> None:
    run_id, workspace = run
    codex = _config(run_id, ledger_url, "codex")
    token = (workspace.parent / "mcp-token").read_text().strip()
    assert "[mcp_servers.ramp]" in codex and f'"--run", "{run_id}"' in codex
    assert 'bearer_token_env_var = "RAMP_MCP_TOKEN"' in codex and token in codex
    claude = _config(run_id, ledger_url, "claude-code")
    assert f"Bearer {token}" in claude and "ramp-mcp" in claude
    missing = CliRunner().invoke(mcp_config_command, ["r-0000000000", "--ledger", ledger_url])
    assert missing.exit_code == 2
