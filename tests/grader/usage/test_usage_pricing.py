"""The pricing table: shipped, looked up, overridden; reported versus priced cost."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from grader.ledger import Ledger, Run, UsageEvent
from grader.usage import (
    PRICING_ENV,
    SHIPPED_PRICING,
    PricingError,
    UsageRecord,
    load_pricing,
    report_usage,
    run_usage,
)


@pytest.fixture
def run(ledger: Ledger) -> Run:
    return ledger.create_run(
        agent="a", model="m", workspace="/tmp/ws", sandbox="bwrap", golden_key="g"
    )


def test_the_shipped_table_is_versioned_and_covers_current_models() -> None:
    table = load_pricing()
    assert table.version == "2026-11-25" and table.files == (str(SHIPPED_PRICING),)
    for model in (
        "claude-opus-4-7",
        "claude-sonnet-4-5",
        "claude-haiku-4-5",
        "gpt-5.5",
        "gpt-5-codex",
    ):
        assert table.resolve(model) == model
    opus = table.models["claude-opus-4-7"]
    assert (opus.input, opus.cached_input, opus.cache_write, opus.output) == (5.0, 0.5, 6.25, 25.0)
    assert "source" in SHIPPED_PRICING.read_text().lower()  # the comment says where from


@pytest.mark.parametrize(
    ("written", "entry"),
    [
        ("claude-opus-4-7-20260301", "claude-opus-4-7"),
        ("anthropic/claude-opus-4-7", "claude-opus-4-7"),
        ("claude-opus-4-7[1m]", "claude-opus-4-7"),
        ("Claude-Opus-4", "claude-opus-4-0"),
        ("openai/gpt-5.5-2026-04-23", "gpt-5.5"),
        ("gpt-5.5-pro", None),
        ("not-a-model", None),
        (None, None),
    ],
)
def test_model_lookup_rules(written: str | None, entry: str | None) -> None:
    assert load_pricing().resolve(written) == entry


def test_long_context_rates_apply_per_call() -> None:
    table = load_pricing()
    short = table.cost(
        "gpt-5.5",
        input_tokens=272_000,
        cache_read=0,
        cache_write=0,
        output_tokens=1_000,
        reasoning=0,
    )
    long = table.cost(
        "gpt-5.5",
        input_tokens=272_001,
        cache_read=0,
        cache_write=0,
        output_tokens=1_000,
        reasoning=0,
    )
    assert short == pytest.approx((272_000 * 5.0 + 1_000 * 30.0) / 1e6)
    assert long == pytest.approx((272_001 * 10.0 + 1_000 * 45.0) / 1e6)


def test_a_user_file_merges_over_the_shipped_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = tmp_path / "prices.toml"
    mine.write_text(
        'version = "mine-1"\n'
        '[models."claude-opus-4-7"]\noutput = 24.0\n'
        '[models."my-local-model"]\nprovider = "local"\ninput = 0.1\ncached_input = 0.01\n'
        'output = 0.2\naliases = ["local/my-model"]\n'
    )
    table = load_pricing(mine)
    assert table.version == "2026-11-25+mine-1" and table.files[-1] == str(mine)
    opus = table.models["claude-opus-4-7"]
    assert (opus.input, opus.output) == (5.0, 24.0)  # one field changed, the rest kept
    assert table.resolve("local/my-model") == "my-local-model"
    monkeypatch.setenv(PRICING_ENV, str(mine))
    assert load_pricing().version == "2026-11-25+mine-1"
    monkeypatch.delenv(PRICING_ENV)
    assert load_pricing().models["claude-opus-4-7"].output == 25.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[models.x\n", "not valid TOML"),
        ('[models."x"]\ninput = -1\ncached_input = 0\noutput = 1\n', r"models\.x\.input"),
        ('[models."x"]\ninput = 1\n', r"models\.x\.output: Field required"),
        ('[models."claude-opus-4-7"]\noutptu = 3\n', "outptu"),
        ('currency = "EUR"\n', "unknown top-level key"),
    ],
)
def test_a_bad_pricing_file_says_what_and_where(tmp_path: Path, text: str, message: str) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    with pytest.raises(PricingError, match=message):
        load_pricing(bad)
    with pytest.raises(PricingError, match="does not exist"):
        load_pricing(tmp_path / "missing.toml")


def test_cost_sources_reported_priced_mixed_unknown(ledger: Ledger, run: Run) -> None:
    at = datetime(2026, 11, 25, 10, tzinfo=UTC)
    assert run_usage(ledger, run.id).cost_source == "unknown"  # nothing yet
    report_usage(ledger, run.id, UsageRecord(id="p", at=at, model="gpt-5.4", input_tokens=200_000))
    priced = run_usage(ledger, run.id)
    assert priced.cost_usd == pytest.approx(0.5)
    assert priced.cost_source == "priced"
    report_usage(
        ledger, run.id, UsageRecord(id="r", at=at, model="gpt-5.4", input_tokens=10, cost_usd=0.75)
    )
    mixed = run_usage(ledger, run.id)
    assert mixed.cost_usd == pytest.approx(1.25)
    assert mixed.cost_source == "mixed"
    assert mixed.models[0].cost_source == "mixed"
    report_usage(ledger, run.id, UsageRecord(id="u", at=at, model="mystery-9", input_tokens=10))
    unknown = run_usage(ledger, run.id)
    assert (unknown.cost_usd, unknown.cost_source) == (None, "unknown")
    assert (unknown.unpriced_models, unknown.unpriced_reports) == (["mystery-9"], 1)
    assert unknown.cost_priced_usd == pytest.approx(0.5)
    assert unknown.cost_reported_usd == pytest.approx(0.75)


def test_user_prices_complete_the_total(ledger: Ledger, run: Run, tmp_path: Path) -> None:
    at = datetime(2026, 11, 25, 10, tzinfo=UTC)
    report_usage(
        ledger, run.id, UsageRecord(id="u", at=at, model="mystery-9", input_tokens=2_000_000)
    )
    mine = tmp_path / "prices.toml"
    mine.write_text('[models."mystery-9"]\ninput = 1.5\ncached_input = 0.15\noutput = 6.0\n')
    usage = run_usage(ledger, run.id, load_pricing(mine))
    assert usage.cost_usd == pytest.approx(3.0)
    assert (usage.cost_source, usage.unpriced_models) == ("priced", [])
    assert usage.pricing_version == f"2026-11-25+{mine.name}"


def test_tool_calls_are_summed_per_tool(ledger: Ledger, run: Run) -> None:
    # Rows as the MCP server's usage middleware writes them.
    ledger.add_usage_events(
        UsageEvent(
            run_id=run.id,
            kind="tool_call",
            source="mcp",
            tool=tool,
            duration_s=seconds,
            outcome=outcome,
        )
        for tool, seconds, outcome in [
            ("build", 4.5, "ok"),
            ("build", 3.0, "error"),
            ("read_file", 0.01, "ok"),
            ("submit_stage", 90.0, "ok"),
            ("build", 2.5, "ok"),
        ]
    )
    calls = run_usage(ledger, run.id).tool_calls
    assert (calls.count, calls.errors) == (5, 1)
    assert calls.seconds == pytest.approx(100.01)
    assert calls.per_tool["build"].model_dump() == {"count": 3, "seconds": 10.0, "errors": 1}
    assert list(calls.per_tool) == ["build", "read_file", "submit_stage"]
