"""The one way RAMP talks to a Docker engine: a client with a timeout on every call."""

from __future__ import annotations

import docker
import docker.errors
from docker import DockerClient
from requests.exceptions import RequestException

from toolchain._errors import EngineUnavailableError

__all__ = ["DEFAULT_ENGINE_TIMEOUT_S", "SANDBOX_LABEL", "docker_client", "engine_available"]

DEFAULT_ENGINE_TIMEOUT_S = 30.0
# Every container RAMP starts carries this label, so `ramp sandbox gc` can find leftovers.
SANDBOX_LABEL = "io.ramp.sandbox"


def docker_client(timeout_s: float = DEFAULT_ENGINE_TIMEOUT_S) -> DockerClient:
    """A client for the engine in ``$DOCKER_HOST`` (or the local socket), checked by ping."""
    try:
        client = docker.from_env(version="auto", timeout=int(max(1, timeout_s)))
        client.ping()
    except (docker.errors.DockerException, RequestException, OSError) as exc:
        raise EngineUnavailableError(
            "no Docker engine answered "
            f"({exc}); start one (`dockerd &` as root, or `systemctl start docker`) "
            "or use the bwrap backend (`--sandbox bwrap`)"
        ) from exc
    return client


def engine_available(timeout_s: float = 5.0) -> bool:
    try:
        docker_client(timeout_s).close()
    except EngineUnavailableError:
        return False
    return True
