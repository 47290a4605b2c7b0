"""A real Ray cluster on this machine for the campaign tests: a head node and worker nodes,
each one ``ray start --block`` in a session of its own, so that a node can be lost the way a
machine is lost: every process of it (raylet, workers, the agents and MCP servers its tasks
started, their sandboxes) killed at once with SIGKILL.

The head offers no CPU and no ``ramp`` resource, so trials run only on the worker nodes,
each offering ``ramp: 1`` (one trial at a time).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from tests.support import free_port, processes_with_marker

RAY = Path(sys.executable).parent / "ray"
_STARTED = "Ray runtime started"


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _descendants(roots: list[int]) -> set[int]:
    tree, found, todo = _children(), set(), list(roots)
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(tree.get(pid, []))
    return found


class RayNode:
    """One ``ray start --block`` process and everything it and its tasks start."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], logs: Path) -> None:
        self.name = name
        self.marker = f"RAMP_TEST_RAY_NODE_{uuid.uuid4().hex}"
        self.log = logs / f"{name}.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                argv,
                env={**env, self.marker: "1"},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_started()

    def _wait_started(self) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if _STARTED in self.log.read_text(errors="replace"):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError(f"ray node {self.name} did not start:\n{self.log.read_text()[-3000:]}")

    def processes(self) -> set[int]:
        return _descendants([self.process.pid]) | set(processes_with_marker(self.marker))

    def kill(self) -> int:
        """Lose the node: stop all its processes (so none can start another), then SIGKILL
        them; returns how many there were."""
        killed: set[int] = set()
        for _ in range(20):
            alive = self.processes() - killed
            if not alive:
                break
            for pid in alive:
                _signal(pid, signal.SIGSTOP)
            killed |= alive
        for pid in killed:
            _signal(pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        return len(killed)


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


class RayCluster:
    """A head node on a free port, with worker nodes added by :meth:`add_worker`."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = {**env, "RAY_USAGE_STATS_ENABLED": "0"}
        # Short: Ray's unix sockets live under it (108-byte path limit).
        self.root = Path(tempfile.mkdtemp(prefix="rt-", dir="/tmp"))
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.nodes: list[RayNode] = []
        self.head = self._node(
            "head",
            "--head",
            f"--port={self.port}",
            "--num-cpus=0",
            "--include-dashboard=false",
            f"--temp-dir={self.root}",
        )

    def _node(self, name: str, *args: str) -> RayNode:
        argv = [str(RAY), "start", "--block", "--disable-usage-stats", *args]
        node = RayNode(name, argv, self.env, self.root)
        self.nodes.append(node)
        return node

    def add_worker(self, name: str, *, trials: int = 1) -> RayNode:
        """A worker node offering one CPU and ``trials`` units of RAMP's ``ramp`` resource."""
        return self._node(
            name,
            f"--address={self.address}",
            f"--num-cpus={trials}",
            f'--resources={{"ramp": {trials}}}',
        )

    def log_tail(self) -> str:
        return "\n".join(
            f"--- {node.name}\n{node.log.read_text(errors='replace')[-1500:]}"
            for node in self.nodes
        )

    def stop(self) -> None:
        for node in reversed(self.nodes):
            if node.process.poll() is None:
                node.kill()
        shutil.rmtree(self.root, ignore_errors=True)


def node_of(error: str) -> str | None:
    """The Ray node id a NodeDiedError names."""
    found = re.search(r"node ID: ([0-9a-f]+)", error)
    return found.group(1) if found else None
