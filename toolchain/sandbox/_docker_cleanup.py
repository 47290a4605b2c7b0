"""What must not outlive a docker sandbox command or its container, and how it goes.

Why a module of its own: the sweeps here are what makes "nothing a command started
survives it" true on the docker backend (the container itself lives on between commands),
and ``gc_containers`` removes the containers of RAMP processes that died without closing
their sandboxes.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import docker.errors
from docker import DockerClient
from pydantic import BaseModel

from toolchain._engine import SANDBOX_LABEL, docker_client
from toolchain._lifecycle import pid_alive
from toolchain.sandbox._cgroup import CgroupView, ExecCgroup
from toolchain.sandbox._docker_lifecycle import ENGINE_ERRORS, OWNER_LABEL, engine_error
from toolchain.sandbox._supervise import SUPERVISION

__all__ = [
    "EXEC_CGROUP_PREFIX",
    "gc_containers",
    "kill_where",
    "remove_exec_cgroups",
    "session_of",
]

_log = logging.getLogger(__name__)

EXEC_CGROUP_PREFIX = "ramp-exec-"


class _OwnerLabels(BaseModel):
    """The RAMP labels `gc_containers` reads from a container."""

    name: str
    owner_pid: int | None


def session_of(pid: int) -> int | None:
    """The session id of host process ``pid``, None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    try:
        return int(fields[3])
    except (IndexError, ValueError):
        return None


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError as exc:
        if exc.errno != errno.ESRCH:
            raise


def kill_where(
    view: CgroupView, spared: frozenset[int], selected: Callable[[int], bool], where: str
) -> None:
    """SIGKILL the container's processes (but ``spared``) matching ``selected`` until none
    are left; ``where`` names the sandbox in the log."""
    end = time.monotonic() + SUPERVISION.kill_deadline_s
    while True:
        victims = [p for p in view.pids() if p not in spared and selected(p)]
        if not victims:
            return
        if time.monotonic() > end:
            _log.warning("processes %s in sandbox %s survive SIGKILL", victims, where)
            return
        for pid in victims:
            _kill(pid)
        time.sleep(0.005)


def remove_exec_cgroups(view: CgroupView) -> None:
    """Kill and remove per-command groups left under a container's groups."""
    for directory in set(view.dirs.values()):
        with contextlib.suppress(OSError):
            for child in directory.iterdir():
                if child.is_dir() and child.name.startswith(EXEC_CGROUP_PREFIX):
                    leftover = ExecCgroup(
                        {k: d / child.name for k, d in view.dirs.items()}, view.version
                    )
                    with contextlib.suppress(OSError):
                        leftover.kill_all(deadline_s=SUPERVISION.kill_deadline_s)
                    leftover.remove()


def gc_containers(client: DockerClient | None = None, *, all_owners: bool = False) -> list[str]:
    """Remove RAMP sandbox containers whose owning process is gone (or all); their names."""
    owned = client is None
    engine = client or docker_client()
    try:
        try:
            found = engine.api.containers(all=True, filters={"label": SANDBOX_LABEL})
        except ENGINE_ERRORS as exc:
            raise engine_error("listing RAMP sandbox containers", exc) from exc
        return [name for entry in found if (name := _collect(engine, entry, all_owners))]
    finally:
        if owned:
            with contextlib.suppress(*ENGINE_ERRORS):
                engine.close()


def _collect(engine: DockerClient, entry: dict[str, object], all_owners: bool) -> str | None:
    """Remove one listed container unless its owner still runs; its name when removed."""
    raw_labels = entry.get("Labels")
    labels: dict[str, str] = raw_labels if isinstance(raw_labels, dict) else {}
    owner = labels.get(OWNER_LABEL, "")
    container_id = str(entry["Id"])
    names = entry.get("Names")
    facts = _OwnerLabels(
        name=(names if isinstance(names, list) and names else [container_id[:12]])[0].lstrip("/"),
        owner_pid=int(owner) if owner.isdigit() else None,
    )
    if not all_owners and facts.owner_pid is not None and pid_alive(facts.owner_pid):
        return None
    _clear_container_cgroups(engine, container_id)
    try:
        engine.api.remove_container(container_id, force=True)
    except docker.errors.NotFound:
        return None
    except ENGINE_ERRORS as exc:
        raise engine_error(f"removing container {facts.name}", exc) from exc
    return facts.name


def _clear_container_cgroups(client: DockerClient, container_id: str) -> None:
    """Per-command groups would keep the engine from removing the container's own groups."""
    try:
        pid = int(client.api.inspect_container(container_id)["State"].get("Pid") or 0)
    except ENGINE_ERRORS:
        return
    view = CgroupView.of_pid(pid) if pid > 0 else None
    if view is not None and any(container_id in str(d) for d in view.dirs.values()):
        remove_exec_cgroups(view)
