"""What the tests of the real agent CLIs share: the scripted session (four tool calls that
build T0), running `ramp run --agent ...` against a scripted endpoint, and the checks that
the calls went through MCP and the transcript's usage was imported."""

from __future__ import annotations

import json
import os
import subprocess
from collections import Counter
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

from grader.ledger import Ledger, UsageEvent
from tests.ramp_mcp.agents.clients import BIN
from tests.ramp_mcp.agents.scripted import Call, ScriptedEndpoint

BUILD_SH = (
    "#!/bin/sh\nset -e\nmkdir -p bin\nprintf '#!/bin/sh\\nexec clang-19 -E -x c -isystem "
    '/ramp/include -include sylib.h "$1" -o "$2"\\n\' > bin/t0\nchmod +x bin/t0\n'
)
NOTES = "T0 delegates to the preprocessor; T1 next.\n"
SCRIPT = [
    Call("write_file", {"path": "build.sh", "content": BUILD_SH}),
    Call("build", {}),
    Call("write_file", {"path": "notes/plan.md", "content": NOTES}),
    Call("status", {}),
]


def run_scripted(
    endpoint: ScriptedEndpoint,
    ledger: str,
    agent: str,
    *args: str,
    env: Callable[[str], dict[str, str]],
) -> tuple[Any, str]:
    """`ramp run --agent AGENT --sandbox bwrap --sample 4 ARGS --ledger LEDGER --json` while
    ``endpoint`` serves (``env`` makes the environment from its URL), which must succeed:
    its JSON result and the exchange with the endpoint, described."""
    with endpoint.serving() as url:
        done = subprocess.run(
            [
                *(str(BIN / "ramp"), "run", "--agent", agent, "--sandbox", "bwrap"),
                *("--sample", "4", *args, "--ledger", ledger, "--json"),
            ],
            capture_output=True,
            text=True,
            timeout=400,
            env=env(url),
        )
    exchange = endpoint.exchange.describe()
    assert done.returncode == 0, f"{done.stderr}\n{exchange}"
    return json.loads(done.stdout), exchange


def check_agent_offered_our_tools(result: Any, endpoint: ScriptedEndpoint, exchange: str) -> None:
    """The agent exited 0 and offered each RAMP tool of the script under its MCP name."""
    stderr_log = Path(result["ended"]["stderr_log"]).read_text()
    assert result["ended"]["exit_code"] == 0, f"{stderr_log[-3000:]}\n{exchange}"
    assert endpoint.exchange.tool_names == {
        call.tool: f"mcp__ramp__{call.tool}" for call in SCRIPT
    }, exchange


def check_calls_went_through_mcp(ledger: str, result: Any, exchange: str) -> list[UsageEvent]:
    """The server recorded each call of the script and did the work; the run's usage events."""
    with Ledger.open(ledger) as opened:
        events = opened.usage_events(result["run_id"])
    calls = [(e.tool, e.outcome, e.source) for e in events if e.kind == "tool_call"]
    assert calls == [(call.tool, "ok", "mcp") for call in SCRIPT], exchange
    workspace = Path(result["workspace"])
    assert os.access(workspace / "build.sh", os.X_OK)
    assert (workspace / "notes" / "plan.md").read_text() == NOTES
    return events


def check_token_events(
    events: list[UsageEvent],
    source: str,
    expected: Counter[Hashable],
    numbers: Callable[[UsageEvent], Hashable],
) -> list[UsageEvent]:
    """One token event from ``source`` per response served, with ``numbers`` as ``expected``
    says; the token events."""
    tokens = [e for e in events if e.kind == "tokens"]
    assert {e.source for e in tokens} == {source}
    assert Counter(numbers(e) for e in tokens) == expected
    return tokens


def check_imported_and_graded(result: Any, fmt: str) -> Any:
    """One import of ``fmt`` without problems, and the open stage T0 graded as passed; the
    import's report."""
    (imported,) = result["imports"]
    assert imported["format"] == fmt and imported["problems"] == []
    graded = result["graded"]
    assert graded is not None, result["grade_note"]
    assert graded["stage"] == "T0" and graded["passed"] is True, graded
    return imported
