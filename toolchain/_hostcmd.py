"""Running trusted helper commands on the host (apt, debootstrap, version probes).

This is not a sandbox: only RAMP's own fixed commands go through here.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from pydantic import BaseModel

__all__ = ["HostCommandResult", "run_host_command", "which"]


class HostCommandResult(BaseModel):
    argv: list[str]
    returncode: int | None
    output: str
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


def which(command: str) -> str | None:
    # sbin directories are searched too: dockerd and debootstrap live there and are
    # often missing from a non-login root PATH.
    found = shutil.which(command)
    if found:
        return found
    return shutil.which(command, path="/usr/local/sbin:/usr/sbin:/sbin")


def run_host_command(
    argv: Sequence[str],
    *,
    timeout_s: float,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    log: Path | None = None,
) -> HostCommandResult:
    """Run ``argv`` with stdout+stderr merged; optionally tee the output to ``log``."""
    args = [str(a) for a in argv]
    try:
        completed = subprocess.run(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=timeout_s,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.output.decode(errors="replace") if isinstance(exc.output, bytes) else ""
        result = HostCommandResult(argv=args, returncode=None, output=out, timed_out=True)
    except OSError as exc:
        result = HostCommandResult(argv=args, returncode=127, output=str(exc))
    else:
        result = HostCommandResult(
            argv=args,
            returncode=completed.returncode,
            output=completed.stdout.decode(errors="replace"),
        )
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a", encoding="utf-8") as handle:
            handle.write(f"$ {' '.join(args)}\n{result.output}\n")
    return result
