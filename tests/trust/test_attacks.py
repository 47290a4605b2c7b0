"""The attack battery (see tests/trust/attacks.py and docs/attacks.md): every attack goes
through the MCP tools only, with the SDK's client over stdio, as an agent would."""

from __future__ import annotations

import json
import math
import os
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from golden import SOLUTION_DIR, Split, Stage, build_golden, builtin_corpus
from grader._snapshot import tree_hash as _tree_hash
from grader.ledger import Ledger, Submission
from grader.report import render_report
from ramp_mcp._scripted_agent import stage_files
from ramp_mcp._server import TOOL_NAMES
from tests.support import free_port, processes_with_marker
from tests.trust.attacks import BOTH
from tests.trust.conftest import Sessions
from tests.trust.session import Session, raw_stdio_exchange

PUBLIC = sorted(c.name for c in builtin_corpus() if c.split is Split.PUBLIC)
HIDDEN = sorted(c.name for c in builtin_corpus() if c.split is Split.HIDDEN)
NOOP_BUILD = "#!/bin/sh\ntrue\n"
GOOD_T0 = '#!/bin/sh\nexec clang-19 -E -x c -isystem /ramp/include -include sylib.h "$1" -o "$2"\n'


def _marker() -> str:
    return f"RAMP_TRUST_{uuid.uuid4().hex}"


def _no_survivors(marker: str, seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while processes_with_marker(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not processes_with_marker(marker), "a sandboxed process outlived its command"


# -- paths ----------------------------------------------------------------------------------


def test_traversal_dotdot(sessions: Sessions) -> None:
    s = sessions.get("main")
    outside = s.workspace.parent / "escaped.txt"
    for tool, args in [
        ("read_file", {"path": "../mcp-token"}),
        ("read_file", {"path": "cases/../../mcp-token"}),
        ("write_file", {"path": "../escaped.txt", "content": "x"}),
        ("move_path", {"src": "README.md", "dst": "../escaped.txt"}),
        ("list_files", {"path": ".."}),
        ("grep", {"pattern": "x", "path": "../"}),
        ("glob", {"pattern": "../*"}),
    ]:
        reply = s.call(tool, args)
        assert reply.error and "'..'" in reply.text, (tool, reply)
    assert not outside.exists()


def test_traversal_absolute(sessions: Sessions) -> None:
    s = sessions.get("main")
    for tool, args in [
        ("read_file", {"path": "/etc/passwd"}),
        ("write_file", {"path": "/tmp/ramp-absolute", "content": "x"}),
        ("glob", {"pattern": "/etc/*"}),
        ("run_rv64", {"source": "/bin/true"}),
    ]:
        reply = s.call(tool, args)
        assert reply.error and "absolute" in reply.text, (tool, reply)
    assert not Path("/tmp/ramp-absolute").exists()


def test_traversal_encoded(sessions: Sessions) -> None:
    s = sessions.get("main")
    for path in ["%2e%2e/mcp-token", "..%2fmcp-token", "..\\mcp-token", "\uff0e\uff0e/mcp-token"]:
        reply = s.call("read_file", {"path": path})
        assert reply.error and "does not exist" in reply.text, (path, reply)


def test_traversal_nul(sessions: Sessions) -> None:
    s = sessions.get("main")
    for tool, args in [
        ("read_file", {"path": "cases\x00/../../etc/passwd"}),
        ("write_file", {"path": "a\x00b", "content": "x"}),
        ("glob", {"pattern": "*\x00"}),
    ]:
        reply = s.call(tool, args)
        assert reply.error and "NUL" in reply.text, (tool, reply)


# -- links ----------------------------------------------------------------------------------


def test_symlink_read(sessions: Sessions) -> None:
    s = sessions.get("main")
    token = s.workspace.parent / "mcp-token"
    s.sh(f"ln -sf {token} tok && ln -sfn / hostroot && ln -sfn /etc etcdir")
    for tool, args in [
        ("read_file", {"path": "tok"}),
        ("read_file", {"path": "hostroot/etc/passwd"}),
        ("list_files", {"path": "etcdir"}),
    ]:
        reply = s.call(tool, args)
        assert reply.error and "outside the workspace" in reply.text, (tool, reply)
    found = s.ok("grep", {"pattern": "root:"})
    assert not any(m["path"].startswith(("etcdir", "hostroot", "tok")) for m in found["matches"])
    assert "etcdir/passwd" not in s.ok("glob", {"pattern": "**/passwd"})["matches"]
    s.sh("rm -f tok hostroot etcdir")


def test_symlink_write(sessions: Sessions, tmp_path: Path) -> None:
    s = sessions.get("main")
    victim = Path("/tmp") / f"ramp-victim-{uuid.uuid4().hex}"
    victim.write_text("original\n")
    try:
        s.sh(f"ln -sf {victim} link && ln -sfn /tmp tmpdir")
        for tool, args in [
            ("write_file", {"path": "link", "content": "owned"}),
            ("edit_file", {"path": "link", "old": "original", "new": "owned"}),
            ("write_file", {"path": f"tmpdir/{victim.name}", "content": "owned"}),
        ]:
            reply = s.call(tool, args)
            assert reply.error and ("symlink" in reply.text or "outside" in reply.text), reply
        assert victim.read_text() == "original\n"
    finally:
        victim.unlink()
        s.sh("rm -f link tmpdir")


def test_hardlink(sessions: Sessions) -> None:
    s = sessions.get("main")
    made = s.sh("ln /etc/passwd hl 2>&1; echo rc=$?")
    assert "rc=0" not in made["stdout"], made
    s.sh("echo secret > one.txt && ln one.txt two.txt")
    reply = s.call("read_file", {"path": "two.txt"})
    assert reply.error and "hard links" in reply.text
    s.sh("rm -f one.txt two.txt hl")


# -- what the sandbox sees ------------------------------------------------------------------


@pytest.mark.parametrize("backend", BOTH)
def test_proc_root(sessions: Sessions, backend: str) -> None:
    s = sessions.box(backend)
    seen = s.sh(
        "ls /proc/self/root/var/lib/ramp /proc/1/root/var/lib/ramp 2>&1; "
        "cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' '; echo; ls -d /proc/[0-9]* | wc -l"
    )["stdout"]
    lines = seen.strip().splitlines()
    assert all("No such file" in x or "denied" in x for x in lines[:2]), seen
    assert "ramp-mcp" not in seen and "pytest" not in seen
    assert int(lines[-1]) < 20, "the sandbox sees the host's processes"


@pytest.mark.parametrize("backend", BOTH)
def test_proc_server_environ(sessions: Sessions, backend: str) -> None:
    s = sessions.box(backend)
    pid = s.server_pid()
    secret = s.server_env["RAMP_TRUST_MARKER"]
    assert secret.encode() in Path(f"/proc/{pid}/environ").read_bytes()
    seen = s.sh(
        f"cat /proc/{pid}/environ 2>&1; echo; cat /proc/*/environ 2>/dev/null | tr '\\0' '\\n'"
    )["stdout"]
    assert secret not in seen


@pytest.mark.parametrize("backend", BOTH)
def test_fd_leak(sessions: Sessions, backend: str) -> None:
    s = sessions.box(backend)
    out = s.sh('for f in /proc/self/fd/*; do echo "$f $(readlink $f)"; done')["stdout"]
    fds = [line.split()[0].rsplit("/", 1)[-1] for line in out.splitlines() if line.strip()]
    # The loop's own directory handle may show as one more descriptor.
    assert len([f for f in fds if f not in ("0", "1", "2")]) <= 1, out
    assert "sqlite" not in out and "socket" not in out and "ledger" not in out, out


@pytest.mark.parametrize("backend", BOTH)
def test_grader_data(sessions: Sessions, backend: str) -> None:
    s = sessions.box(backend)
    hidden = HIDDEN[0]
    out = s.sh(
        "ls -d /var/lib/ramp 2>&1; find / -xdev \\( -name 'ledger.sqlite3*' -o -name mcp-token "
        f"-o -name '*.tokens' -o -name '{hidden}.*' -o -name expected.out \\) 2>/dev/null",
        timeout_s=120,
    )["stdout"]
    assert "No such file" in out
    found = [line for line in out.splitlines() if line.startswith("/") and "No such" not in line]
    assert found == [], found


def test_hidden_and_later_stages(sessions: Sessions) -> None:
    s = sessions.get("main")
    hidden = s.call("run_stage", {"stage": "T0", "case": HIDDEN[0]})
    assert hidden.error and "unknown public case" in hidden.text
    locked = s.call("run_stage", {"stage": "T2", "case": PUBLIC[0]})
    assert locked.error and "T2 is locked" in locked.text
    assert not (s.workspace / "reference").exists()
    assert list((s.workspace.parent / "reference").iterdir()) == []
    assert s.sh("ls -A /ramp/reference | wc -l")["stdout"] == "0\n"


@pytest.mark.parametrize("backend", BOTH)
def test_output_symlink(sessions: Sessions, backend: str) -> None:
    s = sessions.box(backend)
    s.ok("write_file", {"path": "bin/t0", "content": '#!/bin/sh\nln -s /etc/shadow "$2"\n'})
    tried = s.ok("run_stage", {"stage": "T0", "input_text": "int main(){return 0;}"})
    assert "root:" not in json.dumps(tried)
    assert not tried["ok"] and "is a symlink" in tried["diagnosis"], tried


def test_findings_symlink(sessions: Sessions) -> None:
    s = sessions.get("main")
    script = '#!/bin/sh\nln -s /etc/hostname /ramp/findings/toolchain-calls\ncp "$1" "$2"\n'
    s.ok("write_file", {"path": "bin/t1", "content": script})
    tried = s.ok("run_stage", {"stage": "T1", "input_text": "int x;"})
    host = Path("/etc/hostname").read_text().strip()
    assert host not in tried["diagnosis"] and "tampered" in tried["diagnosis"], tried
    assert tried["score"] is None


# -- network --------------------------------------------------------------------------------


_CONNECT = """python3 - <<'EOF'
import socket, sys
for target in sys.argv[1:] or {targets}:
    family = socket.AF_UNIX if isinstance(target, str) else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(3)
    try:
        s.connect(target)
        print("CONNECTED", target)
    except OSError as exc:
        print("failed", target, exc)
EOF"""


@pytest.mark.parametrize("backend", BOTH)
def test_net_host_tcp(sessions: Sessions, backend: str) -> None:
    s = sessions.box(backend)
    port = free_port()
    accepted: list[object] = []
    done = threading.Event()
    with socket.create_server(("127.0.0.1", port)) as server:
        server.settimeout(0.2)

        def accept() -> None:
            while not done.is_set() and not accepted:
                try:
                    accepted.append(server.accept())
                except TimeoutError:
                    continue

        watcher = threading.Thread(target=accept)
        watcher.start()
        out = s.sh(_CONNECT.format(targets=[("127.0.0.1", port)]))["stdout"]
        done.set()
        watcher.join()
    assert "CONNECTED" not in out and "failed" in out and not accepted, out


@pytest.mark.parametrize("backend", BOTH)
def test_net_external(sessions: Sessions, backend: str) -> None:
    s = sessions.box(backend)
    out = s.sh(_CONNECT.format(targets=[("1.1.1.1", 53), ("8.8.8.8", 443)]))["stdout"]
    assert "CONNECTED" not in out and out.count("failed") == 2, out


@pytest.mark.parametrize("backend", BOTH)
def test_net_dns(sessions: Sessions, backend: str) -> None:
    s = sessions.box(backend)
    out = s.sh("getent hosts example.com; echo rc=$?")["stdout"]
    assert out.strip().endswith("rc=2") or "rc=0" not in out, out


@pytest.mark.parametrize("backend", BOTH)
def test_net_unix_sockets(sessions: Sessions, backend: str) -> None:
    s = sessions.box(backend)
    name = f"\0ramp-trust-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(name)
        listener.listen()
        listener.settimeout(0.5)
        targets = ["/var/run/docker.sock", "/run/containerd/containerd.sock", name]
        out = s.sh(_CONNECT.format(targets=targets))["stdout"]
        with pytest.raises(TimeoutError):
            listener.accept()
    assert "CONNECTED" not in out and out.count("failed") == 3, out


# -- resources ------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BOTH)
def test_fork_bomb(sessions: Sessions, backend: str) -> None:
    s = sessions.box(backend)
    marker = _marker()
    started = time.monotonic()
    ran = s.sh(f"export {marker}=1; bomb() {{ bomb | bomb & }}; bomb; sleep 30", timeout_s=8)
    assert ran["outcome"] in ("timeout", "killed", "nonzero", "ok"), ran
    assert time.monotonic() - started < 40
    _no_survivors(marker, 15)


@pytest.mark.parametrize("backend", BOTH)
def test_memory_bomb(sessions: Sessions, backend: str) -> None:
    s = sessions.box(backend)
    ran = s.sh("python3 -c 'chunks = [b\"x\" * (64 << 20) for _ in range(256)]'")
    assert ran["outcome"] in ("out-of-memory", "killed", "nonzero"), ran
    assert ran["outcome"] != "ok"


@pytest.mark.parametrize("backend", BOTH)
def test_disk_bomb(sessions: Sessions, backend: str) -> None:
    s = sessions.box(backend)
    ran = s.sh(
        "mkdir -p bomb; i=0; while [ $i -lt 8 ]; do i=$((i+1)); "
        "dd if=/dev/zero of=bomb/f$i bs=1M count=1000 status=none || exit 9; done",
        timeout_s=300,
    )
    assert ran["outcome"] == "nonzero" and ran["exit_code"] == 9, ran
    assert "No space left on device" in ran["stderr"], ran
    assert "the workspace (/workspace) is full" in ran["detail"], ran
    used = sum(p.stat().st_size for p in (s.workspace / "bomb").iterdir())
    assert (400 << 20) < used <= 512 << 20, used
    s.ok("delete_path", {"path": "bomb", "recursive": True})
    assert s.sh("echo fine")["detail"] == ""


@pytest.mark.parametrize("backend", BOTH)
def test_inode_bomb(sessions: Sessions, backend: str) -> None:
    s = sessions.box(backend)
    host_free = os.statvfs(s.workspace.parent).f_ffree
    bomb = (
        "import os\nos.mkdir('many')\nmade = failed = 0\n"
        "for i in range(300000):\n"
        "    try:\n"
        "        os.close(os.open(f'many/f{i}', os.O_CREAT | os.O_WRONLY, 0o644)); made += 1\n"
        "    except OSError as e:\n"
        "        failed += 1; why = e.strerror\n"
        "print(made, failed, why)\n"
    )
    s.ok("write_file", {"path": "bomb.py", "content": bomb})
    started = time.monotonic()
    ran = s.sh("python3 bomb.py", timeout_s=300)
    took = time.monotonic() - started
    made, failed, why = ran["stdout"].split(maxsplit=2)
    assert 90_000 < int(made) < 100_000 and int(failed) > 200_000, ran
    assert why.strip() == "No space left on device" and took < 120, (ran, took)
    assert "the workspace (/workspace) is full" in ran["detail"], ran
    assert host_free - os.statvfs(s.workspace.parent).f_ffree < 20_000
    s.sh("rm -rf many bomb.py", timeout_s=300)


@pytest.mark.parametrize("backend", BOTH)
def test_output_bomb(sessions: Sessions, backend: str) -> None:
    s = sessions.box(backend)
    ran = s.sh("yes 'ramp output bomb'")
    assert ran["outcome"] == "output-limit" and ran["truncated"], ran["outcome"]
    assert len(ran["stdout"]) <= 40_000
    script = '#!/bin/sh\nhead -c 600000000 /dev/zero | tr "\\0" "x" > "$2"\n'
    s.ok("write_file", {"path": "bin/t0", "content": script})
    tried = s.ok("run_stage", {"stage": "T0", "input_text": "int main(){return 0;}"})
    assert tried["output_bytes"] == 600_000_000 and len(tried["output_head"]) <= 4000, tried[
        "diagnosis"
    ]


# -- processes ------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BOTH)
def test_survivors(sessions: Sessions, backend: str) -> None:
    s = sessions.box(backend)
    marker = _marker()
    s.sh(
        f"export {marker}=1; setsid nohup sleep 1000 >/dev/null 2>&1 & "
        "(sleep 1000 & ) ; sh -c 'sleep 1000 & disown' ; echo started"
    )
    _no_survivors(marker)


@pytest.mark.parametrize("backend", BOTH)
def test_timeout_survivors(sessions: Sessions, backend: str) -> None:
    s = sessions.box(backend)
    marker = _marker()
    ran = s.sh(f"export {marker}=1; setsid sleep 1000 & (setsid sleep 1000 &); sleep 100", 2)
    assert ran["outcome"] == "timeout", ran
    _no_survivors(marker)


@pytest.mark.parametrize("backend", BOTH)
def test_kill_server(sessions: Sessions, backend: str) -> None:
    s = sessions.box(backend)
    pid = s.server_pid()
    s.call("run_command", {"command": f"kill -9 {pid}; pkill -9 -f ramp-mcp; kill -9 -1"})
    assert Path(f"/proc/{pid}").exists()
    assert s.ok("status")["run_id"] == s.run_id


# -- arguments ------------------------------------------------------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
_NAMES = st.sampled_from(
    ["path", "content", "old", "new", "src", "dst", "pattern", "glob", "command", "cwd",
     "timeout_s", "stage", "case", "input_text", "source", "stdin", "offset", "limit",
     "depth", "recursive", "overwrite", "replace_all", "ignore_case"]
)  # fmt: skip
_SLOW = {"build", "submit_stage", "run_stage", "run_rv64", "run_command"}


def _fuzz_value(draw: st.DrawFn, name: str) -> Any:
    if name == "timeout_s":
        return draw(st.floats(min_value=0.01, max_value=2) | _JSON)
    return draw(_JSON)


@st.composite
def _arguments(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    tool = draw(st.sampled_from(TOOL_NAMES))
    names = draw(st.lists(_NAMES | st.text(max_size=8), max_size=5, unique=True))
    arguments = {n: _fuzz_value(draw, n) for n in names}
    if tool in _SLOW and draw(st.booleans()):
        arguments.pop("stage", None)  # mostly invalid, so mostly quick
    return tool, arguments


def test_fuzz_arguments(sessions: Sessions) -> None:
    s = sessions.get("fuzz")
    s.ok("write_file", {"path": "build.sh", "content": NOOP_BUILD})

    @settings(
        max_examples=150,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(_arguments())
    def one(call: tuple[str, dict[str, Any]]) -> None:
        tool, arguments = call
        if arguments.get("stage") in [st.value for st in Stage] and tool == "submit_stage":
            return
        reply = s.call(tool, arguments)
        if reply.error:
            # An unhandled exception in a tool reads exactly like this, with no reason.
            assert reply.text.strip() not in ("", f"Error executing tool {tool}"), (
                tool,
                arguments,
            )

    one()


def test_huge_arguments(sessions: Sessions) -> None:
    s = sessions.get("fuzz")
    nested: Any = "x"
    for _ in range(60):
        nested = [nested]
    for tool, args, needle in [
        ("write_file", {"path": "big.txt", "content": "x" * (20 << 20)}, "byte limit"),
        ("run_stage", {"stage": "T0", "input_text": "x" * (9 << 20)}, "at most"),
        ("run_command", {"command": "x" * 200_000}, "at most"),
        ("read_file", {"path": "a" * 5000}, "at most"),
        ("write_file", {"path": "n.txt", "content": nested}, "valid string"),
    ]:
        reply = s.call(tool, args)
        assert reply.error and needle in reply.text, (tool, reply.text[:300])
    assert not (s.workspace / "big.txt").exists()


def test_bad_unicode(sessions: Sessions) -> None:
    s = sessions.get("fuzz")
    s.ok("write_file", {"path": "u.txt", "content": "hello"})
    # The SDK's client cannot even send a lone surrogate, so this one speaks the wire by hand.
    calls = [
        ("write_file", '{"path": "s.txt", "content": "a\\ud800b"}'),
        ("edit_file", '{"path": "u.txt", "old": "hello", "new": "\\udfff"}'),
        ("run_command", '{"command": "touch made-by-surrogate \\ud800"}'),
        ("run_stage", '{"stage": "T0", "input_text": "\\ud800"}'),
        ("status", "{}"),
    ]
    head = '{"jsonrpc":"2.0","method":"tools/call","id":'
    requests = [
        f'{head}{number},"params":{{"name":"{tool}","arguments":{arguments}}}}}'
        for number, (tool, arguments) in enumerate(calls, start=1)
    ]
    answers = raw_stdio_exchange(s.run_id, s.ledger_url, requests, wait_s=5)
    for answer in answers[:-1]:
        assert answer is None or "error" in answer or answer["result"].get("isError"), answer
    last = answers[-1]
    assert last is not None and not last["result"].get("isError"), last
    assert (s.workspace / "u.txt").read_text() == "hello"
    assert not (s.workspace / "s.txt").exists() and not (s.workspace / "made-by-surrogate").exists()


def test_binary_files(sessions: Sessions) -> None:
    s = sessions.get("main")
    s.sh("printf 'ELF\\000\\001\\002binary' > blob.bin && printf 'ok \\377\\376 bad\\n' > bad.txt")
    for path in ("blob.bin", "bad.txt"):
        read = s.ok("read_file", {"path": path})
        assert read["binary"] and read["content"] is None and read["hex_preview"], read
        edit = s.call("edit_file", {"path": path, "old": "ok", "new": "no"})
        assert edit.error and "binary" in edit.text
    found = s.ok("grep", {"pattern": "bad|binary"})
    assert not any(m["path"] in ("blob.bin", "bad.txt") for m in found["matches"])
    assert found["files_skipped"] >= 2
    s.sh("rm -f blob.bin bad.txt")


# -- stage programs and grading (one run, T0 .. T4 in order) --------------------------------


def _advance_to(s: Session, stage: Stage) -> None:
    """Fail the open stages before ``stage`` (no program), so ``stage`` opens."""
    for _ in range(6):
        status = s.ok("status")
        if status["open_stage"] is None or Stage(status["open_stage"]) >= stage:
            return
        s.ok("write_file", {"path": "build.sh", "content": NOOP_BUILD})
        s.ok("submit_stage", {"stage": status["open_stage"]})


def _submissions(s: Session, stage: str) -> list[Submission]:
    with Ledger.open(s.ledger_url) as ledger, ledger.session(write=False) as session:
        rows = session.exec(
            select(Submission).where(Submission.run_id == s.run_id, Submission.stage == stage)
        ).all()
        return [Submission.model_validate(r.model_dump()) for r in rows]


def test_sparse_submit(sessions: Sessions) -> None:
    s = sessions.get("grading")
    s.ok("write_file", {"path": "build.sh", "content": NOOP_BUILD})
    s.sh("truncate -s 900M sparse.bin")
    refused = s.call("submit_stage", {"stage": "T0"})
    assert refused.error and "512 MB a submission may hold" in refused.text, refused.text
    t0 = s.ok("status")["stages"][0]
    assert t0["state"] == "open" and t0["attempts_left"] == 1, t0
    s.sh("rm sparse.bin")


def test_race_and_replay(sessions: Sessions) -> None:
    s = sessions.get("grading")
    # bin/t0 prints a public case's reference output for every input.
    case = PUBLIC[0]
    answer = s.sh(f"clang-19 -E -x c -isystem /ramp/include -include sylib.h cases/{case}.sy")
    s.ok("write_file", {"path": "answer.i", "content": answer["stdout"]})
    s.ok("write_file", {"path": "bin/t0", "content": '#!/bin/sh\ncp answer.i "$2"\n'})
    sessions.shared["public"] = s.ok("run_stage", {"stage": "T0", "case": case})
    replies: dict[str, Any] = {}

    async def both() -> None:
        async def submit(key: str) -> None:
            replies[key] = await s.client.call_tool("submit_stage", {"stage": "T0"})

        async def rewrite() -> None:
            await anyio.sleep(0.5)
            replies["rewrite"] = await s.client.call_tool(
                "write_file", {"path": "bin/t0", "content": GOOD_T0}
            )

        async with anyio.create_task_group() as group:
            group.start_soon(submit, "a")
            group.start_soon(submit, "b")
            group.start_soon(rewrite)

    s.portal.call(both)
    errors = [k for k in ("a", "b") if replies[k].is_error]
    assert len(errors) == 1, replies
    graded = replies["b" if errors == ["a"] else "a"].structured_content
    refusal = " ".join(getattr(c, "text", "") for c in replies[errors[0]].content)
    assert "being graded" in refusal or "not open" in refusal, refusal
    rewrite = replies["rewrite"]
    if rewrite.is_error:  # during grading the run's tools are refused until the grade is in
        assert "being graded" in " ".join(getattr(c, "text", "") for c in rewrite.content)
    replay = s.call("submit_stage", {"stage": "T0"})
    assert replay.error and "not open" in replay.text
    rows = [r for r in _submissions(s, "T0") if r.status != "error"]  # sparse-submit's
    assert len(rows) == 1 and rows[0].status == "done", rows
    sessions.shared["t0"] = (graded, rows[0])


def test_hardcoded_answers(sessions: Sessions) -> None:
    public = sessions.shared["public"]
    graded, _ = sessions.shared["t0"]
    # The answer scores on the public case it was copied from (not 100: its line markers
    # name the file as the agent's sandbox saw it), and far less on the hidden ones.
    assert public["score"] > 50, public
    assert graded["score"] < 30 and not graded["passed"], graded


def test_change_after_submit(sessions: Sessions) -> None:
    s = sessions.get("grading")
    graded, row = sessions.shared["t0"]
    # The rewrite made while T0 was graded was refused (the tools wait for the grade) or
    # came before the claim; either way the snapshot graded is the one submitted.
    s.ok("write_file", {"path": "bin/t0", "content": GOOD_T0})
    assert (s.workspace / "bin" / "t0").read_text() == GOOD_T0  # rewritten after submitting
    assert row.snapshot is not None and row.snapshot_hash == _tree_hash(Path(row.snapshot))
    assert "cp answer.i" in (Path(row.snapshot) / "bin" / "t0").read_text()
    # the agent is shown the score rounded down to a whole number (the ledger keeps it exact)
    assert graded["score"] == math.floor(row.chained_score) and graded["score"] < 60, graded


def test_toolchain_call(sessions: Sessions) -> None:
    s = sessions.get("grading")
    _advance_to(s, Stage.T1)
    script = (
        '#!/bin/sh\nclang-19 -Xclang -dump-tokens -fsyntax-only "$1" 2> "$2"\nllc -version\ntrue\n'
    )
    s.ok("write_file", {"path": "bin/t1", "content": script})
    graded = s.ok("submit_stage", {"stage": "T1"})
    assert graded["score"] == 0.0 and any("toolchain" in f for f in graded["integrity_findings"])
    kinds = {(f.stage, f.kind) for f in s.findings()}
    assert ("T1", "toolchain-call") in kinds, kinds


def test_toolchain_copy(sessions: Sessions) -> None:
    s = sessions.get("grading")
    _advance_to(s, Stage.T2)
    s.sh("mkdir -p bin && cp -L /usr/bin/clang-19 bin/t2-helper")
    s.ok("write_file", {"path": "bin/t2", "content": '#!/bin/sh\necho "{}" > "$2"\n'})
    graded = s.ok("submit_stage", {"stage": "T2"})
    assert graded["score"] == 0.0, graded
    kinds = {(f.stage, f.kind) for f in s.findings()}
    assert ("T2", "toolchain-copy") in kinds, kinds
    s.sh("rm -f bin/t2-helper")


_JUDGE_IR = """
@out = private constant [8 x i8] c"run.out\\00"
@target = private constant [{n} x i8] c"{path}\\00"
declare i32 @unlink(ptr)
declare i32 @symlink(ptr, ptr)
define i32 @main() {{
  %a = call i32 @unlink(ptr @out)
  %b = call i32 @symlink(ptr @target, ptr @out)
  ret i32 {exit}
}}
"""


def test_judge_stdout_symlink(sessions: Sessions) -> None:
    s = sessions.get("grading")
    _advance_to(s, Stage.T3)
    cases = [c for c in builtin_corpus() if c.split is Split.PUBLIC and c.stdin is None]
    case = next(c for c in cases if c.expected_stdout and c.expected_stdout.stat().st_size > 0)
    golden = build_golden([case]).cases[0]
    path = str(golden.expected_stdout)
    ir = _JUDGE_IR.format(n=len(path) + 1, path=path, exit=case.expected_exit or 0)
    script = f"#!/bin/sh\ncat > \"$2\" <<'EOF'\n{ir}\nEOF\n"
    s.ok("write_file", {"path": "bin/t3", "content": script})
    judged = s.ok("run_stage", {"stage": "T3", "case": case.name})
    assert judged["ok"] and judged["score"] is not None and judged["score"] < 100, judged


def test_reference_symlink(sessions: Sessions) -> None:
    s = sessions.get("grading")
    _advance_to(s, Stage.T3)
    host = Path("/tmp") / f"ramp-reference-{uuid.uuid4().hex}"
    host.mkdir(mode=0o777)
    host.chmod(0o777)
    try:
        s.sh(f"rm -rf reference && ln -s {host} reference")
        s.ok("write_file", {"path": "bin/t3", "content": "#!/bin/sh\nexit 1\n"})
        graded = s.ok("submit_stage", {"stage": "T3"})
        assert graded["resurrected"] and graded["next_open"] == "T4"
        assert graded["reference_dir"] == "/ramp/reference/T3"
        assert list(host.iterdir()) == []
        assert (s.workspace / "reference").is_symlink(), "the agent's own link is left alone"
        reference = s.workspace.parent / "reference"
        assert (reference / "T3-RESURRECTED.md").is_file() and any((reference / "T3").iterdir())
        assert reference.stat().st_uid == 0 and (reference / "T3").stat().st_mode & 0o777 == 0o755
        seen = s.sh("ls /ramp/reference; touch /ramp/reference/T3/x 2>&1; true")
        assert "T3-RESURRECTED.md" in seen["stdout"] and "Read-only" in seen["stdout"], seen
    finally:
        os.system(f"rm -rf {host}")


def test_fifo_submit(sessions: Sessions) -> None:
    s = sessions.get("grading")
    _advance_to(s, Stage.T4)
    s.sh("mkfifo pipe")
    graded = s.ok("submit_stage", {"stage": "T4"})
    assert graded["stage"] == "T4" and graded["attempt"] == 1
    rows = _submissions(s, "T4")
    assert len(rows) == 1 and rows[0].status == "done" and rows[0].snapshot is not None
    assert not (Path(rows[0].snapshot) / "pipe").exists()
    s.sh("rm -f pipe")


def test_redos_grep(sessions: Sessions) -> None:
    s = sessions.get("fuzz")
    s.ok("write_file", {"path": "redos.txt", "content": "a" * 60 + "!\n"})
    replies: dict[str, Any] = {}

    async def both() -> None:
        async def grep() -> None:
            started = time.monotonic()
            replies["grep"] = await s.client.call_tool(
                "grep", {"pattern": "(a|aa)+$", "path": "redos.txt"}
            )
            replies["grep_s"] = time.monotonic() - started

        async def other() -> None:
            await anyio.sleep(1)
            started = time.monotonic()
            await s.client.call_tool("list_files", {"depth": 1})
            replies["other_s"] = time.monotonic() - started

        async with anyio.create_task_group() as group:
            group.start_soon(grep)
            group.start_soon(other)

    s.portal.call(both)
    text = " ".join(getattr(c, "text", "") for c in replies["grep"].content)
    assert replies["grep"].is_error and "exponential" in text, text
    assert replies["grep_s"] < 30 and replies["other_s"] < 2, replies


# -- score attacks: smuggling answers downstream, leaking through findings ------------------

# bin/t0 that also computes every later stage's answer with the development environment's
# clang and hides it in its output: as a comment line, as an extra line or inside the first
# line marker's file name (chosen per case), each answer gzip+base64 between `RAMP-tN:`
# and `:`.
_SMUGGLING_T0 = r"""#!/bin/sh
set -e
clang-19 -E -x c -isystem /ramp/include -include sylib.h "$1" -o "$2"
d=$(mktemp -d)
clang-19 -cc1 -dump-tokens "$2" 2> "$d/t1"
clang-19 -cc1 -ast-dump=json "$2" > "$d/t2"
clang-19 -S -emit-llvm -O0 -Xclang -disable-O0-optnone "$2" -o "$d/t3"
for t in t1 t2 t3; do printf 'RAMP-%s:%s: ' $t "$(gzip -c "$d/$t" | base64 -w0)"; done > "$d/p"
case "${ROUTE:-$(basename "$1" | cksum | cut -c1)}" in
  comment|[0-2]) { printf '// '; cat "$d/p"; echo; } >> "$2" ;;
  [3-5]) { cat "$d/p"; echo; } >> "$2" ;;
  *) python3 -c 'import sys; t = open(sys.argv[1]).read(); i = t.index(chr(34) + chr(10))
open(sys.argv[1], "w").write(t[:i] + open(sys.argv[2]).read() + t[i:])' "$2" "$d/p" ;;
esac
"""
# The carriers downstream: each stage takes its answer from its input and passes the rest on
# where its scorer barely looks (T1: in chunks, as extra flags of its tokens; T2: an extra
# JSON field).
_CARRIER = r"""#!/usr/bin/env python3
import base64, gzip, json, re, sys
text = open(sys.argv[1]).read()
text += "".join(re.findall(r" \[R:([^\]]*)\]", text))
found = dict(re.findall(r"RAMP-(t[123]):([A-Za-z0-9+/=]*):", text))
if text.lstrip().startswith("{"):
    found["t3"] = json.loads(text[: text.rindex("}") + 1]).get("carried", "")
def answer(stage):
    if not found.get(stage):
        sys.exit("nothing carried")
    return gzip.decompress(base64.b64decode(found[stage])).decode()
"""
_SMUGGLED = {
    "t1": _CARRIER
    + r"""lines = answer("t1").splitlines()
rest = " ".join(f"RAMP-{t}:{found.get(t, '')}:" for t in ("t2", "t3"))
chunks = [rest[i : i + 4000] for i in range(0, len(rest), 4000)]
for i, chunk in enumerate(chunks):
    head, flags, loc = lines[i].rsplit("	", 2)
    lines[i] = f"{head}	{flags} [R:{chunk}]	{loc}"
open(sys.argv[2], "w").write(chr(10).join(lines) + chr(10))
""",
    "t2": _CARRIER
    + r"""tree = json.loads(answer("t2"))
tree["carried"] = found.get("t3", "")
json.dump(tree, open(sys.argv[2], "w"))
""",
    "t3": _CARRIER
    + r"""open(sys.argv[2], "w").write(answer("t3"))
""",
}


def _carriers(s: Session) -> None:
    s.ok("write_file", {"path": "build.sh", "content": "#!/bin/sh\nchmod +x bin/*\n"})
    for name, script in _SMUGGLED.items():
        s.ok("write_file", {"path": f"bin/{name}", "content": script})


def _carried_end_to_end(s: Session) -> None:
    """The carriers work: in the agent's own sandbox a public case goes T0 -> T3 on the
    payload alone and the IR runs correctly (so a 0 at grading is the fix, not a bug)."""
    case = PUBLIC[0]
    chain = (
        f"ROUTE=comment bin/t0 cases/{case}.sy /tmp/a.i && bin/t1 /tmp/a.i /tmp/a.tok && "
        "bin/t2 /tmp/a.tok /tmp/a.json && bin/t3 /tmp/a.json /tmp/a.ll && "
        "clang-19 -w /tmp/a.ll /ramp/include/sylib.c -o /tmp/a && "
        f"(if [ -f cases/{case}.in ]; then /tmp/a < cases/{case}.in; else /tmp/a; fi) > /tmp/a.out; "
        f"cmp /tmp/a.out cases/{case}.out && echo CARRIED"
    )
    ran = s.sh(chain, timeout_s=120)
    assert "CARRIED" in ran["stdout"], ran


def _later_stages_score_nothing(s: Session) -> list[float]:
    """Submit T1, T2, T3 with the carriers; their scores."""
    scores = []
    for stage in ("T1", "T2", "T3"):
        graded = s.ok("submit_stage", {"stage": stage})
        scores.append(graded["score"])
        assert graded["isolated_score"] == 0.0, graded
    return scores


def test_smuggle_after_pass(sessions: Sessions) -> None:
    s = sessions.get("score-smuggle-after")
    s.ok("write_file", {"path": "build.sh", "content": "#!/bin/sh\nchmod +x bin/*\n"})
    s.ok("write_file", {"path": "bin/t0", "content": GOOD_T0})
    t0 = s.ok("submit_stage", {"stage": "T0"})
    assert t0["passed"] and t0["score"] == 100.0, t0
    # Now that T0 passed, bin/t0 grows the payload; later stages only extract it.
    s.ok("write_file", {"path": "bin/t0", "content": _SMUGGLING_T0})
    _carriers(s)
    _carried_end_to_end(s)
    assert _later_stages_score_nothing(s) == [0.0, 0.0, 0.0]
    rows = _submissions(s, "T0")
    assert [r.status for r in rows] == ["done"]  # bin/t0 was graded once, never again


@pytest.mark.parametrize("backend", BOTH)
def test_smuggle_through_t0(sessions: Sessions, backend: str) -> None:
    s = sessions.get(f"score-smuggle-t0-{backend}", backend)
    _carriers(s)
    s.ok("write_file", {"path": "bin/t0", "content": _SMUGGLING_T0})
    _carried_end_to_end(s)
    t0 = s.ok("submit_stage", {"stage": "T0"})
    # Every case carries a payload: none is the reference text, so none is passed on.
    assert t0["score"] <= 59.0 and not t0["passed"] and t0["resurrected"], t0
    assert not any("full marks" in line for line in t0["feedback"]), t0
    assert _later_stages_score_nothing(s) == [0.0, 0.0, 0.0]


# bin/tN that works, and writes the hidden case's name and source (base32) where the
# toolchain stubs record their calls.
_LEAK = (
    '\necho "LEAK-$(basename "$1") $(base32 -w0 "$1" | head -c 400)" '
    ">> /ramp/findings/toolchain-calls\n"
)


@pytest.mark.parametrize("backend", BOTH)
def test_findings_leak(sessions: Sessions, backend: str) -> None:
    s = sessions.get(f"score-findings-leak-{backend}", backend)
    s.ok("write_file", {"path": "build.sh", "content": "#!/bin/sh\nchmod +x bin/*\n"})
    s.ok("write_file", {"path": "bin/t0", "content": GOOD_T0.replace("exec ", "") + _LEAK})
    replies = [s.ok("submit_stage", {"stage": "T0"})]
    for relative in stage_files(Stage.T1):
        content = (SOLUTION_DIR / relative).read_text(encoding="utf-8")
        s.ok("write_file", {"path": relative, "content": content})
    s.sh("mv bin/t1 bin/t1.real")
    s.ok("write_file", {"path": "bin/t1", "content": '#!/bin/sh\nbin/t1.real "$@"' + _LEAK})
    tried = s.ok("run_stage", {"stage": "T1", "case": PUBLIC[0]})
    assert tried["score"] == 0.0 and "else: all" in tried["diagnosis"], tried
    replies += [tried, s.ok("submit_stage", {"stage": "T1"}), s.ok("status")]
    t0, _, t1, _ = replies
    for stage, graded in (("T0", t0), ("T1", t1)):
        assert graded["score"] == graded["isolated_score"] == 0.0 and not graded["passed"]
        assert graded["integrity_findings"] == [
            f"toolchain-call ({stage}): a stage program tried to run the reference toolchain"
        ], graded
    said = json.dumps(replies)
    assert "LEAK-" not in said and not any(name in said for name in HIDDEN), said[:2000]
    found = s.findings()
    assert {(f.stage, f.kind) for f in found} == {
        ("T0", "toolchain-call"),
        ("T1", "toolchain-call"),
    }
    leaked = [
        n
        for n in HIDDEN
        if any(f"LEAK-{n}.sy" in f.detail or f"LEAK-{n}.i" in f.detail for f in found)
    ]
    assert leaked, [f.detail for f in found]
    with Ledger.open(s.ledger_url) as ledger:
        for output_format in ("term", "md", "json", "html"):
            text = str(render_report(ledger, [s.run_id], output_format=output_format))
            text = text.replace("\\_", "_")  # Markdown escapes underscores
            assert "toolchain-call" in text and f"LEAK-{leaked[0]}" in text, output_format


# The attacks out of the box through the server's machinery (code planted for the file
# worker, cancelled commands, a build.sh symlink as an oracle) live in their own module.
from tests.trust.escape_attacks import (  # noqa: E402
    test_build_symlink_oracle as test_build_symlink_oracle,
)
from tests.trust.escape_attacks import (  # noqa: E402
    test_cancelled_commands as test_cancelled_commands,
)
from tests.trust.escape_attacks import (  # noqa: E402
    test_stage_hard_links as test_stage_hard_links,
)
from tests.trust.escape_attacks import (  # noqa: E402
    test_worker_codec_import as test_worker_codec_import,
)

# The exec-policy attacks live in their own module (a program that runs code it wrote, a
# judged program that starts a compiler); collected here, with the rest of the battery.
from tests.trust.exec_attacks import (  # noqa: E402
    test_judge_exec_ir as test_judge_exec_ir,
)
from tests.trust.exec_attacks import (  # noqa: E402
    test_judge_exec_rv64 as test_judge_exec_rv64,
)
from tests.trust.exec_attacks import (  # noqa: E402
    test_stage_written_code as test_stage_written_code,
)

# The file-tool attacks (the symlink race, odd names, deep trees and huge globs, the
# read-only reference tree) live in their own module; collected here.
from tests.trust.file_attacks import (  # noqa: E402
    test_deep_and_huge as test_deep_and_huge,
)
from tests.trust.file_attacks import (  # noqa: E402
    test_odd_names as test_odd_names,
)
from tests.trust.file_attacks import (  # noqa: E402
    test_reference_tree as test_reference_tree,
)
from tests.trust.file_attacks import (  # noqa: E402
    test_symlink_race as test_symlink_race,
)

# The attacks on grading's and run_stage's scratch (no build.sh, deep trees, floods of
# entries, sparse files) live in their own module; collected here.
from tests.trust.grading_attacks import (  # noqa: E402
    test_deep_build_tree as test_deep_build_tree,
)
from tests.trust.grading_attacks import (  # noqa: E402
    test_no_build_sh_submit as test_no_build_sh_submit,
)
from tests.trust.grading_attacks import (  # noqa: E402
    test_sparse_build as test_sparse_build,
)
from tests.trust.grading_attacks import (  # noqa: E402
    test_stage_output_flood as test_stage_output_flood,
)
from tests.trust.redteam2_chain import (  # noqa: E402
    test_graded_t1_gated_on_decoded_code as test_graded_t1_gated_on_decoded_code,
)
from tests.trust.redteam2_chain import (  # noqa: E402
    test_stage_program_exec_stack_held as test_stage_program_exec_stack_held,
)
from tests.trust.redteam2_chain import (  # noqa: E402
    test_t5_incbin_reaches_no_golden_file as test_t5_incbin_reaches_no_golden_file,
)
from tests.trust.redteam2_hidden import (  # noqa: E402
    test_agent_keyrings_carry_bits_out_of_grading as test_agent_keyrings_carry_bits_out_of_grading,
)
from tests.trust.redteam2_hidden import (  # noqa: E402
    test_graded_program_leaves_nothing_for_later as test_graded_program_leaves_nothing_for_later,
)
from tests.trust.redteam2_host import (  # noqa: E402
    test_canary_and_other_token_unreachable as test_canary_and_other_token_unreachable,
)
from tests.trust.redteam2_host import (  # noqa: E402
    test_cgroups_not_writable as test_cgroups_not_writable,
)
from tests.trust.redteam2_host import (  # noqa: E402
    test_cwd_through_fd_symlinks as test_cwd_through_fd_symlinks,
)
from tests.trust.redteam2_host import (  # noqa: E402
    test_no_block_device_image_or_crafted_mount as test_no_block_device_image_or_crafted_mount,
)
from tests.trust.redteam2_host import (  # noqa: E402
    test_open_by_handle_refused as test_open_by_handle_refused,
)
from tests.trust.redteam2_host import (  # noqa: E402
    test_other_runs_cgroup_usage_hidden as test_other_runs_cgroup_usage_hidden,
)
from tests.trust.redteam2_host import (  # noqa: E402
    test_other_runs_loop_devices_hidden as test_other_runs_loop_devices_hidden,
)

# The second red-team round (a second mapping of the measured program, host files and
# other runs from the sandbox, decoded code at grading); collected here.
from tests.trust.redteam2_score import (  # noqa: E402
    test_t4_second_mapping_of_measured as test_t4_second_mapping_of_measured,
)

# The red team on G4 (campaigns: one trial's agent against the campaign's result, its
# views and reports) lives in its own module; collected here.
from tests.trust.redteam_g4 import (  # noqa: E402
    test_campaign_driver_log_has_no_agent_escapes as test_campaign_driver_log_has_no_agent_escapes,
)
from tests.trust.redteam_g4 import (  # noqa: E402
    test_campaign_live_view_survives_agent_markup as test_campaign_live_view_survives_agent_markup,
)
from tests.trust.redteam_g4 import (  # noqa: E402
    test_campaign_locked_workspace_is_charged as test_campaign_locked_workspace_is_charged,
)
from tests.trust.redteam_g4 import (  # noqa: E402
    test_campaign_reroll_is_not_free as test_campaign_reroll_is_not_free,
)
from tests.trust.redteam_g4 import (  # noqa: E402
    test_campaign_status_survives_agent_markup as test_campaign_status_survives_agent_markup,
)
from tests.trust.redteam_g4 import (  # noqa: E402
    test_campaign_unreadable_file_is_charged as test_campaign_unreadable_file_is_charged,
)
from tests.trust.redteam_g4 import (  # noqa: E402
    test_run_reports_carry_no_agent_markup as test_run_reports_carry_no_agent_markup,
)

# The red team's attacks on a generated epoch's secrecy (G5); the module's fixture makes
# the epoch they attack.
from tests.trust.redteam_g5 import epoch_home as epoch_home  # noqa: E402
from tests.trust.redteam_g5 import (  # noqa: E402
    test_epoch_hidden_set_out_of_reach as test_epoch_hidden_set_out_of_reach,
)
from tests.trust.redteam_g5 import test_epoch_seed_is_secret as test_epoch_seed_is_secret  # noqa: E402

# The red team's further attacks on an epoch's secrecy: the seed in a hidden source, the
# shared golden cache, a digest carried from T0 to T1.
from tests.trust.redteam_g5_more import epoch as epoch  # noqa: E402
from tests.trust.redteam_g5_more import (  # noqa: E402
    test_epoch_artifacts_not_readable_outside_epochs as test_epoch_artifacts_not_readable_outside_epochs,
)
from tests.trust.redteam_g5_more import (  # noqa: E402
    test_hidden_sources_do_not_name_the_seed as test_hidden_sources_do_not_name_the_seed,
)
from tests.trust.redteam_g5_more import (  # noqa: E402
    test_seed_does_not_reach_later_stages as test_seed_does_not_reach_later_stages,
)
from tests.trust.redteam_g5_more import (  # noqa: E402
    test_seed_not_in_hidden_source as test_seed_not_in_hidden_source,
)

# The red team on the G6 refactor (the one supervision loop, run_stage in the grader, the
# tools' error decorator) lives in its own module; collected here.
from tests.trust.redteam_g6 import (  # noqa: E402
    test_cancelled_call_kills_everything as test_cancelled_call_kills_everything,
)
from tests.trust.redteam_g6 import (  # noqa: E402
    test_closed_outputs_killed_at_time_limit as test_closed_outputs_killed_at_time_limit,
)
from tests.trust.redteam_g6 import (  # noqa: E402
    test_leftover_daemon_dies_with_the_command as test_leftover_daemon_dies_with_the_command,
)
from tests.trust.redteam_g6 import (  # noqa: E402
    test_output_flood_from_children_stopped as test_output_flood_from_children_stopped,
)
from tests.trust.redteam_g6 import (  # noqa: E402
    test_run_stage_takes_only_a_regular_output as test_run_stage_takes_only_a_regular_output,
)
from tests.trust.redteam_g6 import (  # noqa: E402
    test_tool_errors_tell_no_server_detail as test_tool_errors_tell_no_server_detail,
)

# The red team's hidden-case channels (per-uid counters, scores, grader errors); collected
# here, in the order they depend on (the references test reads the inotify run).
from tests.trust.redteam_hidden import (  # noqa: E402
    failing_hidden_case as failing_hidden_case,
)
from tests.trust.redteam_hidden import (  # noqa: E402
    test_agent_sandbox_holds_no_hidden_data as test_agent_sandbox_holds_no_hidden_data,
)
from tests.trust.redteam_hidden import (  # noqa: E402
    test_grading_error_names_hidden_case as test_grading_error_names_hidden_case,
)
from tests.trust.redteam_hidden import (  # noqa: E402
    test_inotify_channel_from_t0_grading as test_inotify_channel_from_t0_grading,
)
from tests.trust.redteam_hidden import (  # noqa: E402
    test_machine_thread_count_channel as test_machine_thread_count_channel,
)
from tests.trust.redteam_hidden import (  # noqa: E402
    test_no_hidden_case_name_oracle as test_no_hidden_case_name_oracle,
)
from tests.trust.redteam_hidden import (  # noqa: E402
    test_revealed_references_are_public_only as test_revealed_references_are_public_only,
)
from tests.trust.redteam_hidden import (  # noqa: E402
    test_run_stage_sees_only_its_public_case as test_run_stage_sees_only_its_public_case,
)
from tests.trust.redteam_hidden import (  # noqa: E402
    test_score_channel_t0 as test_score_channel_t0,
)
from tests.trust.redteam_score import (  # noqa: E402
    test_t3_bitcode_hides_inline_assembly as test_t3_bitcode_hides_inline_assembly,
)
from tests.trust.redteam_score import (  # noqa: E402
    test_t3_direct_exec_refused as test_t3_direct_exec_refused,
)

# The red team's attacks on the judge's run step (a judged program that execs an
# interpreter or lli through the loader, forges callgrind's dump, hides inline assembly in
# bitcode) live in their own module; collected here.
from tests.trust.redteam_score import (  # noqa: E402
    test_t3_python_through_the_loader as test_t3_python_through_the_loader,
)
from tests.trust.redteam_score import (  # noqa: E402
    test_t4_forged_callgrind_fifo as test_t4_forged_callgrind_fifo,
)
from tests.trust.redteam_score import (  # noqa: E402
    test_t4_measured_program_execve_refused as test_t4_measured_program_execve_refused,
)
from tests.trust.redteam_score import (  # noqa: E402
    test_t4_read_only_forgery_fails as test_t4_read_only_forgery_fails,
)
from tests.trust.redteam_score import (  # noqa: E402
    test_t5_lli_through_the_loader as test_t5_lli_through_the_loader,
)
