"""Red team on the G6 refactor (commit 9716b9e, "no behaviour change"): the one ownership
helper, the one supervision loop (``toolchain.sandbox._supervise.watch``) for both
backends, the MCP tools' ``tool_errors`` decorator, ``run_stage`` in the grader and
``status`` as ``catch_up`` then ``view``. Collected by tests/trust/test_attacks.py (rows in
tests/trust/attacks.py). Every test asserts the SECURE outcome; all of them are
attacks that FAILED (the defence held) and guard against a regression.

Seen on 2026-12-05, both backends, through the MCP tools of one run only:

- Held (watch loop): a command that closes its stdout and stderr and sleeps is killed at
  its time limit, and the background child it left (which would write a file later) dies
  with it; a command that exits at once, leaving a ``setsid`` daemon (outputs closed or
  held open), ends at once and the daemon never writes; many children flooding stdout (or
  stderr with stdout closed) end the command at the output cap, in milliseconds, and
  nothing of it runs on; a call the client cancels (its command ignoring SIGTERM, its
  outputs closed, a child in its own session) kills the command at once and nothing it
  started writes afterwards; a command running when submit_stage closes the grading gate
  is killed (even when the submission is then refused for want of build.sh).
- Held (run_stage): a stage program's output that is a symlink to /etc/shadow, a FIFO or
  a directory is not taken; a daemon it leaves cannot change the output it handed in; a
  symlink left in /ramp/findings is reported as tampering and never followed.
- Held (tool_errors): every RampError reaches the agent as its own message, none with a
  host path, a traceback or the server's environment; other exceptions (a pydantic
  ValidationError for run_command's ``cwd='/etc'`` or ``'../..'``) reach the agent as the
  SDK's bare "Error executing tool run_command": no detail leaks, but the agent was not
  told what was wrong either (so before the refactor too). Fixed: ``Sandbox.exec`` turns a
  bad argument into a SandboxError that says which and why.
- Not reachable by the agent: ``hand_over_tree`` walks only trees whose root is still
  root's when a sandbox opens (grading snapshot, chain output and findings directories, the
  judge's trees), where no process of that uid runs; the dev sandbox's writable trees (the
  workspace and mcp-scratch) belong to the run's uid and are skipped.
"""

from __future__ import annotations

import time
import uuid

import anyio
import pytest

from tests.trust.attacks import BOTH
from tests.trust.conftest import Sessions
from tests.trust.session import Session

_LATE_S = 3  # when the leftover process of an attack would write its file


def _late_files(s: Session, tag: str) -> str:
    """The attack's late files that exist, after every leftover had time to write them."""
    time.sleep(_LATE_S + 2)
    return str(s.sh(f"ls {tag}-* 2>/dev/null; true")["stdout"]).strip()


@pytest.mark.parametrize("backend", BOTH)
def test_closed_outputs_killed_at_time_limit(sessions: Sessions, backend: str) -> None:
    s = sessions.box(backend)
    tag = f"late-{uuid.uuid4().hex[:8]}"
    ran = s.sh(
        f"exec >&- 2>&- </dev/null; (sleep {_LATE_S}; echo x > {tag}-a) & sleep 1000",
        timeout_s=2,
    )
    assert ran["outcome"] == "timeout", ran
    assert ran["duration_s"] < 5, ran
    assert _late_files(s, tag) == ""


@pytest.mark.parametrize("backend", BOTH)
def test_leftover_daemon_dies_with_the_command(sessions: Sessions, backend: str) -> None:
    s = sessions.box(backend)
    tag = f"late-{uuid.uuid4().hex[:8]}"
    closed = s.sh(
        f"(exec >/dev/null 2>&1 </dev/null; setsid sh -c 'sleep {_LATE_S}; echo x > {tag}-a' &)",
        timeout_s=30,
    )
    held = s.sh(f"(sleep {_LATE_S}; echo x > {tag}-b; echo out) & exit 0", timeout_s=30)
    for ran in (closed, held):
        assert ran["outcome"] == "ok" and ran["duration_s"] < 3, ran
    assert "out" not in held["stdout"]
    assert _late_files(s, tag) == ""


@pytest.mark.parametrize("backend", BOTH)
def test_output_flood_from_children_stopped(sessions: Sessions, backend: str) -> None:
    s = sessions.box(backend)
    tag = f"late-{uuid.uuid4().hex[:8]}"
    out = s.sh(
        f"for i in 1 2 3 4; do yes AAAAAAAA & done; sleep {_LATE_S}; echo x > {tag}-a",
        timeout_s=60,
    )
    err = s.sh(f"exec >&-; (yes BBBBBBBB >&2 &); sleep {_LATE_S}; echo x > {tag}-b", timeout_s=60)
    for ran in (out, err):
        assert ran["outcome"] == "output-limit", ran
        assert ran["duration_s"] < _LATE_S, ran
    assert _late_files(s, tag) == ""


@pytest.mark.parametrize("backend", BOTH)
def test_cancelled_call_kills_everything(sessions: Sessions, backend: str) -> None:
    s = sessions.box(backend)
    tag = f"late-{uuid.uuid4().hex[:8]}"
    commands = (
        f"exec >&- 2>&-; trap '' TERM INT HUP; (trap '' TERM HUP; sleep {_LATE_S}; "
        f"echo x > {tag}-a) & sleep 50",
        f"(setsid sh -c 'sleep {_LATE_S}; echo x > {tag}-b' &); sleep 50",
    )

    async def cancelled(command: str) -> bool:
        with anyio.move_on_after(1.5) as scope:
            await s.client.call_tool("run_command", {"command": command, "timeout_s": 60})
        return scope.cancelled_caught

    for command in commands:
        assert s.portal.call(cancelled, command)
    assert _late_files(s, tag) == ""


_T0 = r"""#!/bin/sh
out="$2"
case "$(cat "$1")" in
 *SYMLINK*) ln -s /etc/shadow "$out";;
 *FIFO*) mkfifo "$out";;
 *DIR*) mkdir "$out"; ln -s /etc "$out/x";;
 *DAEMON*) echo first > "$out"
   (exec >/dev/null 2>&1; setsid sh -c "sleep 2; echo SWAPPED > '$out'" &);;
 *FINDINGS*) echo ok > "$out"; ln -s /etc/shadow /ramp/findings/toolchain-calls;;
esac
"""


@pytest.mark.parametrize("backend", BOTH)
def test_run_stage_takes_only_a_regular_output(sessions: Sessions, backend: str) -> None:
    s = sessions.box(backend)
    s.ok("write_file", {"path": "bin/t0", "content": _T0})
    s.sh("chmod +x bin/t0")

    def tried(kind: str) -> dict[str, object]:
        return s.ok("run_stage", {"stage": "T0", "input_text": f"int main(){{}} // {kind}"})

    for kind in ("SYMLINK", "FIFO", "DIR"):
        ran = tried(kind)
        assert ran["ok"] is False and ran["output_head"] == "", ran
        assert "wrote no output file" in str(ran["diagnosis"]), ran
    daemon = tried("DAEMON")
    assert daemon["output_head"] == "first\n", daemon
    findings = tried("FINDINGS")
    assert "findings-tamper" in str(findings["diagnosis"]), findings
    assert "root:" not in str(findings)


_BAD_CALLS: tuple[tuple[str, dict[str, object]], ...] = (
    ("read_file", {"path": "../../../etc/passwd"}),
    ("read_file", {"path": "/etc/passwd"}),
    ("list_files", {"path": "../.."}),
    ("run_command", {"command": "true", "cwd": "../.."}),
    ("run_command", {"command": "true", "cwd": "/etc"}),
    ("run_rv64", {"source": "g6-missing.s"}),
    ("run_stage", {"stage": "T0", "case": "../../etc/passwd"}),
    ("run_stage", {"stage": "T3", "case": "x"}),
    ("run_stage", {"stage": "T0", "case": "x", "input_text": "y"}),
    ("submit_stage", {"stage": "T3"}),
    ("delete_path", {"path": "."}),
    ("glob", {"pattern": "/../../**"}),
    ("grep", {"pattern": "(", "path": "."}),
    ("read_file", {"path": "g6-link/etc/shadow"}),
    ("run_rv64", {"source": "g6-shadow"}),
)


@pytest.mark.parametrize("backend", BOTH)
def test_tool_errors_tell_no_server_detail(sessions: Sessions, backend: str) -> None:
    s = sessions.box(backend)
    s.sh("ln -sfn / g6-link; ln -sfn /etc/shadow g6-shadow")
    marker = s.server_env["RAMP_TRUST_MARKER"]
    for tool, arguments in _BAD_CALLS:
        reply = s.call(tool, arguments)
        assert reply.error, (tool, arguments, reply.text)
        for secret in (marker, "/var/lib/ramp", "Traceback", "site-packages", "/work/", "root:"):
            assert secret not in reply.text, (tool, arguments, reply.text)
        if "cwd" in arguments:  # a bad argument is explained, not a bare "Error executing"
            assert "must be a path inside the workspace" in reply.text, reply.text
