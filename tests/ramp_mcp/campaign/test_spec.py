"""The campaign file: the example parses; each kind of mistake is refused with the file, the
key path and what is wrong; the hash covers what a trial's result depends on, only."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from pydantic import ValidationError

from golden import Stage
from ramp_mcp.campaign import (
    CampaignSpecError,
    PythonAgent,
    ScriptedAgent,
    load_campaign,
    parse_campaign,
)
from ramp_mcp.campaign._scripted import FlakyOptions

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "campaigns" / "scripted.toml"


def _error(document: dict[str, object]) -> str:
    with pytest.raises(CampaignSpecError) as caught:
        parse_campaign(document, source="c.toml")
    return str(caught.value)


def test_the_example_is_the_reference_against_an_agent_that_breaks_t2() -> None:
    spec = load_campaign(EXAMPLE)
    assert (spec.name, spec.trials, spec.sample, spec.sandbox) == ("scripted", 3, 4, "bwrap")
    reference, weak = spec.agents
    assert isinstance(reference, ScriptedAgent) and isinstance(weak, ScriptedAgent)
    assert (reference.break_stage, weak.break_stage) == (None, Stage.T2)
    assert spec.executor.kind == "local"


def test_mistakes_are_named_by_key_path_with_what_is_wrong() -> None:
    text = _error(
        {
            "name": "c",
            "trails": 3,
            "agents": [
                {"name": "a", "kind": "scripted", "break_stage": "T9"},
                {"name": "b", "kind": "command"},
                {"name": "c", "kind": "gpt"},
                {"name": "d", "kind": "python", "entry": "no colon"},
            ],
        }
    )
    assert text.startswith("c.toml is not a valid campaign file:")
    assert "  trails: is not a key of a campaign file" in text
    assert "  agents[0].break_stage: Input should be 'T0'" in text
    assert "  agents[1].command: is required" in text
    assert "  agents[2]: kind must be one of claude-code, codex, command, python, scripted" in text
    assert "  agents[3].entry: String should match pattern" in text
    assert "fix these keys" in text


def test_rules_across_keys_are_checked() -> None:
    twice = _error({"name": "c", "agents": [{"name": "a", "kind": "codex"}] * 2})
    assert "agents[].name must be unique; repeated: a" in twice
    local_address = _error(
        {
            "name": "c",
            "agents": [{"name": "a", "kind": "codex"}],
            "executor": {"address": "auto"},
        }
    )
    assert 'executor: address is for kind = "ray"' in local_address
    scripted_args = _error(
        {"name": "c", "agents": [{"name": "a", "kind": "scripted", "extra_args": ["-x"]}]}
    )
    assert "agents[0].extra_args: is not a key" in scripted_args
    assert "trials: Input should be greater than or equal to 1" in _error(
        {"name": "c", "trials": 0, "agents": [{"name": "a", "kind": "codex"}]}
    )


def test_unreadable_and_malformed_files_say_so(tmp_path: Path) -> None:
    with pytest.raises(CampaignSpecError, match=r"cannot read the campaign file .*nope\.toml"):
        load_campaign(tmp_path / "nope.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text('name = "c"\nagents = [\n', encoding="utf-8")
    with pytest.raises(CampaignSpecError, match=r"broken\.toml is not valid TOML: .*line"):
        load_campaign(broken)


def test_the_hash_ignores_how_and_where_but_not_what() -> None:
    base = {"name": "c", "agents": [{"name": "a", "kind": "scripted"}], "sample": 4}
    spec = parse_campaign(base, source="c.toml")
    elsewhere = parse_campaign(
        {**base, "concurrency": 8, "infra_retries": 5, "ledger": "sqlite:////x"}, source="c"
    )
    assert spec.spec_hash() == elsewhere.spec_hash()
    assert spec.spec_hash() != parse_campaign({**base, "sample": 5}, source="c").spec_hash()
    weaker = {**base, "agents": [{"name": "a", "kind": "scripted", "break_stage": "T2"}]}
    assert spec.spec_hash() != parse_campaign(weaker, source="c").spec_hash()


@pytest.mark.parametrize(
    "path", sorted((ROOT / "examples" / "campaigns").glob("*.toml")), ids=lambda p: p.name
)
def test_every_example_campaign_loads_and_its_python_agents_import(path: Path) -> None:
    spec = load_campaign(path)
    for agent in spec.agents:
        if isinstance(agent, PythonAgent):
            module, _, function = agent.entry.partition(":")
            assert callable(getattr(importlib.import_module(module), function))


def test_the_flaky_agent_refuses_options_it_does_not_know() -> None:
    assert FlakyOptions.model_validate({"stage": "T3", "chance": 0.5}).stage == Stage.T3
    for wrong in ({"stage": "T3", "chance": 2}, {"stage": "T9", "chance": 0}, {"stage": "T3"}):
        with pytest.raises(ValidationError):
            FlakyOptions.model_validate(wrong)
