"""The Ray executor: every attempt is a Ray task, placed by Ray on a node that offers the
:data:`RAY_RESOURCE` resource (a node with RAMP, its root file systems and a sandbox backend
installed; docs/campaigns.md says how to start one). Ray is the whole engine here: its
scheduler places the tasks, its failure detection reports a lost node (``NodeDiedError``)
or a dead worker, and its object store brings each run's logs, transcripts and report back
to the caller. RAMP adds no queue or worker protocol of its own.

A task is never retried by Ray (``max_retries=0``): a failed task comes back as an
``infrastructure`` result, and the driver decides about a new attempt, so every retry is
recorded in the ledger the trials share (a PostgreSQL every node reaches).
"""

from __future__ import annotations

import io
import logging
import os
import socket
import sys
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ramp_mcp.campaign._errors import CampaignError
from ramp_mcp.campaign._trial import AttemptResult, AttemptTask, run_attempt
from toolchain import ramp_home

if TYPE_CHECKING:
    from ray import ObjectRef

__all__ = ["RAY_RESOURCE", "RayExecutor", "collected_dir"]

_log = logging.getLogger(__name__)

RAY_RESOURCE = "ramp"  # one unit per trial a node can run at once
MAX_ARTIFACTS_BYTES = 256 << 20  # a run's logs, transcripts and report, compressed
_ARTIFACTS = ("agent", "report.html")  # under the run's home


def _pack_artifacts(result: AttemptResult) -> bytes | None:
    """The run's agent logs, transcripts and HTML report as a gzipped tar (links kept as
    links, never followed); None when the attempt made no run or they are too large."""
    if result.artifacts is None:
        return None
    home, buffer = Path(result.artifacts), io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name in _ARTIFACTS:
            if (home / name).exists():
                tar.add(home / name, arcname=name)
    packed = buffer.getvalue()
    if len(packed) > MAX_ARTIFACTS_BYTES:
        _log.warning("run %s: artifacts of %d bytes not sent back", result.run_id, len(packed))
        return None
    return packed


def collected_dir(campaign: str, run_id: str) -> Path:
    """Where the caller keeps the artifacts a Ray task sent back for ``run_id``."""
    return ramp_home() / "campaigns" / campaign / "runs" / run_id


def _unpack(campaign: str, result: AttemptResult, packed: bytes | None) -> AttemptResult:
    """``result`` with its artifacts unpacked on this machine (the ``data`` filter refuses
    absolute paths, links out of the directory and device files)."""
    if packed is None or result.run_id is None:
        return result.model_copy(update={"artifacts": None})
    target = collected_dir(campaign, result.run_id)
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(packed), mode="r:gz") as tar:
        tar.extractall(target, filter="data")
    return result.model_copy(update={"artifacts": str(target)})


def _attempt_on_node(task: AttemptTask) -> tuple[AttemptResult, bytes | None]:
    """What a Ray task runs on its node: the attempt, then its artifacts packed."""
    result = run_attempt(task)
    result = result.model_copy(update={"node": _node_name(result.node)})
    try:
        return result, _pack_artifacts(result)
    except OSError as exc:
        _log.warning("run %s: artifacts not packed: %s", result.run_id, exc)
        return result, None


def _node_name(host: str) -> str:
    """``host`` and the Ray node this task runs on (one host may hold several nodes)."""
    import ray

    return f"{host} (ray node {ray.get_runtime_context().get_node_id()[:12]})"


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise CampaignError(
            f"the Ray executor needs the ray package, which does not import here ({exc}); "
            "install RAMP with bash toolchain/setup.sh (it installs ray), or run the "
            'campaign on this machine (executor.kind = "local")'
        ) from exc
    return ray


def _lost(task: AttemptTask, error: BaseException) -> AttemptResult:
    """An infrastructure result for a task Ray could not finish (node lost, worker died)."""
    return AttemptResult(
        trial_id=task.trial_id,
        attempt_id=task.attempt_id,
        run_id=None,
        outcome="infrastructure",
        error=f"{type(error).__name__}: {_first_line(error)}",
        node="(lost)",
        duration_s=0.0,
    )


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0][:500] if lines else "(no message)"


def _check_reachable(address: str) -> None:
    """Fail at once on a ``HOST:PORT`` nothing answers at (Ray itself would retry for
    minutes); ``auto`` and ``ray://`` addresses are left to Ray."""
    host, _, port = address.rpartition(":")
    if address == "auto" or address.startswith("ray://") or not port.isdigit():
        return
    try:
        socket.create_connection((host, int(port)), timeout=10).close()
    except OSError as exc:
        raise CampaignError(
            f"no Ray cluster answers at {address} ({exc.strerror or exc}): start its head "
            "there (ray start --head --port=PORT, docs/campaigns.md) or give the right "
            "address with --ray"
        ) from exc


class _StdoutToStderr:
    """While Ray runs in this process, file descriptor 1 goes to stderr: Ray prints cluster
    events (a node's death, a worker's error) to standard output from threads of its own,
    which would corrupt a ``--json`` result printed there."""

    def __init__(self) -> None:
        sys.stdout.flush()
        self._saved = os.dup(1)
        os.dup2(2, 1)

    def restore(self) -> None:
        sys.stdout.flush()
        os.dup2(self._saved, 1)
        os.close(self._saved)


class RayExecutor:
    """Attempts as Ray tasks on the cluster at ``address`` ("auto": the one this machine
    belongs to), at most ``concurrency`` at a time."""

    def __init__(self, address: str, concurrency: int) -> None:
        self._ray = _import_ray()
        self._stdout = _StdoutToStderr()
        try:
            self._join(address, concurrency)
        except BaseException:
            self._stdout.restore()
            raise

    def _join(self, address: str, concurrency: int) -> None:
        _check_reachable(address)
        try:
            self._ray.init(
                address=address,
                namespace="ramp",
                log_to_driver=False,
                logging_level=logging.WARNING,
            )
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise CampaignError(
                f"cannot join the Ray cluster at {address!r}: {exc}; start one "
                "(ray start --head, docs/campaigns.md) or give its address with --ray"
            ) from exc
        offered = self._ray.cluster_resources().get(RAY_RESOURCE, 0)
        if offered < 1:
            self._ray.shutdown()
            raise CampaignError(
                f"no node of the Ray cluster at {address!r} offers the resource "
                f"{RAY_RESOURCE!r}, so no trial could be placed: start each node that can run "
                f"trials with ray start --resources '{{\"{RAY_RESOURCE}\": N}}' (N trials at once)"
            )
        self._slots = concurrency
        self._remote = self._ray.remote(_attempt_on_node).options(
            num_cpus=1, resources={RAY_RESOURCE: 1}, max_retries=0, name="ramp-attempt"
        )
        self._refs: dict[ObjectRef[Any], AttemptTask] = {}

    @property
    def slots(self) -> int:
        return self._slots

    def submit(self, task: AttemptTask) -> None:
        self._refs[self._remote.remote(task)] = task

    def finished(self, timeout_s: float) -> list[AttemptResult]:
        if not self._refs:
            return []
        ready, _ = self._ray.wait(list(self._refs), num_returns=1, timeout=timeout_s)
        if ready:  # and whatever else is done by now
            ready, _ = self._ray.wait(list(self._refs), num_returns=len(self._refs), timeout=0)
        return [self._result(ref) for ref in ready]

    def _result(self, ref: ObjectRef[Any]) -> AttemptResult:
        task = self._refs.pop(ref)
        result: AttemptResult
        packed: bytes | None
        try:
            result, packed = self._ray.get(ref)
        except self._ray.exceptions.RayError as exc:
            return _lost(task, exc)
        try:
            return _unpack(task.campaign, result, packed)
        except (OSError, tarfile.TarError) as exc:
            _log.warning("run %s: artifacts not unpacked: %s", result.run_id, exc)
            return result.model_copy(update={"artifacts": None})

    def cancel(self) -> None:
        # Not forced: the task is interrupted and stops its agent, as a local one would.
        for ref in self._refs:
            self._ray.cancel(ref)

    def close(self) -> None:
        try:
            self._ray.shutdown()
        finally:
            self._stdout.restore()
