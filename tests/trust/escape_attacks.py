"""Attacks out of the box through the server's own machinery (collected by test_attacks.py):
code planted for the file worker to import, cancelled commands that would run on, and the
build tool asked about a host path."""

from __future__ import annotations

import encodings
import socket
import tempfile
import threading
import time
import uuid
from pathlib import Path

import anyio
import pytest

from tests.support import processes_with_marker
from tests.trust.attacks import BOTH
from tests.trust.conftest import Sessions
from toolchain.workspace import _search

_PLANTED = """\
import socket
open("/planted-ran", "w").close()
s = socket.socket()
s.settimeout(2)
s.connect(("127.0.0.1", {port}))
s.sendall(b"PLANTED")
"""


class _Listener:
    """A host loopback listener: a connection to it came from the host's network namespace."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.accepted = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._done.is_set():
            try:
                conn, _ = self.server.accept()
            except OSError:
                continue
            conn.close()
            self.accepted += 1

    def close(self) -> None:
        self._done.set()
        self._thread.join(timeout=5)
        self.server.close()


@pytest.mark.parametrize("backend", BOTH)
def test_worker_codec_import(sessions: Sessions, backend: str) -> None:
    """A codec module at the host path of ``encodings`` and a file at the host path of the
    worker's own ``_search.py`` whose coding cookie names it, both written in the
    workspace; grep then raises a FutureWarning (a nested set), whose source line a
    workspace-rooted worker would look up with linecache."""
    s = sessions.get(f"escape-codec-{backend}", backend)
    codec = f"planted{uuid.uuid4().hex[:8]}"
    source = Path(_search.__file__)
    listener = _Listener()
    try:
        payload = _PLANTED.format(port=listener.port)
        for place in (Path(encodings.__file__).parent, source.parent):
            s.ok("write_file", {"path": f"{str(place).lstrip('/')}/{codec}.py", "content": payload})
        cookie = f"# -*- coding: {codec} -*-\n" + "\n" * 300
        s.ok("write_file", {"path": str(source).lstrip("/"), "content": cookie})
        for width in range(2, 6):
            s.call("grep", {"pattern": "z" * width + "[[:digit:]]", "path": "README.md"})
        time.sleep(1)
        ran = s.call("read_file", {"path": "planted-ran"})
    finally:
        listener.close()
        top = str(source).lstrip("/").split("/")[0]
        s.sh(f"rm -rf {top} {str(encodings.__file__).lstrip('/').split('/')[0]} planted-ran")
    assert listener.accepted == 0, "planted code ran in the file worker and reached the host"
    assert ran.error and "does not exist" in ran.text, ran.text


@pytest.mark.parametrize("backend", BOTH)
def test_cancelled_commands(sessions: Sessions, backend: str) -> None:
    """40 run_command calls, each starting 15 background sleeps, cancelled after a second:
    the commands die with their calls, and the run's next command runs at once."""
    s = sessions.box(backend)
    marker = f"RAMP_TRUST_{uuid.uuid4().hex}"
    command = f"export {marker}=1; for i in $(seq 15); do sleep 30 & done; wait"
    peak = [0]

    async def fire() -> None:
        with anyio.move_on_after(1.0):
            await s.client.call_tool("run_command", {"command": command, "timeout_s": 60})

    async def wave() -> None:
        async with anyio.create_task_group() as group:
            for _ in range(20):
                group.start_soon(fire)

    for _ in range(2):
        s.portal.call(wave)
        peak[0] = max(peak[0], len(processes_with_marker(marker)))
    deadline = time.monotonic() + 15
    while processes_with_marker(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = processes_with_marker(marker)
    started = time.monotonic()
    after = s.sh("echo after")
    assert left == [], f"{len(left)} processes of cancelled commands still run"
    assert peak[0] <= 512, f"one run held {peak[0]} processes through cancelled calls"
    assert after["stdout"] == "after\n" and time.monotonic() - started < 20


@pytest.mark.parametrize("backend", BOTH)
def test_build_symlink_oracle(sessions: Sessions, backend: str) -> None:
    """build.sh as a symlink to a root-only host file that exists, and to one that does
    not: build must answer the same (it stat'ed the link as root on the host)."""
    s = sessions.box(backend)
    secret = Path(tempfile.mkdtemp(prefix="ramp-oracle-", dir="/root"))
    (secret / "present").write_text("x")
    answers = {}
    try:
        for name in ("present", "absent"):
            s.sh(f"rm -f build.sh; ln -s {secret / name} build.sh")
            reply = s.call("build")
            answers[name] = (reply.error, reply.text.replace(name, "<name>"))
    finally:
        s.sh("rm -f build.sh")
        (secret / "present").unlink()
        secret.rmdir()
    assert answers["present"] == answers["absent"], answers
    assert answers["present"][0], answers


@pytest.mark.parametrize("backend", BOTH)
def test_stage_hard_links(sessions: Sessions, backend: str) -> None:
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
    tried = s.ok("run_stage", {"stage": "T0", "input_text": "int main(){return 0;}"})
    assert tried["ok"], tried
    assert "LINKED" not in tried["output_head"], tried["output_head"]
