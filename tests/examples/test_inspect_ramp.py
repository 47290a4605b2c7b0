"""The Inspect AI example task (examples/inspect_ramp/task.py), run by `inspect_ai.eval`
with Inspect's scripted mock model: the model's tool calls reach `ramp-mcp` through
Inspect's MCP client, the run's ledger records them, the usage Inspect counted is reported
to the run, and the scorer grades the stage the agent left open."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from grader.ledger import Ledger
from tests.support import backend_missing
from toolchain._manifest import Profile

inspect_ai = pytest.importorskip("inspect_ai", reason="inspect-ai is a dev dependency")
from inspect_ai import eval as inspect_eval  # noqa: E402
from inspect_ai.model import ModelOutput, ModelUsage, get_model  # noqa: E402

TASK = Path(__file__).resolve().parents[2] / "examples" / "inspect_ramp" / "task.py"
BUILD_SH = (
    "#!/bin/sh\nset -e\nmkdir -p bin\nprintf '#!/bin/sh\\nexec clang-19 -E -x c -isystem "
    '/ramp/include -include sylib.h "$1" -o "$2"\\n\' > bin/t0\nchmod +x bin/t0\n'
)


def _output(call: ModelOutput, n: int) -> ModelOutput:
    """The scripted output with usage the mock model reports for it (distinct per call)."""
    usage = ModelUsage(
        input_tokens=300 + n,
        output_tokens=20 + n,
        input_tokens_cache_read=1000 * n,
        total_tokens=300 + n + 20 + n + 1000 * n,
    )
    return call.model_copy(update={"usage": usage})


def test_inspect_task_drives_ramp_mcp_with_the_mock_model(tmp_path: Path) -> None:
    if backend_missing("bwrap") or backend_missing("bwrap", Profile.MINIMAL):
        pytest.skip("bwrap or its root file systems are not ready (bash toolchain/setup.sh)")
    ledger = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    scripted = [
        ModelOutput.for_tool_call(
            "mockllm/model", "write_file", {"path": "build.sh", "content": BUILD_SH}
        ),
        ModelOutput.for_tool_call("mockllm/model", "build", {}),
        ModelOutput.for_tool_call("mockllm/model", "status", {}),
        ModelOutput.from_content("mockllm/model", "T0 is done."),
    ]
    outputs = [_output(call, n) for n, call in enumerate(scripted)]
    model = get_model("mockllm/model", custom_outputs=outputs)

    (log,) = inspect_eval(
        os.path.relpath(TASK),  # this Inspect rejects absolute task paths on Python 3.11
        model=model,
        task_args={"ledger": ledger, "sandbox": "bwrap", "sample": 4},
        log_dir=str(tmp_path / "logs"),
        display="none",
    )
    assert log.status == "success", log.error
    assert log.samples is not None
    (sample,) = log.samples
    score = sample.scores["ramp_score"] if sample.scores else None
    assert score is not None
    metadata = score.metadata or {}
    run_id = metadata["run_id"]
    with Ledger.open(ledger) as opened:
        events = opened.usage_events(run_id)
        workspace = Path(opened.get_run(run_id).workspace)
    try:
        # Inspect's MCP client called our server: the ledger recorded every call.
        calls = [(e.tool, e.outcome) for e in events if e.kind == "tool_call"]
        assert calls == [("write_file", "ok"), ("build", "ok"), ("status", "ok")]
        assert os.access(workspace / "build.sh", os.X_OK)
        # The tool results went back to the model as Inspect tool messages.
        tool_messages = [m for m in sample.messages if m.role == "tool"]
        assert len(tool_messages) == 3 and all(m.error is None for m in tool_messages)

        # The usage Inspect counted for each model call, reported once each.
        tokens = sorted(
            (e.input_tokens, e.cache_read_input_tokens, e.output_tokens)
            for e in events
            if e.kind == "tokens"
        )
        assert tokens == sorted((300 + n + 1000 * n, 1000 * n, 20 + n) for n in range(4))

        # The scorer graded T0 (the open stage) and scored the run.
        assert metadata["stages"]["T0"] == "passed"
        assert metadata["tool_calls"] == 3
        assert score.value == pytest.approx(metadata["rewards"]["pipeline_score"] / 100)
        assert isinstance(score.value, float) and score.value > 0
    finally:
        shutil.rmtree(workspace.parent, ignore_errors=True)
