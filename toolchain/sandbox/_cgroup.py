"""Control groups: memory, process and CPU limits, OOM counts, tree kill.

A group is made per command; a sandbox that runs several commands at once can also have a
group of its own that holds theirs (a bwrap sandbox's, like a container's), so its limits
bound all of them together. Killing or removing a group covers every group inside it.

Both hierarchies are supported: cgroup v2 (one directory) and v1 (one directory per
controller). When the machine offers neither to us (not root, no delegation), callers
fall back to rlimits and say so in the result.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import signal
import time
from pathlib import Path

from toolchain._lifecycle import pid_alive

__all__ = [
    "CGROUP_ROOT",
    "CgroupView",
    "ExecCgroup",
    "cgroups_usable",
    "exec_cgroup_name",
    "gc_cgroups",
]

_log = logging.getLogger(__name__)
CGROUP_ROOT = Path("/sys/fs/cgroup")
_V1_CONTROLLERS = ("memory", "pids", "cpu")
_CPU_PERIOD_US = 100_000


def _is_v2() -> bool:
    return (CGROUP_ROOT / "cgroup.controllers").is_file()


def _is_v1() -> bool:
    return all((CGROUP_ROOT / c / "cgroup.procs").is_file() for c in _V1_CONTROLLERS)


def cgroups_usable() -> bool:
    """Whether we may create control groups here (root, and a hierarchy we recognise)."""
    return os.geteuid() == 0 and (_is_v2() or _is_v1())


def _read_int_field(path: Path, field: str) -> int:
    try:
        for line in path.read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == field:
                return int(value)
    except (OSError, ValueError):
        return 0
    return 0


class CgroupView:
    """Read-only facts about a group of processes: who is in it, how many OOM kills."""

    def __init__(self, dirs: dict[str, Path], version: int) -> None:
        self.dirs = dirs
        self.version = version

    @classmethod
    def of_pid(cls, pid: int) -> CgroupView | None:
        """The control group ``pid`` lives in (e.g. a container's init), if visible here."""
        try:
            lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
        except OSError:
            return None
        v1: dict[str, Path] = {}
        unified: Path | None = None
        for line in lines:
            _, controllers, rel = line.split(":", 2)
            if controllers == "":
                unified = CGROUP_ROOT / rel.lstrip("/")
            for controller in controllers.split(","):
                if controller in _V1_CONTROLLERS:
                    v1[controller] = CGROUP_ROOT / controller / rel.lstrip("/")
        if _is_v1() and set(v1) == set(_V1_CONTROLLERS):
            return cls(v1, 1)
        if _is_v2() and unified is not None:
            return cls({"unified": unified}, 2)
        return None

    def _dir(self, controller: str) -> Path:
        return self.dirs["unified"] if self.version == 2 else self.dirs[controller]

    def oom_kills(self) -> int:
        if self.version == 2:
            return _read_int_field(self._dir("memory") / "memory.events", "oom_kill")
        return _read_int_field(self._dir("memory") / "memory.oom_control", "oom_kill")

    def pids(self) -> set[int]:
        found: set[int] = set()
        for directory in set(self.dirs.values()):
            with contextlib.suppress(OSError):
                found.update(int(p) for p in (directory / "cgroup.procs").read_text().split())
        return found


class ExecCgroup(CgroupView):
    """A control group made for one command (or for a sandbox's commands: ``nested``),
    removed when it is done."""

    @classmethod
    def create(
        cls,
        name: str,
        *,
        memory_bytes: int,
        pids_max: int,
        cpus: float,
        parent: CgroupView | None = None,
        nested: bool = False,
    ) -> ExecCgroup | None:
        """Make ``name`` under ``parent`` (default: RAMP's own group); None if not possible.

        A ``parent`` must exist: it is never made again here (a sandbox's group removed
        while a command was starting must not come back without its limits). ``nested``:
        the group will hold groups, not processes (cgroup v2 then hands its controllers on).
        """
        if not cgroups_usable():
            return None
        try:
            if parent is not None:
                version = parent.version
                bases = dict(parent.dirs)
            elif _is_v2():
                version, bases = 2, {"unified": cls._v2_ramp_root()}
            else:
                version = 1
                bases = {c: CGROUP_ROOT / c / "ramp" for c in _V1_CONTROLLERS}
            if parent is None:
                for base in bases.values():
                    base.mkdir(parents=True, exist_ok=True)
            dirs = {key: base / name for key, base in bases.items()}
            for directory in dirs.values():
                directory.mkdir(exist_ok=True)  # fails when a parent's group is gone
            group = cls(dirs, version)
            group._apply(memory_bytes, pids_max, cpus)
            if nested and version == 2:
                (dirs["unified"] / "cgroup.subtree_control").write_text("+memory +pids +cpu")
        except OSError as exc:
            _log.warning("cannot create control group %s (%s); falling back to rlimits", name, exc)
            return None
        return group

    @staticmethod
    def _v2_ramp_root() -> Path:
        root = CGROUP_ROOT / "ramp"
        root.mkdir(exist_ok=True)
        wanted = "+memory +pids +cpu"
        for directory in (CGROUP_ROOT, root):
            with contextlib.suppress(OSError):
                (directory / "cgroup.subtree_control").write_text(wanted)
        return root

    def _apply(self, memory_bytes: int, pids_max: int, cpus: float) -> None:
        quota = max(1000, int(cpus * _CPU_PERIOD_US))
        if self.version == 2:
            base = self.dirs["unified"]
            (base / "memory.max").write_text(str(memory_bytes))
            with contextlib.suppress(OSError):
                (base / "memory.swap.max").write_text("0")
            (base / "pids.max").write_text(str(pids_max))
            (base / "cpu.max").write_text(f"{quota} {_CPU_PERIOD_US}")
            return
        memory = self.dirs["memory"]
        (memory / "memory.limit_in_bytes").write_text(str(memory_bytes))
        with contextlib.suppress(OSError):
            (memory / "memory.memsw.limit_in_bytes").write_text(str(memory_bytes))
        (self.dirs["pids"] / "pids.max").write_text(str(pids_max))
        (self.dirs["cpu"] / "cpu.cfs_period_us").write_text(str(_CPU_PERIOD_US))
        (self.dirs["cpu"] / "cpu.cfs_quota_us").write_text(str(quota))

    def procs_files(self) -> list[Path]:
        """The files a process writes its pid into to join (one per hierarchy)."""
        return [d / "cgroup.procs" for d in self.dirs.values()]

    def add(self, pid: int) -> None:
        for procs in self.procs_files():
            procs.write_text(str(pid))

    def _subtree(self) -> list[Path]:
        """This group's directories and those of every group inside it, deepest first."""
        found: list[Path] = []
        for directory in set(self.dirs.values()):
            for here, _subdirs, _files in os.walk(directory, topdown=False):
                found.append(Path(here))
        return found

    def members(self) -> set[int]:
        """Pids in this group and in every group inside it."""
        found: set[int] = set()
        for directory in self._subtree():
            with contextlib.suppress(OSError):
                found.update(int(p) for p in (directory / "cgroup.procs").read_text().split())
        return found

    def kill_all(self, *, deadline_s: float = 10.0) -> int:
        """SIGKILL every member (of the groups inside too) until none is left; returns how
        many were signalled."""
        killed = 0
        if self.version == 2:
            kill_file = self.dirs["unified"] / "cgroup.kill"
            if kill_file.exists():
                killed = len(self.members())
                with contextlib.suppress(OSError):
                    kill_file.write_text("1")
        end = time.monotonic() + deadline_s
        pause = 0.0005
        while time.monotonic() < end:
            members = self.members()
            if not members:
                return killed
            for pid in members:
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed += 1
                except OSError as exc:
                    if exc.errno != errno.ESRCH:
                        raise
            time.sleep(pause)
            pause = min(pause * 2, 0.02)
        raise OSError(f"control group {self.dirs} still has members after {deadline_s} s")

    def remove(self) -> None:
        """Remove the group and every group inside it (they must hold no process)."""
        for directory in self._subtree():
            for _ in range(50):
                try:
                    directory.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)


def exec_cgroup_name(kind: str, token: str) -> str:
    """Names carry the owner's pid, so `ramp sandbox gc` knows which groups are orphans."""
    return f"{kind}-{os.getpid()}-{token}"


def _owner_alive(name: str) -> bool:
    parts = name.split("-")
    return len(parts) >= 3 and parts[1].isdigit() and pid_alive(int(parts[1]))


def gc_cgroups(*, all_owners: bool = False) -> list[str]:
    """Kill and remove RAMP's control groups whose owning process is gone."""
    if not cgroups_usable():
        return []
    if _is_v2():
        roots = {"unified": CGROUP_ROOT / "ramp"}
    else:
        roots = {c: CGROUP_ROOT / c / "ramp" for c in _V1_CONTROLLERS}
    names = {
        entry.name
        for root in roots.values()
        if root.is_dir()
        for entry in root.iterdir()
        if entry.is_dir()
    }
    removed = []
    for name in sorted(names):
        if not all_owners and _owner_alive(name):
            continue
        group = ExecCgroup(
            {key: root / name for key, root in roots.items() if (root / name).is_dir()},
            2 if _is_v2() else 1,
        )
        group.kill_all()
        group.remove()
        removed.append(name)
    return removed
