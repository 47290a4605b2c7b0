"""Metrics and reports on runs made by the real stage machine (bwrap sandboxes, a SQLite
ledger), with tool calls recorded as the MCP server records them and token usage imported
from a Claude Code transcript by the real importer; the HTML page opened in headless
Chromium with no network."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest

from golden import CaseKind, Split, Stage, build_golden, builtin_corpus
from grader._machine import StageMachine
from grader.ledger import Ledger, UsageEvent
from grader.report import (
    FORMATS,
    render_document,
    report_document,
    report_schema,
    runs_metrics,
)
from grader.usage import import_claude_code, load_pricing
from tests.grader.oracle import write_oracle
from tests.grader.report.factory import TokenReport, ToolCall, make_run
from tests.support import backend_missing
from toolchain._manifest import Profile

BACKEND = "bwrap"
MODEL = "claude-report-test"
PRICES = f"""
version = "report-test"
[models."{MODEL}"]
provider = "anthropic"
input = 3.00
cached_input = 0.30
cache_write = 3.75
output = 15.00
"""
# The transcript below, deduplicated: msg_1 (output 5 on its first line, 50 on its last) and
# msg_2. OTel input = uncached + cache reads + cache writes.
TOKENS_INPUT = (100 + 0 + 1000) + (20 + 1000 + 0)
TOKENS_OUTPUT = 50 + 80
TOKENS_TOTAL = TOKENS_INPUT + TOKENS_OUTPUT + 0 + 1000  # paper: + reasoning + cache reads
COST = (120 * 3.00 + 1000 * 0.30 + 1000 * 3.75 + 130 * 15.00) / 1e6


@dataclass(frozen=True)
class MachineRuns:
    ledger: Ledger
    machine: StageMachine
    full: str
    partial: str
    synthetic: str
    tool_stages: dict[str, list[str]]
    pricing_path: Path


def _graded_cases() -> list:  # type: ignore[type-arg]
    # One stand-in for the hidden set keeps ten real gradings quick.
    return [
        c for c in builtin_corpus() if c.split is Split.HIDDEN and c.kind is CaseKind.FUNCTIONAL
    ][:1]


def _tool_call(ledger: Ledger, run_id: str, tool: str, outcome: str = "ok") -> None:
    # What ramp_mcp's UsageMiddleware stores for one tools/call.
    ledger.add_usage_events(
        [
            UsageEvent(
                run_id=run_id,
                kind="tool_call",
                source="mcp",
                tool=tool,
                arguments_bytes=40,
                result_bytes=200,
                duration_s=0.002,
                outcome=outcome,
            )
        ]
    )


def _assistant(message_id: str, at: datetime, usage: dict[str, int]) -> str:
    return json.dumps(
        {
            "type": "assistant",
            "uuid": f"u-{message_id}-{usage['output_tokens']}",
            "sessionId": "session-1",
            "timestamp": at.isoformat().replace("+00:00", "Z"),
            "requestId": f"req-{message_id}",
            "message": {
                "id": message_id,
                "model": MODEL,
                "role": "assistant",
                "content": [{"type": "text", "text": "working"}],
                "usage": usage,
            },
        }
    )


@pytest.fixture(scope="module")
def runs() -> Iterator[MachineRuns]:
    if backend_missing(BACKEND) or backend_missing(BACKEND, Profile.MINIMAL):
        pytest.skip("bwrap not ready")
    base = Path(tempfile.mkdtemp(prefix="ramp-test-report-", dir="/tmp"))
    base.chmod(0o755)
    cases = _graded_cases()
    golden = build_golden(cases, backend=BACKEND)
    sources = {c.name: c.source for c in cases}
    pricing_path = base / "prices.toml"
    pricing_path.write_text(PRICES)
    with Ledger.open(f"sqlite:///{base / 'ledger.sqlite3'}") as ledger:
        machine = StageMachine(ledger, cases=cases, runs_root=base / "runs")
        tool_stages: dict[str, list[str]] = {}

        full = machine.create_run(agent="oracle", model=MODEL, harness="test", sandbox=BACKEND)
        write_oracle(Path(full.workspace), golden.cases, sources)
        transcript: list[str] = []
        for stage in Stage:
            _tool_call(ledger, full.id, "write_file")
            tool_stages.setdefault(full.id, []).append(stage.value)
            now = datetime.now(UTC)
            if stage is Stage.T0:
                # One response written as two lines (output grows); cache write on the first.
                first = {
                    "input_tokens": 100,
                    "cache_creation_input_tokens": 1000,
                    "cache_read_input_tokens": 0,
                }
                transcript.append(_assistant("msg_1", now, {**first, "output_tokens": 5}))
                transcript.append(_assistant("msg_1", now, {**first, "output_tokens": 50}))
            if stage is Stage.T3:
                transcript.append(
                    _assistant(
                        "msg_2",
                        now,
                        {
                            "input_tokens": 20,
                            "output_tokens": 80,
                            "cache_creation_input_tokens": 0,
                            "cache_read_input_tokens": 1000,
                        },
                    )
                )
            assert machine.submit(full.id, stage).passed
        (base / "transcript.jsonl").write_text("\n".join(transcript) + "\n")
        report = import_claude_code(ledger, full.id, base / "transcript.jsonl")
        assert report.ok, report.problems

        partial = machine.create_run(agent="oracle", model="no-usage", sandbox=BACKEND)
        write_oracle(
            Path(partial.workspace), golden.cases, sources, stages=(Stage.T0, Stage.T1, Stage.T3)
        )
        for stage in (Stage.T0, Stage.T1, Stage.T2, Stage.T3):
            _tool_call(ledger, partial.id, "build", outcome="error" if stage is Stage.T2 else "ok")
            tool_stages.setdefault(partial.id, []).append(stage.value)
            machine.submit(partial.id, stage)

        synthetic = make_run(
            ledger,
            agent="synthetic",
            model="m",
            scores=[100, 100, 100, 20],
            tool_calls=[ToolCall(end_s=5)],
            tokens=[TokenReport(at_s=9, cost_usd=0.05)],
        )
        yield MachineRuns(
            ledger, machine, full.id, partial.id, synthetic, tool_stages, pricing_path
        )
    shutil.rmtree(base, ignore_errors=True)


def test_stage_table_and_rewards_match_the_stage_machine(runs: MachineRuns) -> None:
    pricing = load_pricing(runs.pricing_path)
    for run_id, metrics in zip(
        (runs.full, runs.partial),
        runs_metrics(runs.ledger, [runs.full, runs.partial], pricing=pricing),
        strict=True,
    ):
        status = runs.machine.status(run_id)
        assert [
            (s.stage, s.state, s.attempts, s.chained_score, s.isolated_score)
            for s in metrics.stages
        ] == [
            (v.stage.value, v.state, v.attempts_used, v.chained_score, v.isolated_score)
            for v in status.stages
        ]
        assert round(metrics.rewards.mean_reward, 4) == status.rewards.mean_reward
        assert metrics.rewards.tier == status.rewards.tier
        assert round(metrics.rewards.pass_score, 4) == status.rewards.pass_score
        submissions = [e for e in metrics.timeline if e.kind == "submission"]
        assert [e.stage for e in submissions] == [s.stage for s in metrics.stages if s.attempts]
        tools = [e for e in metrics.timeline if e.kind == "tool_call"]
        assert [e.stage for e in tools] == runs.tool_stages[run_id]
        elapsed = metrics.elapsed
        assert elapsed.first_event_at is not None and elapsed.last_event_at is not None
        assert elapsed.first_event_at == min(e.at for e in metrics.timeline)
        assert elapsed.elapsed_s == pytest.approx(
            (elapsed.last_event_at - elapsed.first_event_at).total_seconds()
        )
    full, partial = runs_metrics(runs.ledger, [runs.full, runs.partial], pricing=pricing)
    assert (full.funnel.reached, full.funnel.passed, full.funnel.resurrected) == (6, 6, 0)
    assert full.rewards.tier == 5 and full.run.status == "finished"
    assert (partial.funnel.reached, partial.funnel.passed, partial.funnel.resurrected) == (5, 3, 1)
    assert [s.stage for s in partial.stages if s.resurrected] == ["T2"]
    assert partial.stages[3].affected and partial.stages[3].isolated_score == 100.0
    assert partial.diagnosis is not None and full.diagnosis is not None
    assert full.diagnosis.hard_stop is None and full.diagnosis.stages == []
    assert [f.stage for f in partial.diagnosis.stages if f.stage == "T2"] == ["T2"]
    assert all(f.evidence for f in partial.diagnosis.stages)


def test_imported_usage_prices_and_feeds_the_aei(runs: MachineRuns) -> None:
    pricing = load_pricing(runs.pricing_path)
    full, partial = runs_metrics(runs.ledger, [runs.full, runs.partial], pricing=pricing)
    tokens = full.usage.tokens
    assert (tokens.reports, tokens.input, tokens.output, tokens.cache_read, tokens.cache_write) == (
        2,
        TOKENS_INPUT,
        TOKENS_OUTPUT,
        1000,
        1000,
    )
    assert tokens.total == TOKENS_TOTAL
    assert full.usage.cost_usd == pytest.approx(COST)
    assert full.usage.cost_source == "priced"
    assert full.usage.tool_calls.count == 6
    assert full.aei.inputs is not None and full.aei.inputs.total_tokens == TOKENS_TOTAL
    assert full.aei.inputs.cost_usd == pytest.approx(COST)
    assert full.aei.stable is not None and full.aei.cohort is not None
    # No token usage for the partial run: no AEI, and it is not in anyone's cohort.
    assert partial.aei.missing == ["cost_usd", "total_tokens"] and partial.aei.cohort is None
    assert runs.partial not in full.aei.cohort_runs
    assert set(full.aei.cohort_runs) == {runs.full, runs.synthetic}
    assert partial.usage.tool_calls.errors == 1


def test_every_format_renders_and_the_json_validates(runs: MachineRuns) -> None:
    document = report_document(
        runs.ledger,
        [runs.full, runs.partial, runs.synthetic],
        pricing=load_pricing(runs.pricing_path),
    )
    for output_format in FORMATS:
        text = render_document(document, output_format)
        assert runs.full in text and runs.partial in text, output_format
    payload = json.loads(render_document(document, "json"))
    jsonschema.Draft202012Validator(report_schema()).validate(payload)
    assert "(source: priced)" in render_document(document, "term")


class _Marks(HTMLParser):
    """Collects the SVG marks the chart script drew, by chart."""

    def __init__(self) -> None:
        super().__init__()
        self.chart: list[str] = []
        self.depth: list[int] = []
        self.marks: dict[str, list[dict[str, str | None]]] = {}
        self.svgs = 0
        self.rendered: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "body":
            self.rendered = found.get("data-charts-rendered")
        if tag == "figure" and found.get("data-chart"):
            self.chart.append(found["data-chart"] or "")
        if tag == "svg":
            self.svgs += 1
        if "data-mark" in found and self.chart:
            self.marks.setdefault(self.chart[-1], []).append(found)

    def handle_endtag(self, tag: str) -> None:
        if tag == "figure" and self.chart:
            self.chart.pop()


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _offline(argv: list[str]) -> list[str]:
    """Run ``argv`` in a new, empty network namespace: no interface but a downed loopback."""
    return ["unshare", "--net", "--", *argv]


def test_html_renders_its_charts_in_headless_chromium_without_network(
    runs: MachineRuns, tmp_path: Path
) -> None:
    browser = _chromium()
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("a network namespace needs root and unshare(1)")
    document = report_document(
        runs.ledger,
        [runs.full, runs.partial, runs.synthetic],
        pricing=load_pricing(runs.pricing_path),
    )
    page = tmp_path / "report.html"
    page.write_text(render_document(document, "html"), encoding="utf-8")
    base = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    dumped = subprocess.run(
        _offline([*base, "--dump-dom", page.as_uri()]),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    marks = _Marks()
    marks.feed(dumped.stdout)
    charts = 2 + 2 * 3  # funnel and scatter, then scores and timeline per run
    assert marks.rendered == str(charts) and marks.svgs == charts
    funnel = {(m["data-mark"], m["data-stage"]): m["data-value"] for m in marks.marks["funnel"]}
    # Three runs: all reached T0..T3; T2 passed by two, resurrected in one (partial).
    assert funnel[("funnel-reached", "T0")] == "3"
    assert funnel[("funnel-passed", "T2")] == "2"
    assert funnel[("funnel-resurrected", "T2")] == "1"
    assert funnel[("funnel-passed", "T5")] == "1"
    scatter = {m["data-run"]: m for m in marks.marks["scatter"]}
    assert set(scatter) == {runs.full, runs.synthetic}  # the partial run has no cost
    assert float(scatter[runs.synthetic]["data-cost"] or 0) == pytest.approx(0.05)
    chained = [m for m in marks.marks["scores"] if m["data-mark"] == "chained"]
    assert len(chained) == 6 + 4 + 4  # graded stages of the three runs
    timeline = [m for m in marks.marks["timeline"] if m["data-mark"] == "submission"]
    assert len(timeline) == 6 + 4 + 4
    assert [
        m["data-stage"] for m in marks.marks["timeline"] if m["data-mark"] == "resurrection"
    ] == ["T2", "T3"]
    shot = tmp_path / "report.png"
    subprocess.run(
        _offline([*base, "--window-size=1280,2400", f"--screenshot={shot}", page.as_uri()]),
        capture_output=True,
        timeout=120,
        check=True,
    )
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 50_000
    keep = os.environ.get("RAMP_REPORT_SCREENSHOT")
    if keep:  # to look at it: RAMP_REPORT_SCREENSHOT=/tmp/report.png pytest ...
        shutil.copyfile(shot, keep)
        shutil.copyfile(page, re.sub(r"\.png$", ".html", keep))
