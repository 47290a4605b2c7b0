"""The docker backend: one long-lived, locked-down container per sandbox, one exec per command.

This class composes three concerns, each a module of its own: the container and its
boundary (:mod:`toolchain.sandbox._docker_lifecycle`), running one command in it
(:mod:`toolchain.sandbox._docker_exec`), and removing what must not outlive a command or a
sandbox (:mod:`toolchain.sandbox._docker_cleanup`). It owns the state they share: the
running commands, under one lock, so a sweep never kills a command still starting.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from pathlib import Path

import docker.errors
from docker import DockerClient

from toolchain._engine import docker_client
from toolchain._errors import SandboxClosedError, SandboxError
from toolchain._image import image_tag
from toolchain.sandbox._backend import SandboxBackend, register_backend
from toolchain.sandbox._cancel import CancelToken, watching
from toolchain.sandbox._docker_cleanup import gc_containers, remove_exec_cgroups
from toolchain.sandbox._docker_exec import ContainerExec, Exec, effective_limits
from toolchain.sandbox._docker_lifecycle import (
    ENGINE_ERRORS,
    OWNER_LABEL,
    PROFILE_LABEL,
    ContainerFacts,
    HostView,
    create_options,
    engine_error,
    host_view,
    lost_view,
    require_image,
    run_container,
)
from toolchain.sandbox._models import ExecRequest, ExecResult, SandboxSpec
from toolchain.sandbox._noexec import NoexecViews
from toolchain.sandbox._supervise import SUPERVISION

__all__ = ["OWNER_LABEL", "PROFILE_LABEL", "DockerBackend", "gc_containers"]

_log = logging.getLogger(__name__)
_NOT_STARTED = HostView(None, frozenset(), "not started")


class DockerBackend(SandboxBackend):
    """Commands run as the spec's uid in a read-only, offline, capability-less container."""

    name = "docker"

    def __init__(self, spec: SandboxSpec, *, client: DockerClient | None = None) -> None:
        self.spec = spec
        self._client = client
        self._owns_client = client is None
        self._facts: ContainerFacts | None = None
        self._host = _NOT_STARTED
        self._commands: ContainerExec | None = None
        self._closed = False
        # Held while an exec is being spawned and while sweeping, so a sweep never sees a
        # process whose exec has not yet been registered as running.
        self._lock = threading.Lock()
        self._running: dict[str, Exec] = {}
        self._disk_roots: list[Path] = []
        self._noexec: NoexecViews | None = None

    # -- lifecycle -----------------------------------------------------------------------

    def start(self, workspace: Path) -> None:
        if self._closed:
            raise SandboxClosedError("this docker sandbox is closed; open a new one")
        if self._facts is not None:
            raise SandboxError("this docker sandbox is already started")
        workspace = workspace.resolve()
        if not workspace.is_dir():
            raise SandboxError(f"workspace {workspace} is not a directory")
        if self._client is None:
            self._client = docker_client()
        client = self._client
        tag = require_image(client, self.spec)
        self._disk_roots = [m.source.resolve() for m in self.spec.mounts if m.writable]
        if self.spec.workspace_writable:
            self._disk_roots.insert(0, workspace)
        try:
            facts = self._start_container(client, tag, workspace)
        except SandboxError as exc:
            if self.spec.exec_policy is None or not lost_view(exc):
                raise
            # A view gone before the engine mounted it (seen under load, cause not pinned
            # down): the sandbox starts again once with fresh views.
            _log.warning("retrying a sandbox whose noexec view was gone: %s", exc)
            facts = self._start_container(client, tag, workspace)
        self._facts = facts
        self._host = host_view(facts)
        self._commands = ContainerExec(
            client,
            facts,
            self._host,
            self.spec,
            disk_roots=self._disk_roots,
            closed=lambda: self._closed,
        )

    def _start_container(self, client: DockerClient, tag: str, workspace: Path) -> ContainerFacts:
        """Create and start the container (with fresh noexec views under an exec policy)."""
        name = f"ramp-sbx-{uuid.uuid4().hex[:12]}"
        views: dict[Path, Path] = {}
        if self.spec.exec_policy is not None:
            # Under an exec policy nothing a command writes may be mapped executable.
            self._noexec = NoexecViews(self._disk_roots)
            views = self._noexec.acquire()
        user = f"{self.spec.uid}:{self.spec.gid}"
        try:
            options = create_options(
                client, self.spec, workspace, name=name, user=user, views=views
            )
            return run_container(client, tag, options)
        except SandboxError:
            self._release_noexec()
            raise

    def _release_noexec(self) -> None:
        if self._noexec is not None:
            self._noexec.release()
            self._noexec = None

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            running = list(self._running.values())
        for item in running:
            if item.cgroup is not None:
                with contextlib.suppress(OSError):
                    item.cgroup.kill_all(deadline_s=SUPERVISION.kill_deadline_s)
        if self._host.cgroups is not None:
            remove_exec_cgroups(self._host.cgroups)
        error = self._remove_container()
        if error is None:
            self._release_noexec()  # the container's binds are gone with it
        if self._owns_client and self._client is not None:
            with contextlib.suppress(*ENGINE_ERRORS):
                self._client.close()
        if error is not None:
            raise error

    def _remove_container(self) -> SandboxError | None:
        """Remove the container; the error to raise once the rest is closed, if any."""
        facts = self._facts
        if facts is None or self._client is None:
            return None
        try:
            self._client.api.remove_container(facts.id, force=True)
        except docker.errors.NotFound:
            pass
        except ENGINE_ERRORS as exc:
            return engine_error(f"removing sandbox container {facts.name}", exc)
        return None

    def describe(self) -> dict[str, str]:
        facts = self._facts
        return {
            "backend": self.name,
            "image": facts.image_tag if facts else image_tag(self.spec.profile),
            "container_id": facts.id if facts else "",
            "container_name": facts.name if facts else "",
            "per_command_cgroups": self._host.note,
            "workspace_writable": str(self.spec.workspace_writable).lower(),
        }

    # -- commands ------------------------------------------------------------------------

    def exec(self, request: ExecRequest, cancel: CancelToken | None = None) -> ExecResult:
        commands = self._require_running()
        limits, capped = effective_limits(self.spec, request.limits)
        item = commands.create(request, limits)
        with self._lock:
            if self._closed:
                raise SandboxClosedError("this docker sandbox is closed; open a new one")
            attached = commands.launch(item)
            self._running[item.exec_id] = item
        try:
            with watching(cancel) as cancelled:
                return commands.run(item, attached, request, limits, capped, cancelled)
        finally:
            with self._lock:
                self._running.pop(item.exec_id, None)
            self._cleanup(commands, item)

    def _require_running(self) -> ContainerExec:
        if self._closed:
            raise SandboxClosedError("this docker sandbox is closed; open a new one")
        if self._commands is None:
            raise SandboxError("the docker sandbox is not started; call start(workspace) first")
        return self._commands

    def _cleanup(self, commands: ContainerExec, item: Exec) -> None:
        """Remove the exec's group and sweep: nothing outlives the command that started it."""
        if item.cgroup is not None:
            with contextlib.suppress(OSError):
                item.cgroup.kill_all(deadline_s=SUPERVISION.kill_deadline_s)
            item.cgroup.remove()
        if self._host.cgroups is None:
            if item.pidfile is not None and not self._closed:
                commands.remote_kill(item.pidfile)
            return
        with self._lock:
            protected = {other.pid for other in self._running.values() if other.pid is not None}
            try:
                commands.sweep(protected)
            except OSError as exc:
                _log.warning("sweeping sandbox %s failed: %s", self._facts, exc)


register_backend("docker", DockerBackend)
