"""The battery's attacks on grading's and run_stage's scratch (rows no-build-sh-submit,
deep-build-tree, stage-output-flood and sparse-build in tests/trust/attacks.py). Imported
into test_attacks.py, where they are collected.

Each goes through the MCP tools only; root on the host only looks: at the bytes left under
the run's submissions, at what the run's uid still owns under RAMP_HOME/grading and
RAMP_HOME/mcp-try (``find`` walks any depth), at the mounts left there, and at the lowest
count of free inodes of the host's file system while a call runs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from tests.trust.attacks import BOTH
from tests.trust.conftest import Sessions
from tests.trust.session import Session
from toolchain._paths import ramp_home

__all__ = [
    "test_deep_build_tree",
    "test_no_build_sh_submit",
    "test_sparse_build",
    "test_stage_output_flood",
]

_INPUT = "int main(){return 0;}"
_GOOD_T0 = '#!/bin/sh\nexec clang-19 -E -x c -isystem /ramp/include -include sylib.h "$1" -o "$2"\n'
# 1,200 levels of 100-byte names: a path of 121 KB, thirty times PATH_MAX.
_DEEP = """
import os
fd = os.open({where}, os.O_RDONLY)
for _ in range(1200):
    os.mkdir("d" * 100, dir_fd=fd)
    below = os.open("d" * 100, os.O_RDONLY, dir_fd=fd)
    os.close(fd)
    fd = below
for name, data, mode in {payload}:
    out = os.open(name, os.O_WRONLY | os.O_CREAT, mode, dir_fd=fd)
    os.write(out, data)
    os.close(out)
"""


def _left_by(uid: int, kind: str) -> list[str]:
    """What ``uid`` still owns under RAMP_HOME/<kind>, at any depth (a few names)."""
    root = ramp_home() / kind
    if not root.is_dir():
        return []
    found = subprocess.run(
        ["find", str(root), "-uid", str(uid), "-print"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return found.stdout.splitlines()[:5]


def _mounts_of(pid: int, kind: str) -> list[str]:
    """Mounts left in the scratch directories of process ``pid``."""
    prefix = f"{ramp_home() / kind}/{pid}-"
    points = [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()]
    return [p for p in points if p.startswith(prefix)]


def _uid(s: Session) -> int:
    return s.workspace.stat().st_uid


def _bytes_under(root: Path) -> int:
    if not root.is_dir():
        return 0
    used = subprocess.run(
        ["du", "-s", "--block-size=1", str(root)], capture_output=True, text=True, check=True
    )
    return int(used.stdout.split()[0])


def test_no_build_sh_submit(sessions: Sessions) -> None:
    s = sessions.get("no-build-sh")
    s.sh("rm -f build.sh; head -c 64000000 /dev/urandom > ballast.bin")
    secret = Path(tempfile.mkdtemp(prefix="ramp-test-secret-", dir="/root"))
    (secret / "present").write_text("root's\n")
    submissions = s.workspace.parent / "submissions"
    before = _bytes_under(submissions)
    replies, seconds = [], []
    try:
        for make in (
            "true",
            "mkdir build.sh",
            f"ln -s {secret / 'present'} build.sh",
            f"ln -s {secret / 'absent'} build.sh",
            "ln -s README.md build.sh",
            "true",
            "true",
        ):
            s.sh(f"rm -rf build.sh; {make}")
            started = time.monotonic()
            replies.append(s.call("submit_stage", {"stage": "T0"}))
            seconds.append(time.monotonic() - started)
    finally:
        s.sh("rm -rf build.sh ballast.bin")
        shutil.rmtree(secret)
    texts = {r.text for r in replies}
    assert all(r.error for r in replies) and len(texts) == 1, texts
    (text,) = texts
    assert "no build.sh" in text and not any(p in text for p in ("/root", "/var/lib", "/work"))
    t0 = s.ok("status")["stages"][0]
    assert (t0["state"], t0["attempts_used"], t0["attempts_left"]) == ("open", 0, 1), t0
    assert _bytes_under(submissions) - before < 1 << 20, "refused submissions left copies"
    assert max(seconds) < 10, seconds


def test_deep_build_tree(sessions: Sessions) -> None:
    s = sessions.get("deep-build")
    payload = (
        "[('helper', open('/usr/bin/clang-19', 'rb').read(), 0o755), "
        "('ballast', os.urandom(32 << 20), 0o644)]"
    )
    build = "#!/bin/sh\npython3 - <<'EOF'\n" + _DEEP.format(where="'.'", payload=payload) + "EOF\n"
    s.ok("write_file", {"path": "build.sh", "content": build})
    s.ok("write_file", {"path": "bin/t0", "content": _GOOD_T0})
    graded = s.ok("submit_stage", {"stage": "T0"})
    # Graded, and the copy at the bottom was found: the scan walked all 1,200 levels.
    assert graded["attempt"] == 1 and graded["score"] == 0.0, graded
    assert any("toolchain-copy" in f for f in graded["integrity_findings"]), graded
    copies = [f.detail for f in s.findings() if f.kind == "toolchain-copy"]
    assert copies and copies[0].startswith("…/") and "/helper:" in copies[0], copies
    assert _left_by(_uid(s), "grading") == []
    assert _mounts_of(s.server_pid(), "grading") == []


class _LowestFree:
    """The lowest count of free inodes of the host file system holding RAMP_HOME."""

    def __init__(self) -> None:
        self.before = os.statvfs(ramp_home()).f_favail
        self.lowest = self.before
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._done.is_set():
            self.lowest = min(self.lowest, os.statvfs(ramp_home()).f_favail)
            time.sleep(0.02)

    def taken(self) -> int:
        self._done.set()
        self._thread.join(timeout=5)
        return self.before - self.lowest


_FLOOD = """#!/usr/bin/python3
import os, sys
out = open(sys.argv[2], "w")
fd = os.open(os.path.dirname(sys.argv[2]), os.O_RDONLY)
made, why = 0, "none"
for i in range(200000):
    try:
        os.close(os.open("f%d" % i, os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=fd))
    except OSError as exc:
        why = exc.strerror
        break
    made += 1
out.write("made %d, then: %s\\n" % (made, why))
"""


@pytest.mark.parametrize("backend", BOTH)
def test_stage_output_flood(sessions: Sessions, backend: str) -> None:
    s = sessions.box(backend)
    s.ok("write_file", {"path": "bin/t0", "content": _FLOOD})
    watch = _LowestFree()
    try:
        flooded = s.ok("run_stage", {"stage": "T0", "input_text": _INPUT})
    finally:
        taken = watch.taken()
    made = int(flooded["output_head"].split()[1].rstrip(","))
    assert "No space left on device" in flooded["output_head"], flooded
    assert made < 10_000 and taken < 20_000, (made, taken)
    payload = "[('ballast', os.urandom(32 << 20), 0o644)]"
    deep = "#!/usr/bin/python3\nimport os, sys\n" + _DEEP.format(
        where="os.path.dirname(sys.argv[2])", payload=payload
    )
    s.ok("write_file", {"path": "bin/t0", "content": deep + "open(sys.argv[2], 'w').write('x')\n"})
    assert s.ok("run_stage", {"stage": "T0", "input_text": _INPUT})["ok"]
    assert _left_by(_uid(s), "mcp-try") == []
    assert _mounts_of(s.server_pid(), "mcp-try") == []


def test_sparse_build(sessions: Sessions) -> None:
    s = sessions.get("sparse-build")
    build = "#!/bin/sh\nmkdir -p sparse\nfor i in 1 2 3 4; do truncate -s 1000M sparse/f$i; done\n"
    s.ok("write_file", {"path": "build.sh", "content": build})
    s.ok("write_file", {"path": "bin/t0", "content": _GOOD_T0})
    started = time.monotonic()
    graded = s.ok("submit_stage", {"stage": "T0"})
    took = time.monotonic() - started
    # Graded at once: the scan reads what the files hold (nothing), not what they claim.
    # Their claimed 4 GB is over the 512 MB a workspace may hold, as in the snapshot's cap.
    assert took < 60, f"grading took {took:.0f} s"
    assert graded["attempt"] == 1 and graded["score"] == 0.0, graded
    assert any("workspace-too-large" in f for f in graded["integrity_findings"]), graded
    assert _left_by(_uid(s), "grading") == []
