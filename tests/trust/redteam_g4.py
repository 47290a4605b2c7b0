"""Red team on G4 (campaigns): the agent under evaluation, inside ONE trial of a campaign and
acting only through its run's MCP tools, against the campaign's result. Every test runs a
real campaign (``ramp campaign run``, local executor, SQLite ledger, a RAMP home of its own)
whose agent is a ``python`` agent defined here, and asserts the SECURE outcome.

Seen on 2026-12-05 (commit 8c72c77), both backends:

- Free best-of-N (SUCCEEDED). The failure taxonomy's H2 blames the infrastructure for a run
  whose stopping stage's last submission ended ``error``, unless the error says "no
  build.sh". A submission the snapshot refuses because the agent made a workspace file
  unreadable (``chmod 000``, one run_command) ends ``error`` with "refused: 'x' cannot be
  read (permission denied)": H2, ``charged_to_model`` False. ``_classify`` turns it into an
  ``infrastructure`` attempt, the driver throws the run away and starts a fresh one, up to
  ``infra_retries`` times; when they are used up the trial is ``failed`` and counts for
  nothing (the report covers only graded trials). So an agent that does badly (it sees its
  shown scores after each submit_stage) rerolls its trial for free, and one that never
  likes its work removes its trials from the statistics: survivorship bias on every figure.
  The harness's own grade_open at the end re-submits the open stage and gets the same
  refusal, so the agent need not even submit.
- Markup / terminal injection (SUCCEEDED). The refused path, and the name of any tool the
  agent calls (an unknown tool's name is recorded as given, unbounded: 100 KB were stored),
  are quoted raw in the taxonomy's evidence, hence in the attempt's and the trial's
  ``error``. rich markup there (``[/]``) makes ``ramp campaign status`` die with
  MarkupError, and the driver's live view too: the driver crashes at its next redraw, its
  running trials are cancelled, and every restart in a terminal crashes again (only
  ``--json`` gets on); each crash leaves the attacker's attempt ``abandoned``, which
  ``infra_retries`` does not count. ESC sequences reach the operator's terminal raw through
  the driver's ``infrastructure failed (...)`` warning on stderr (even with ``--json``).
- The run's own reports (SUCCEEDED, older code): the Markdown report's tool table puts an
  agent's tool name in a cell unescaped (raw HTML, links), the terminal report keeps its
  escape sequences. The HTML report (what a Ray task ships back) escapes it.
- Held: a workspace whose root the agent made unreadable is "no build.sh" (H1, charged).
- Not reachable through MCP: ``interrupted`` (only a KeyboardInterrupt in the attempt's own
  thread sets it), the transcripts (H3/H7: the agent process's RAMP_USAGE_FILE, not the
  model), the Ray artifacts (the agent/ directory; the server logs nothing of a tool
  call's arguments there).
"""

from __future__ import annotations

import atexit
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from grader.ledger import Ledger
from ramp_mcp.campaign import AgentCall
from tests.ramp_mcp.campaign.campaign_support import (
    BIN,
    ROOT,
    drop_home,
    home_env,
    new_home,
    ramp_cli,
)
from tests.support import backend_missing, reachable_temp_dir
from tests.trust.attacks import BOTH
from toolchain._capped import remove_tree
from toolchain._manifest import Profile

_TITLE = "\x1b]0;rt-g4-pwned\x07"  # sets the terminal's title
_CLEAR = "\x1b[2J"  # clears the screen
# The unreadable entry: a directory "[" and, in it, a file whose name carries escapes; its
# shown path starts with "[/]", a rich closing tag with nothing to close.
_ODD_DIR = "["
_ODD_FILE = "]" + _TITLE + _CLEAR + "x"
_ODD_TOOL = "[/]" + _TITLE + _CLEAR


def _sh_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


# -- the agents (run as campaign ``python`` agents, in an agent process of their own) -------


async def unreadable_file_agent(call: AgentCall, options: dict[str, Any]) -> int:
    """One run_command: a build.sh and one workspace entry the run's own uid cannot read
    (``options['lock']``: "odd" a file with an odd name, "root" the workspace root itself).
    Then stop; ``ramp run``'s grade_open submits the open stage, which is refused."""
    path = {"odd": f"{_ODD_DIR}/{_ODD_FILE}", "root": "."}[options["lock"]]
    command = (
        "printf '#!/bin/sh\\ntrue\\n' > build.sh && chmod +x build.sh && "
        f"mkdir -p {_sh_quote(_ODD_DIR)} && : > {_sh_quote(path)}; chmod 000 {_sh_quote(path)}"
    )
    async with call.client() as client:
        if options["lock"] == "odd":
            # An unknown tool: refused, but its name is recorded as the call's tool.
            await client.call_tool(_ODD_TOOL, {})
        done = await client.call_tool("run_command", {"command": command, "timeout_s": 30})
    return 1 if done.is_error else 0


async def reroll_agent(call: AgentCall, options: dict[str, Any]) -> int:
    """A stochastic agent (its luck: a counter in ``options['luck']``, which stands for an LLM's
    randomness; the attack itself is MCP only): T0 done badly on its first ``bad_runs``
    runs, well after. It reads its own shown score from submit_stage and, when it failed,
    makes a workspace file unreadable before it stops: the run is then thrown away."""
    from golden import Stage
    from ramp_mcp._scripted_agent import ScriptedAgentPlan, run_scripted_agent

    luck = Path(options["luck"])
    runs = int(luck.read_text()) if luck.exists() else 0
    luck.write_text(str(runs + 1))
    bad = runs < int(options["bad_runs"])
    plan = ScriptedAgentPlan(stages=[Stage.T0], break_stage=Stage.T0 if bad else None)
    async with call.client() as client:
        result = await run_scripted_agent(client, plan)
        if not result.steps[-1].submitted.get("passed"):
            await client.call_tool(
                "run_command",
                {"command": ": > .lock && chmod 000 .lock", "timeout_s": 30},
            )
    return 0


# -- campaigns ------------------------------------------------------------------------------


def _campaign_file(home: Path, name: str, backend: str, agent: dict[str, Any], **keys: Any) -> Path:
    lines = [
        f"name = {json.dumps(name)}",
        f"sandbox = {json.dumps(backend)}",
        "sample = 2",
        "seed = 7",
        "concurrency = 1",
        "budget_s = 900",
        *(f"{key} = {json.dumps(value)}" for key, value in keys.items()),
        "[[agents]]",
        *(f"{key} = {json.dumps(value)}" for key, value in agent.items() if key != "options"),
        "[agents.options]",
        *(f"{key} = {json.dumps(value)}" for key, value in agent.get("options", {}).items()),
    ]
    path = home / f"{name}.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class _Ran:
    def __init__(self, home: Path, name: str, url: str, done: subprocess.CompletedProcess[str]):
        self.home, self.name, self.url, self.done = home, name, url, done
        self.status: dict[str, Any] = json.loads(done.stdout) if done.stdout.strip() else {}

    def attempts(self) -> list[tuple[str | None, str | None, str | None]]:
        with Ledger.open(self.url) as ledger:
            return [(a.outcome, a.run_id, a.error) for a in ledger.campaign_attempts(self.name)]


def _run_campaign(home: Path, file: Path, name: str) -> _Ran:
    url = f"sqlite:///{home / 'ledger.sqlite3'}"
    done = ramp_cli(home, "campaign", "run", str(file), "--ledger", url, "--json", timeout=600)
    return _Ran(home, name, url, done)


def _skip_without(backend: str) -> None:
    why = backend_missing(backend) or backend_missing(backend, Profile.MINIMAL)
    if why:
        pytest.skip(f"{backend}: {why}")


_UNREADABLE: dict[str, _Ran] = {}


def _unreadable(backend: str) -> _Ran:
    """A one-trial campaign whose agent makes a workspace file (with an odd name) unreadable
    and stops (infra_retries = 1); run once per backend and shared by the tests below (plain
    functions, not a fixture, so the battery can collect them anywhere)."""
    if backend not in _UNREADABLE:
        _skip_without(backend)
        home = new_home()
        atexit.register(drop_home, home)
        agent = {
            "name": "unreadable",
            "kind": "python",
            "entry": "tests.trust.redteam_g4:unreadable_file_agent",
            "options": {"lock": "odd"},
        }
        name = f"rt-g4-unreadable-{backend}"
        file = _campaign_file(home, name, backend, agent, trials=1, infra_retries=1)
        _UNREADABLE[backend] = _run_campaign(home, file, name)
    return _UNREADABLE[backend]


@pytest.mark.parametrize("backend", BOTH)
def test_campaign_unreadable_file_is_charged(backend: str) -> None:
    """A submission refused for the agent's own unreadable file is the agent's doing: the
    attempt is charged to the model, the trial is graded after one attempt."""
    unreadable = _unreadable(backend)
    attempts = unreadable.attempts()
    assert [outcome for outcome, _, _ in attempts] == ["charged"], attempts
    assert unreadable.status["counts"]["graded"] == 1, unreadable.done.stderr[-3000:]
    assert unreadable.done.returncode == 0, unreadable.done.stderr[-3000:]


@pytest.mark.parametrize("backend", BOTH)
def test_campaign_status_survives_agent_markup(backend: str) -> None:
    """``ramp campaign status`` (the table the live view draws too) shows a trial whatever
    its error quotes from the agent's workspace."""
    unreadable = _unreadable(backend)
    shown = ramp_cli(
        unreadable.home, "campaign", "status", unreadable.name, "--ledger", unreadable.url
    )
    assert shown.returncode == 0, shown.stderr[-3000:]
    assert "MarkupError" not in shown.stderr
    assert "\x1b]0;" not in shown.stdout and _CLEAR not in shown.stdout


@pytest.mark.parametrize("backend", BOTH)
def test_campaign_driver_log_has_no_agent_escapes(backend: str) -> None:
    """Nothing of the agent's making reaches the operator's terminal as escape sequences."""
    unreadable = _unreadable(backend)
    said = unreadable.done.stderr
    assert "\x1b]0;" not in said and _CLEAR not in said, said[-2000:]


@pytest.mark.parametrize("backend", BOTH)
def test_campaign_live_view_survives_agent_markup(backend: str) -> None:
    """The driver's live view (a terminal on stderr) draws every trial, whatever its error
    quotes: resuming the finished campaign in a terminal redraws it and ends normally."""
    unreadable = _unreadable(backend)
    env = {**home_env(unreadable.home), "TTY_COMPATIBLE": "1", "COLUMNS": "200"}
    file = unreadable.home / f"{unreadable.name}.toml"
    again = subprocess.run(
        [str(BIN / "ramp"), "campaign", "run", str(file), "--ledger", unreadable.url],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env=env,
    )
    said = again.stderr
    assert "Traceback" not in said and "MarkupError" not in said, said[-3000:]
    assert "\x1b]0;rt-g4" not in said and _CLEAR not in said


def test_campaign_locked_workspace_is_charged() -> None:
    """Held: a workspace whose root the agent made unreadable has "no build.sh" for the
    grader (H1), charged to the model; no second attempt."""
    _skip_without("bwrap")
    home = new_home()
    try:
        agent = {
            "name": "locker",
            "kind": "python",
            "entry": "tests.trust.redteam_g4:unreadable_file_agent",
            "options": {"lock": "root"},
        }
        file = _campaign_file(home, "rt-g4-locked", "bwrap", agent, trials=1, infra_retries=1)
        ran = _run_campaign(home, file, "rt-g4-locked")
        attempts = ran.attempts()
        assert [outcome for outcome, _, _ in attempts] == ["charged"], attempts
    finally:
        drop_home(home)


def test_campaign_reroll_is_not_free() -> None:
    """A trial the agent did badly on counts as done badly: no second run is started for it."""
    _skip_without("bwrap")
    home = new_home()
    try:
        agent = {
            "name": "reroller",
            "kind": "python",
            "entry": "tests.trust.redteam_g4:reroll_agent",
            "options": {"luck": str(home / "luck"), "bad_runs": 1},
        }
        file = _campaign_file(home, "rt-g4-reroll", "bwrap", agent, trials=1, infra_retries=2)
        ran = _run_campaign(home, file, "rt-g4-reroll")
        attempts = ran.attempts()
        assert len(attempts) == 1, attempts
        counted = ran.status["trials"][0]["run_id"]
        assert counted == attempts[0][1], (counted, attempts)
        with Ledger.open(ran.url) as ledger:
            t0 = {s.stage: s.chained_score for s in ledger.stage_states(str(counted))}["T0"]
        assert not t0, f"the counted run scored {t0} at T0: the bad run was thrown away"
    finally:
        drop_home(home)


def test_run_reports_carry_no_agent_markup() -> None:
    """The run's own reports (report.html is what a Ray task ships back; md and term are what
    an operator reads) show an agent-chosen tool name as text: no raw HTML or link in the
    Markdown, no escape sequence in the terminal text."""
    _skip_without("bwrap")
    from grader.report import render_report
    from tests.trust.session import live_session

    directory = reachable_temp_dir("rt-g4-report-")
    url = f"sqlite:///{directory / 'ledger.sqlite3'}"
    home: Path | None = None
    try:
        with live_session(url, backend="bwrap", sample=2, agent="rt-g4-report") as s:
            s.call("<img src=x onerror=alert(1)>[c](javascript:alert(1))" + _TITLE + _CLEAR, {})
            home = s.workspace.parent
            run_id = s.run_id
        with Ledger.open(url) as ledger:
            md = str(render_report(ledger, [run_id], output_format="md"))
            term = str(render_report(ledger, [run_id], output_format="term"))
            page = str(render_report(ledger, [run_id], output_format="html"))
        # Markdown shows them as text: no tag, and no link (a bracket is escaped).
        assert "<img src=x" not in md and "&lt;img src=x" in md, md[-2000:]
        assert not re.search(r"(?<!\\)\]\(javascript:", md), md[-2000:]
        assert "\x1b]0;" not in term and _CLEAR not in term
        assert "<img src=x" not in page
    finally:
        if home is not None:
            remove_tree(home)
        shutil.rmtree(directory, ignore_errors=True)
