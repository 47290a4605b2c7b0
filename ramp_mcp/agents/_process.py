"""Running an agent process under a wall-clock limit, and ending all of it at the limit.

The agent starts in a session (and process group) of its own, so the MCP server it starts
over stdio and anything else it spawns can be ended together: SIGTERM to the group, a grace
period for the server to close its sandboxes, then SIGKILL to whatever is left.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, Field

from ramp_mcp.agents._errors import AgentLaunchError
from ramp_mcp.agents._launchers import LaunchPlan

__all__ = ["AgentExit", "run_agent_process"]

_GRACE_S = 10.0
_POLL_S = 5.0


class AgentExit(BaseModel):
    """How the agent process ended."""

    exit_code: int | None = Field(
        description="the process's exit status; negative: killed by that signal"
    )
    timed_out: bool = Field(description="it was still running at the time limit and was ended")
    interrupted: bool = Field(description="RAMP was interrupted (Ctrl-C) and ended it")
    duration_s: float
    stdout_log: Path
    stderr_log: Path


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _gone(process: subprocess.Popen[bytes], pgid: int, within_s: float) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if process.poll() is not None and not _group_alive(pgid):
            return True
        time.sleep(0.1)
    return False


def _end_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the agent's process group, SIGKILL what is left after the grace period."""
    pgid = process.pid
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            break
        if _gone(process, pgid, _GRACE_S):
            break
    if process.poll() is None:
        process.kill()
        process.wait()


def run_agent_process(
    plan: LaunchPlan, *, time_left: Callable[[], float | None], logs: Path
) -> AgentExit:
    """Start ``plan`` with its output in ``logs/agent.stdout`` and ``logs/agent.stderr``,
    wait until it ends or ``time_left()`` (seconds, None: no limit) reaches 0, and end its
    whole process group either way.

    ``time_left`` is asked again every few seconds, so a budget kept elsewhere (the
    ledger's) is followed as it stands, not as it stood at the start.
    """
    logs.mkdir(parents=True, exist_ok=True)
    stdout_log, stderr_log = logs / "agent.stdout", logs / "agent.stderr"
    env = {**os.environ, **plan.env}
    started = time.monotonic()
    try:
        with stdout_log.open("wb") as out, stderr_log.open("wb") as err:
            process = subprocess.Popen(
                plan.argv,
                cwd=plan.cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
    except OSError as exc:
        raise AgentLaunchError(f"cannot start {plan.argv[0]}: {exc}") from exc
    timed_out = interrupted = False
    try:
        while process.poll() is None:
            left = time_left()
            if left is not None and left <= 0:
                timed_out = True
                break
            try:
                process.wait(timeout=_POLL_S if left is None else min(left, _POLL_S))
            except subprocess.TimeoutExpired:
                continue
    except KeyboardInterrupt:
        interrupted = True
    finally:
        # Even after a clean exit: a child the agent left behind (a server it started)
        # must not outlive the run.
        if _group_alive(process.pid) or process.poll() is None:
            _end_group(process)
    code = process.returncode
    return AgentExit(
        exit_code=code,
        timed_out=timed_out,
        interrupted=interrupted,
        duration_s=round(time.monotonic() - started, 3),
        stdout_log=stdout_log,
        stderr_log=stderr_log,
    )
