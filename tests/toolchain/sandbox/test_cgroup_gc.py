"""Control groups left by a crashed supervisor are found and removed, with their processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from toolchain.sandbox._cgroup import ExecCgroup, cgroups_usable, gc_cgroups


def _assert_collected(code: str) -> None:
    """Run ``code`` (it leaves a sleeper in a group and prints its pid and the group's
    name, then dies): gc_cgroups kills the sleeper and removes the group."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    sleeper, name = done.stdout.split()
    proc = Path(f"/proc/{sleeper}")
    assert proc.exists()
    assert name in gc_cgroups()
    deadline = time.monotonic() + 5
    while proc.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    status = (proc / "status").read_text() if proc.exists() else ""
    assert "State:\tZ" in status or status == ""
    assert name not in gc_cgroups()


@pytest.mark.skipif(not cgroups_usable(), reason="control groups are not writable here")
def test_gc_kills_and_removes_groups_of_a_dead_owner() -> None:
    # A child process makes a group named after itself, puts a sleeper in it, and dies.
    code = (
        "import subprocess\n"
        "from toolchain.sandbox._cgroup import ExecCgroup, exec_cgroup_name\n"
        "g = ExecCgroup.create(exec_cgroup_name('bwrap', 'gctest'), memory_bytes=64<<20, pids_max=8, cpus=1)\n"
        "p = subprocess.Popen(['sleep', '1000'], start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "g.add(p.pid)\n"
        "print(p.pid, list(g.dirs.values())[0].name, flush=True)\n"
    )
    _assert_collected(code)


@pytest.mark.skipif(not cgroups_usable(), reason="control groups are not writable here")
def test_gc_leaves_groups_of_live_owners_alone() -> None:
    group = ExecCgroup.create(
        f"bwrap-{os.getpid()}-live", memory_bytes=64 << 20, pids_max=8, cpus=1
    )
    assert group is not None
    try:
        assert f"bwrap-{os.getpid()}-live" not in gc_cgroups()
    finally:
        group.remove()


@pytest.mark.skipif(not cgroups_usable(), reason="control groups are not writable here")
def test_gc_removes_a_sandbox_group_with_the_command_groups_inside() -> None:
    code = (
        "import subprocess\n"
        "from toolchain.sandbox._cgroup import ExecCgroup, exec_cgroup_name\n"
        "box = ExecCgroup.create(exec_cgroup_name('bwrap', 'gcbox'), memory_bytes=64<<20, "
        "pids_max=8, cpus=1, nested=True)\n"
        "g = ExecCgroup.create(exec_cgroup_name('bwrap', 'gcone'), memory_bytes=64<<20, "
        "pids_max=8, cpus=1, parent=box)\n"
        "p = subprocess.Popen(['sleep', '1000'], start_new_session=True, "
        "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "g.add(p.pid)\n"
        "print(p.pid, list(box.dirs.values())[0].name, flush=True)\n"
    )
    _assert_collected(code)


@pytest.mark.skipif(not cgroups_usable(), reason="control groups are not writable here")
def test_no_command_group_is_made_once_its_sandbox_group_is_gone() -> None:
    """A command's group is never made without its parent (which would come back without
    the sandbox's limits)."""
    box = ExecCgroup.create(
        f"bwrap-{os.getpid()}-gone", memory_bytes=64 << 20, pids_max=8, cpus=1, nested=True
    )
    assert box is not None
    box.remove()
    assert ExecCgroup.create("child", memory_bytes=64 << 20, pids_max=8, cpus=1, parent=box) is None
    assert not any(d.exists() for d in box.dirs.values())
