"""Each run's sandboxes run as the run's own uid, on a workspace the kernel caps (real docker,
real bwrap, real ext4 images on loop devices).

Two "runs" A and B are laid out as RAMP lays runs out (a root-owned home, 0750, group the
run's gid; a capped workspace owned by the run's uid, 0700; a root token, 0600). A's
sandbox is then given B's home and B's workspace as extra mounts, the worst case of a
mount mistake: the permissions alone must keep A out. The backends are used directly, so
no hand-over of writable mounts changes an owner behind the test's back.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import backend_missing, reachable_temp_dir
from toolchain._capped import create_capped_dir, remove_tree
from toolchain._errors import SandboxUnavailableError
from toolchain._manifest import Profile
from toolchain.sandbox import (
    ExecLimits,
    ExecRequest,
    ExecResult,
    Mount,
    Outcome,
    SandboxBackend,
    SandboxSpec,
    create_backend,
)

BACKENDS = ["docker", "bwrap"]
UID_A, UID_B = 299_981, 299_982
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="per-run uids need root")


class Home:
    def __init__(self, root: Path, uid: int, *, max_bytes: int, max_entries: int) -> None:
        self.uid = uid
        self.home = root / f"run-{uid}"
        self.home.mkdir()
        os.chown(self.home, 0, uid)
        self.home.chmod(0o750)
        self.workspace = self.home / "workspace"
        create_capped_dir(
            self.workspace, max_bytes=max_bytes, max_entries=max_entries, uid=uid, gid=uid
        )
        self.token = self.home / "mcp-token"
        self.token.write_text("secret-of-" + str(uid))
        self.token.chmod(0o600)
        (self.workspace / "private.txt").write_text("private to " + str(uid))
        os.chown(self.workspace / "private.txt", uid, uid)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    reason = backend_missing(name)
    if reason:
        pytest.skip(f"{name}: {reason}")
    return name


@pytest.fixture
def root() -> Iterator[Path]:
    path = reachable_temp_dir("ramp-test-uids-")
    yield path
    remove_tree(path)


def _box(backend: str, home: Home, *mounts: Mount, timeout_s: float = 60) -> SandboxBackend:
    spec = SandboxSpec(
        profile=Profile.DEV,
        limits=ExecLimits(timeout_s=timeout_s, memory_mb=1024, pids=256),
        mounts=mounts,
        uid=home.uid,
        gid=home.uid,
    )
    box = create_backend(backend, spec)
    box.start(home.workspace)
    return box


def _sh(box: SandboxBackend, command: str, timeout_s: float = 60) -> ExecResult:
    return box.exec(ExecRequest(shell=command, limits=ExecLimits(timeout_s=timeout_s)))


def _assert_shut_out(box: SandboxBackend, a: Home, b: Home, other_ws: str) -> None:
    me = _sh(box, "id -u; id -g; echo mine > own.txt && cat private.txt")
    assert me.outcome is Outcome.OK, me
    assert me.stdout.splitlines() == [str(UID_A), str(UID_A), f"private to {UID_A}"]
    assert (a.workspace / "own.txt").stat().st_uid == UID_A
    for attempt in (
        "cat /ramp/other-home/mcp-token",
        "touch /ramp/other-home/planted",
        f"cat {other_ws}/private.txt",
        f"ls {other_ws}",
        f"touch {other_ws}/planted",
        f"rm -f {other_ws}/private.txt",
    ):
        tried = _sh(box, attempt)
        assert tried.outcome is Outcome.NONZERO, (attempt, tried)
        assert "Permission denied" in tried.stderr, (attempt, tried.stderr)
    assert not (b.home / "planted").exists() and not (b.workspace / "planted").exists()
    assert (b.workspace / "private.txt").read_text() == f"private to {UID_B}"


def test_a_run_cannot_reach_another_runs_files(backend: str, root: Path) -> None:
    a = Home(root, UID_A, max_bytes=64 << 20, max_entries=1000)
    b = Home(root, UID_B, max_bytes=64 << 20, max_entries=1000)
    others = (
        Mount(source=b.home, target="/ramp/other-home", writable=True),
        Mount(source=b.workspace, target="/ramp/other-ws", writable=True),
    )
    if backend == "bwrap":
        # bwrap mounts as the run's uid: B's home (0750, B's group) cannot even be entered.
        with pytest.raises(SandboxUnavailableError, match=f"uid {UID_A}, which cannot enter"):
            _box(backend, a, *others)
    else:
        box = _box(backend, a, *others)  # the engine (root) mounts anything it is told to
        try:
            assert "Permission denied" in _sh(box, "ls /ramp/other-home").stderr
            _assert_shut_out(box, a, b, "/ramp/other-ws")
        finally:
            box.close()
    # Even with B's home opened up, B's token and workspace keep A out by their own modes.
    b.home.chmod(0o755)
    box = _box(backend, a, others[0])
    try:
        _assert_shut_out(box, a, b, "/ramp/other-home/workspace")
    finally:
        box.close()


def test_a_run_cannot_signal_another_runs_processes(backend: str, root: Path) -> None:
    a = Home(root, UID_A, max_bytes=64 << 20, max_entries=1000)
    b = Home(root, UID_B, max_bytes=64 << 20, max_entries=1000)
    box_a, box_b = _box(backend, a), _box(backend, b)
    finished: list[ExecResult] = []
    sleeper = threading.Thread(
        target=lambda: finished.append(_sh(box_b, "sleep 12; echo survived", timeout_s=30))
    )
    sleeper.start()
    try:
        deadline = time.monotonic() + 10
        pids: list[int] = []
        while not pids and time.monotonic() < deadline:
            pids = [p for p in _host_pids_of(UID_B) if b"sleep" in _cmdline(p)]
            time.sleep(0.1)
        assert pids, "B's sleep never showed up on the host"
        # From inside A's sandbox: B's processes are not even visible.
        seen = _sh(box_a, f"ps -eo pid,user,args; kill -9 {pids[0]}; kill -9 -1; true")
        assert "sleep 12" not in seen.stdout, seen.stdout
        # On the host, A's uid may not signal B's processes either (outside every namespace).
        probe = subprocess.run(
            ["python3", "-c", f"import os; os.kill({pids[0]}, 9)"],
            user=UID_A,
            group=UID_A,
            extra_groups=[],
            capture_output=True,
            text=True,
            check=False,
        )
        assert probe.returncode != 0 and "PermissionError" in probe.stderr, probe.stderr
    finally:
        sleeper.join(timeout=40)
        box_a.close()
        box_b.close()
    assert finished and finished[0].stdout == "survived\n", finished


def _host_pids_of(uid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def test_the_byte_cap_stops_dd_and_keeps_what_was_written(backend: str, root: Path) -> None:
    a = Home(root, UID_A, max_bytes=256 << 20, max_entries=10_000)
    box = _box(backend, a, timeout_s=120)
    try:
        kept = _sh(box, "head -c 4000000 /dev/urandom > keep.bin && sha256sum keep.bin")
        assert kept.outcome is Outcome.OK, kept
        started = time.monotonic()
        bomb = _sh(box, "dd if=/dev/zero of=bomb.bin bs=1M count=1024", timeout_s=120)
        took = time.monotonic() - started
        assert bomb.outcome is Outcome.NONZERO, bomb
        assert "No space left on device" in bomb.stderr, bomb.stderr
        size = (a.workspace / "bomb.bin").stat().st_size
        assert (240 << 20) <= size <= (256 << 20), size
        again = _sh(box, "sha256sum keep.bin")
        assert again.stdout == kept.stdout, "a file written before the cap was hit changed"
        assert took < 60, took
        freed = _sh(box, "rm bomb.bin && echo small > after.txt && cat after.txt")
        assert freed.outcome is Outcome.OK and freed.stdout == "small\n", freed
    finally:
        box.close()


def test_the_entry_cap_stops_an_inode_bomb_fast(backend: str, root: Path) -> None:
    a = Home(root, UID_A, max_bytes=512 << 20, max_entries=100_000)
    box = _box(backend, a, timeout_s=300)
    host_before = os.statvfs("/tmp").f_ffree
    bomb = (
        "import os\n"
        "made = failed = 0\n"
        "for i in range(300000):\n"
        "    try:\n"
        "        os.close(os.open(f'f{i}', os.O_CREAT | os.O_WRONLY, 0o644)); made += 1\n"
        "    except OSError as e:\n"
        "        failed += 1; last = e.strerror\n"
        "print(made, failed, last)\n"
    )
    try:
        started = time.monotonic()
        ran = box.exec(ExecRequest(argv=("python3", "-c", bomb), limits=ExecLimits(timeout_s=300)))
        took = time.monotonic() - started
        assert ran.outcome is Outcome.OK, ran
        made, failed, why = ran.stdout.split(maxsplit=2)
        assert 99_900 <= int(made) < 100_000 and int(made) + int(failed) == 300_000
        assert why.strip() == "No space left on device"
        host_used = host_before - os.statvfs("/tmp").f_ffree
        assert host_used < 20_000, f"the host's inode table took {host_used} entries"
        assert took < 120, took
        print(f"inode bomb on {backend}: {made} made, {failed} refused in {took:.1f} s")
    finally:
        box.close()
