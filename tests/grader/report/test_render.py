"""Every format renders, says the same things, and the JSON validates against the schema."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest

from grader.ledger import Ledger
from grader.report import (
    FORMATS,
    ReportError,
    leaderboard_from_ledger,
    leaderboard_schema,
    render_document,
    render_leaderboard_document,
    report_document,
    report_schema,
)
from tests.grader.report.factory import TokenReport, ToolCall, make_run

LABEL = "tricky | <b>label</b> *x* [/red]"


@pytest.fixture
def two_runs(ledger: Ledger) -> tuple[Ledger, list[str]]:
    first = make_run(
        ledger,
        agent="claude-code",
        model="claude-test",
        label=LABEL,
        scores=[100, 100, 30],
        isolated=[100, 100, 65],
        tool_calls=[ToolCall(end_s=5, tool="write_file"), ToolCall(end_s=65, outcome="error")],
        tokens=[
            TokenReport(
                at_s=10, input_tokens=2000, cache_read=500, output_tokens=300, cost_usd=0.42
            )
        ],
    )
    second = make_run(ledger, agent="codex", model="gpt-test", scores=[100] * 6)
    return ledger, [first, second]


def test_every_format_renders_the_same_figures(two_runs: tuple[Ledger, list[str]]) -> None:
    ledger, runs = two_runs
    document = report_document(ledger, runs)
    for output_format in FORMATS:
        text = render_document(document, output_format)
        assert runs[0] in text and runs[1] in text, output_format
    term = render_document(document, "term")
    for needle in (
        "Stages",
        "chained",
        "isolated",
        "resurrected",
        "Metrics",
        "mean reward",
        "stable AEI",
        "$0.4200 (source: reported)",
        "Failure diagnosis",
        "write_file",
        "funnel: 4 reached, 2 passed, 1 resurrected of 6",
    ):
        assert needle in term, needle
    # Figures: T2's chained 30.00 / isolated 65.00, and the Mean Reward from grader.metrics.
    assert re.search(r"T2\s.*resurrected\s.*30\.00\s.*65\.00", term)
    mean_reward = f"{document.runs[0].rewards.mean_reward:.2f}"
    assert mean_reward in term
    markdown = render_document(document, "md")
    assert "| stage | state | attempts | chained | isolated |" in markdown
    assert "| T2 | resurrected | 1 | 30.00 | 65.00 |" in markdown
    assert mean_reward in markdown
    assert LABEL in term  # shown as written, not taken as rich markup
    assert "tricky \\| &lt;b&gt;label&lt;/b&gt; \\*x\\* \\[/red\\]" in markdown  # escaped
    page = render_document(document, "html")
    assert "<b>label</b>" not in page.split('<script type="application/json"')[0]
    assert "tricky | &lt;b&gt;label&lt;/b&gt; *x* [/red]" in page


def test_json_validates_against_the_documented_schema(two_runs: tuple[Ledger, list[str]]) -> None:
    ledger, runs = two_runs
    payload = json.loads(render_document(report_document(ledger, runs), "json"))
    assert payload["schema_version"] == "1" and len(payload["runs"]) == 2
    jsonschema.Draft202012Validator(report_schema()).validate(payload)
    first = payload["runs"][0]
    assert first["usage"]["cost_usd"] == pytest.approx(0.42)
    assert first["usage"]["cost_source"] == "reported"
    assert [e["kind"] for e in first["timeline"]].count("submission") == 3
    broken = json.loads(json.dumps(payload))
    broken["runs"][0]["stages"][0]["chained_score"] = 101
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(report_schema()).validate(broken)
    board = json.loads(render_leaderboard_document(leaderboard_from_ledger(ledger), "json"))
    jsonschema.Draft202012Validator(leaderboard_schema()).validate(board)


def test_html_is_one_self_contained_file(two_runs: tuple[Ledger, list[str]]) -> None:
    ledger, runs = two_runs
    page = render_document(report_document(ledger, runs), "html")
    assert page.startswith("<!DOCTYPE html>")
    # Nothing to fetch: no src/href attributes, no url(), no @import; the only URL is the
    # SVG namespace name, which is an identifier, not a request.
    assert not re.search(r"\s(src|href)\s*=", page)
    assert "url(" not in page and "@import" not in page
    assert set(re.findall(r"https?://[^\s\"')]+", page)) == {"http://www.w3.org/2000/svg"}
    assert page.count('data-chart="timeline"') == 2 and page.count('data-chart="scores"') == 2
    embedded = re.search(
        r'<script type="application/json" id="ramp-data">(.*?)</script>', page, re.S
    )
    assert embedded is not None
    data = json.loads(embedded.group(1))
    assert [r["run"]["run_id"] for r in data["runs"]] == runs
    assert data["runs"][0]["run"]["label"] == LABEL  # intact after the <-escaping


def test_leaderboard_formats(two_runs: tuple[Ledger, list[str]]) -> None:
    ledger, _ = two_runs
    board = leaderboard_from_ledger(ledger)
    for output_format in FORMATS:
        text = render_leaderboard_document(board, output_format)
        assert "claude-code" in text and "gpt-test" in text, output_format
    assert "| # | agent / model / harness | trials |" in render_leaderboard_document(board, "md")
    assert 'data-chart="leaderboard"' in render_leaderboard_document(board, "html")


def test_an_unknown_format_is_refused(two_runs: tuple[Ledger, list[str]]) -> None:
    ledger, runs = two_runs
    with pytest.raises(ReportError, match="unknown report format 'pdf'; choose one of term"):
        render_document(report_document(ledger, runs), "pdf")
