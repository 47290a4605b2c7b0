"""The battery's file-tool attacks (rows symlink-race, odd-names, deep-and-huge and
reference-tree in tests/trust/attacks.py). Imported into test_attacks.py, where they are
collected.

The symlink race: a swapper in the agent's own sandbox (run_command) exchanges workspace
directories with symlinks to a host canary while the SDK client calls every file tool,
hundreds of times each. Two pairs are swapped at once: ``race/d`` with ``race/l`` (a link to
the canary directory) and ``race/p`` with ``race/q`` (a link to the canary's parent), so
both the directory a tool works in and its parent change under it.
"""

from __future__ import annotations

import os
import shlex
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from golden import Stage
from tests.toolchain.workspace.race import DECOYS, SWAPPER, Canary
from tests.trust.attacks import BOTH
from tests.trust.conftest import Sessions
from tests.trust.session import Reply, Session

__all__ = [
    "RaceTally",
    "race_file_tools",
    "test_deep_and_huge",
    "test_odd_names",
    "test_reference_tree",
    "test_symlink_race",
]

PREFIXES = ("race/d", "race/p/d")
_STOP = ".stop-swapping"


@dataclass
class RaceTally:
    calls: dict[str, int] = field(default_factory=dict)
    refused: dict[str, int] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)
    swaps: int = 0


def _layout_command(canary: Canary) -> str:
    lines = ["rm -rf race loot.txt", "mkdir -p race/d/sub race/p/d/sub"]
    for prefix in PREFIXES:
        for rel, text in DECOYS.items():
            lines.append(f"printf %s {shlex.quote(text)} > {prefix}/{rel}")
    lines.append(f"ln -s {shlex.quote(str(canary.dir))} race/l")
    lines.append(f"ln -s {shlex.quote(str(canary.base))} race/q")
    lines.append(f"rm -f {_STOP}")
    return " && ".join(lines)


def _calls(prefix: str, i: int) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """What each tool is asked, on the ``i``-th round, through ``prefix``."""
    return {
        "list_files": [("list_files", {"path": prefix, "depth": 2})],
        "read_file": [("read_file", {"path": f"{prefix}/{('secret.txt', 'sub/deep.txt')[i % 2]}"})],
        "write_file": [
            ("write_file", {"path": f"{prefix}/new-{i % 20}.txt", "content": "written"}),
        ],
        "edit_file": [
            ("edit_file", {"path": f"{prefix}/victim.txt", "old": "alpha", "new": "gamma"}),
            ("edit_file", {"path": f"{prefix}/victim.txt", "old": "gamma", "new": "alpha"}),
        ],
        "delete_path": [
            ("delete_path", {"path": f"{prefix}/del-target"}),
            ("write_file", {"path": f"{prefix}/del-target", "content": "decoy\n"}),
        ],
        "move_path": [
            ("move_path", {"src": f"{prefix}/mv-a", "dst": f"{prefix}/mv-b"}),
            ("move_path", {"src": f"{prefix}/mv-b", "dst": f"{prefix}/mv-a"}),
            ("move_path", {"src": f"{prefix}/secret.txt", "dst": "loot.txt"}),
            ("move_path", {"src": "loot.txt", "dst": f"{prefix}/secret.txt"}),
        ],
        "glob": [("glob", {"pattern": f"{prefix}/**"})],
        "grep": [("grep", {"pattern": "CANARY|decoy", "path": prefix})],
    }


def _judge(session: Session, canary: Canary, tally: RaceTally, tool: str, reply: Reply) -> None:
    tally.calls[tool] = tally.calls.get(tool, 0) + 1
    if reply.error:
        tally.refused[tool] = tally.refused.get(tool, 0) + 1
        if not reply.text.strip() or reply.text.strip() == f"Error executing tool {tool}":
            tally.hits.append(f"{tool}: an unexplained error {reply.text!r}")
    if canary.leaked(reply.text) or canary.leaked(str(reply.data)):
        tally.hits.append(f"{tool}: {reply.text[:300]}")
    loot = session.workspace / "loot.txt"
    if loot.is_file() and not loot.is_symlink() and canary.leaked(loot.read_text()):
        tally.hits.append(f"{tool}: the canary's secret was moved into the workspace")
    if not canary.intact():
        tally.hits.append(f"{tool}: the canary changed")
        canary.initial = canary.fingerprint()


def race_file_tools(session: Session, *, per_tool: int, seconds: float) -> RaceTally:
    """Run the race on ``session``; every file tool is called ``per_tool`` times (fewer only
    if ``seconds`` run out)."""
    canary = Canary(Path("/tmp") / f"ramp-canary-{uuid.uuid4().hex}")
    tally = RaceTally()
    try:
        session.sh(_layout_command(canary))
        swapper = f"python3 -c {shlex.quote(SWAPPER)} {_STOP} {seconds + 60:g} "
        swapper += "race/d race/l race/p race/q"
        running = session.portal.start_task_soon(
            lambda: session.client.call_tool(
                "run_command", {"command": swapper, "timeout_s": seconds + 120}
            )
        )
        time.sleep(1.0)
        deadline = time.monotonic() + seconds
        tools = list(_calls("x", 0))
        round_ = 0
        while time.monotonic() < deadline and min(tally.calls.get(t, 0) for t in tools) < per_tool:
            for tool in tools:
                for name, arguments in _calls(PREFIXES[round_ % 2], round_)[tool]:
                    _judge(session, canary, tally, name, session.call(name, arguments))
            round_ += 1
        (session.workspace / _STOP).touch()
        finished = Reply.of(running.result(timeout=180))
        assert not finished.error, finished.text
        tally.swaps = int(finished.data["stdout"].strip() or 0)
    finally:
        (session.workspace / _STOP).touch()
        shutil.rmtree(canary.base, ignore_errors=True)
        session.sh(f"rm -rf race loot.txt {_STOP}")
    return tally


RACE_CALLS = 500
RACE_SECONDS = 300


@pytest.mark.parametrize("backend", BOTH)
def test_symlink_race(sessions: Sessions, backend: str) -> None:
    s = sessions.box(backend)
    tally = race_file_tools(s, per_tool=RACE_CALLS, seconds=RACE_SECONDS)
    print(f"{backend}: {tally.swaps} swaps, calls {tally.calls}, refused {tally.refused}")
    assert tally.hits == [], tally.hits[:5]
    assert tally.swaps > 10_000, tally.swaps
    for tool in _calls("x", 0):
        assert tally.calls[tool] >= RACE_CALLS, tally.calls
        # The race was live: each tool met the symlink some of the time.
        assert tally.refused.get(tool, 0) > 5 or tool == "glob", (tool, tally.refused)


# shown name -> (the name's bytes, how the shell in the sandbox spells it)
_ODD = {
    "caf\\xe9.c": (b"caf\xe9.c", "\"$(printf 'caf\\351.c')\""),
    "\\xff\\xfe": (b"\xff\xfe", "\"$(printf '\\377\\376')\""),
    "back\\\\slash": (b"back\\slash", "'back\\slash'"),
    "line\nbreak": (b"line\nbreak", "\"$(printf 'line\\nbreak')\""),
}


def test_odd_names(sessions: Sessions) -> None:
    s = sessions.get("main")
    made = " && ".join(
        f"printf 'needle %s\\n' {i} > odd/{shell}" for i, (_, shell) in enumerate(_ODD.values())
    )
    s.sh(f"rm -rf odd && mkdir odd && {made}")
    on_disk = sorted(os.fsencode(p.name) for p in (s.workspace / "odd").iterdir())
    assert on_disk == sorted(raw for raw, _ in _ODD.values()), on_disk
    listed = sorted(e["path"] for e in s.ok("list_files", {"path": "odd"})["entries"])
    assert listed == sorted(f"odd/{name}" for name in _ODD), listed
    for index, name in enumerate(_ODD):
        path = f"odd/{name}"
        assert s.ok("read_file", {"path": path})["content"] == f"needle {index}\n"
        assert s.ok("glob", {"pattern": f"odd/{name}"})["matches"] == [path]
        found = s.ok("grep", {"pattern": f"needle {index}", "path": "odd"})["matches"]
        assert [m["path"] for m in found] == [path]
        assert s.ok("edit_file", {"path": path, "old": "needle", "new": "pin"})["replacements"] == 1
        assert s.ok("move_path", {"src": path, "dst": f"{path}.moved"})["dst"] == f"{path}.moved"
        assert s.ok("write_file", {"path": f"{path}.new", "content": "x"})["created"]
        s.ok("delete_path", {"path": f"{path}.new"})
    on_disk = sorted(os.fsencode(p.name) for p in (s.workspace / "odd").iterdir())
    assert on_disk == sorted(raw + b".moved" for raw, _ in _ODD.values()), on_disk
    s.ok("delete_path", {"path": "odd", "recursive": True})


def test_deep_and_huge(sessions: Sessions) -> None:
    s = sessions.get("fuzz")
    s.sh(
        "python3 -c \"import os\nfor _ in range(2000): os.mkdir('d'); os.chdir('d')\n"
        "open('x', 'w').close()\"",
        timeout_s=120,
    )
    deep = s.call("read_file", {"path": "/".join(["d"] * 2000) + "/x"})
    assert deep.error and "more than the 256" in deep.text, deep.text[:300]
    listed = s.ok("list_files", {"path": "d", "depth": 20})
    assert len(listed["entries"]) == 20
    found = s.ok("glob", {"pattern": "**/x"})
    assert found["matches"] == [] and "deeper than 256 levels" in (found["note"] or ""), found
    started = time.monotonic()
    collapsed = s.ok("glob", {"pattern": "**/" * 339 + "nothing"})
    assert collapsed["matches"] == [] and time.monotonic() - started < 10
    too_many = s.call("glob", {"pattern": "/".join(f"s{i}" for i in range(65))})
    assert too_many.error and "more than the 64" in too_many.text, too_many.text
    refused = s.call("delete_path", {"path": "d", "recursive": True})
    assert refused.error and "rm -rf" in refused.text, refused.text
    s.sh("rm -rf d", timeout_s=120)


def test_reference_tree(sessions: Sessions) -> None:
    from tests.trust.test_attacks import _advance_to

    s = sessions.get("grading")
    _advance_to(s, Stage.T1)
    listed = s.ok("list_files", {"path": "/ramp/reference", "depth": 2})
    assert all(e["path"].startswith("/ramp/reference/") for e in listed["entries"]), listed
    files = [e["path"] for e in listed["entries"] if e["path"].startswith("/ramp/reference/T0/")]
    assert files, listed
    read = s.ok("read_file", {"path": files[0], "limit": 200})
    assert read["path"] == files[0] and read["size"] > 0
    assert files[0] in s.ok("glob", {"pattern": "/ramp/reference/T0/*"})["matches"]
    grepped = s.ok("grep", {"pattern": "sylib", "path": "/ramp/reference/T0"})
    assert all(m["path"].startswith("/ramp/reference/T0/") for m in grepped["matches"])
    for tool, arguments in [
        ("write_file", {"path": "/ramp/reference/T0/x.i", "content": "x"}),
        ("edit_file", {"path": files[0], "old": "int", "new": "long"}),
        ("delete_path", {"path": files[0]}),
        ("move_path", {"src": files[0], "dst": "stolen.i"}),
        ("move_path", {"src": "build.sh", "dst": "/ramp/reference/T0/build.sh"}),
    ]:
        reply = s.call(tool, arguments)
        assert reply.error and "read-only" in reply.text, (tool, reply.text)
    for path in ("/ramp/referencex/y", "/ramp/scratch/x", "/etc/passwd", "/ramp/reference/../x"):
        reply = s.call("read_file", {"path": path})
        assert reply.error and ("absolute" in reply.text or "'..'" in reply.text), (path, reply)
