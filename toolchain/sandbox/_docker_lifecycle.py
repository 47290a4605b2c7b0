"""The docker sandbox's container: its image, its locked-down options, starting it, seeing it.

Why a module of its own: what a container is allowed (read-only, offline, no
capabilities, capped memory, processes and CPUs, noexec scratch under an exec policy) is
the sandbox's security boundary, and reads best in one place apart from running commands
in it (:mod:`toolchain.sandbox._docker_exec`) and sweeping what is left
(:mod:`toolchain.sandbox._docker_cleanup`).
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker.errors
from docker import DockerClient
from docker.types import Ulimit
from pydantic import BaseModel, ConfigDict
from requests.exceptions import RequestException

from toolchain._engine import SANDBOX_LABEL
from toolchain._errors import ImageMissingError, SandboxError
from toolchain._image import WORKSPACE_MOUNT, find_image, image_tag
from toolchain.sandbox._cgroup import CgroupView, cgroups_usable
from toolchain.sandbox._models import SandboxSpec

__all__ = [
    "BASE_ENV",
    "ENGINE_ERRORS",
    "MIB",
    "OWNER_LABEL",
    "PROFILE_LABEL",
    "ContainerFacts",
    "HostView",
    "create_options",
    "discard",
    "engine_error",
    "host_view",
    "lost_view",
    "require_image",
    "run_container",
]

OWNER_LABEL = "io.ramp.owner-pid"
PROFILE_LABEL = "io.ramp.profile"
BASE_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": WORKSPACE_MOUNT,
    "LANG": "C.UTF-8",
    "TMPDIR": "/tmp",
}
MIB = 1024 * 1024
ENGINE_ERRORS = (docker.errors.DockerException, RequestException, OSError)
_HOST_BLOCK_DEVICES = "/sys/devices/virtual/block"
_SETTLE_S = 5.0


class ContainerFacts(BaseModel):
    """What the engine told us about the sandbox container once it ran."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    image_tag: str
    init_pid: int


@dataclass(frozen=True)
class HostView:
    """What this host sees of the container: its control groups (None: a remote engine,
    whose pids mean nothing here and are never signalled), the processes that belong to the
    container itself (never killed by a sweep), and a note for ``describe``."""

    cgroups: CgroupView | None
    base_pids: frozenset[int]
    note: str


def engine_error(what: str, exc: BaseException) -> SandboxError:
    return SandboxError(f"{what} failed: {exc}")


def require_image(client: DockerClient, spec: SandboxSpec) -> str:
    """The tag of the profile's sandbox image, which must be in the engine."""
    tag = image_tag(spec.profile)
    try:
        image_id = find_image(spec.profile, client)
    except ENGINE_ERRORS as exc:
        raise engine_error(f"looking up image {tag}", exc) from exc
    if image_id is None:
        raise ImageMissingError(
            f"the {spec.profile.value} sandbox image {tag} is not in the Docker engine; "
            "run `ramp toolchain image` to build it"
        )
    return tag


def run_container(client: DockerClient, tag: str, options: dict[str, Any]) -> ContainerFacts:
    """Create and start the container; nothing is left behind when it does not run."""
    name = str(options["name"])
    container: Any = None
    try:
        container = client.containers.create(tag, **options)
        container.start()
        container.reload()
        state = container.attrs["State"]
        if not state.get("Running"):
            raise SandboxError(f"container {name} exited at once: {state.get('Error') or state}")
        return ContainerFacts(id=container.id, name=name, image_tag=tag, init_pid=int(state["Pid"]))
    except SandboxError:
        discard(container)
        raise
    except ENGINE_ERRORS as exc:
        discard(container)
        raise engine_error(f"starting sandbox container {name} from {tag}", exc) from exc


def discard(container: Any) -> None:
    if container is None:
        return
    with contextlib.suppress(*ENGINE_ERRORS):
        container.remove(force=True)


def lost_view(error: SandboxError) -> bool:
    """Whether the engine failed to start a container because a noexec view was missing."""
    text = str(error)
    return "noexec-views" in text and "no such file or directory" in text


def create_options(
    client: DockerClient,
    spec: SandboxSpec,
    workspace: Path,
    *,
    name: str,
    user: str,
    views: dict[Path, Path],
) -> dict[str, Any]:
    """Everything the container is created with: the sandbox's boundary."""
    limits = spec.limits
    labels = {
        **spec.labels,
        SANDBOX_LABEL: "1",
        OWNER_LABEL: str(os.getpid()),
        PROFILE_LABEL: spec.profile.value,
    }
    file_size = limits.file_size_mb * MIB
    return {
        "command": ["sleep", "infinity"],
        "name": name,
        "init": True,
        "user": user,
        "network_mode": "none",
        "read_only": True,
        "tmpfs": {
            "/tmp": f"size={spec.tmp_size_mb}m,mode=1777,{_tmp_exec(spec)}",
            # The host's block devices (every run's loop-mounted workspace image, its
            # path and live I/O counters) are not the sandbox's business.
            _HOST_BLOCK_DEVICES: "ro,size=4k,mode=0555,noexec,nosuid,nodev",
        },
        "volumes": _volumes(spec, workspace, views),
        "working_dir": WORKSPACE_MOUNT,
        "environment": [f"{k}={v}" for k, v in BASE_ENV.items()],
        "mem_limit": f"{limits.memory_mb}m",
        "memswap_limit": f"{limits.memory_mb}m",
        "pids_limit": limits.pids,
        "nano_cpus": int(min(limits.cpus, _engine_cpus(client)) * 1e9),
        "security_opt": ["no-new-privileges"],
        "cap_drop": ["ALL"],
        "ulimits": [
            Ulimit(name="fsize", soft=file_size, hard=file_size),
            Ulimit(name="core", soft=0, hard=0),
        ],
        "labels": labels,
        "detach": True,
    }


def _volumes(
    spec: SandboxSpec, workspace: Path, views: dict[Path, Path]
) -> dict[str, dict[str, str]]:
    """The workspace and the spec's mounts, each through its noexec view when it has one."""
    return {
        str(views.get(workspace, workspace)): {
            "bind": WORKSPACE_MOUNT,
            "mode": "rw" if spec.workspace_writable else "ro",
        },
        **{
            str(views.get(mount.source.resolve(), mount.source.resolve())): {
                "bind": mount.target,
                "mode": "rw" if mount.writable else "ro",
            }
            for mount in spec.mounts
        },
    }


def _tmp_exec(spec: SandboxSpec) -> str:
    policy = spec.exec_policy
    return "noexec,nosuid,nodev" if policy is not None and not policy.exec_tmp else "exec"


def _engine_cpus(client: DockerClient) -> float:
    # The engine refuses nano_cpus above its CPU count; the cap is the same either way.
    try:
        return float(client.info().get("NCPU") or os.cpu_count() or 1)
    except ENGINE_ERRORS as exc:
        raise engine_error("asking the Docker engine for its CPU count", exc) from exc


def host_view(facts: ContainerFacts) -> HostView:
    """Find the container's control groups on this host, if the engine is local."""
    view = CgroupView.of_pid(facts.init_pid) if facts.init_pid > 0 else None
    if view is None or not any(facts.id in str(d) for d in view.dirs.values()):
        return HostView(
            None, frozenset(), "no: the engine's processes are not visible on this host"
        )
    end = time.monotonic() + _SETTLE_S
    members = view.pids()
    while len(members) < 2 and time.monotonic() < end:
        time.sleep(0.01)
        members = view.pids()
    if cgroups_usable():
        note = f"yes (cgroup v{view.version})"
    else:
        note = "no: control groups are not writable here (not root?)"
    return HostView(view, frozenset(members), note)
