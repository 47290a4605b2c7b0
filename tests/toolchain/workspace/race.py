"""The symlink race, as an agent would run it, and the canary it must never reach.

A swapper process (the run's uid, like a command in the agent's sandbox) exchanges a real
directory of the workspace with a symlink to a host directory, atomically and as fast as
it can, with ``renameat2(RENAME_EXCHANGE)``. Meanwhile every file operation is called
thousands of times on paths through that directory. The host directory is a canary:
world-writable (so only the confinement protects it), full of names and a token that must
never show up in a result, and fingerprinted so any change, creation, deletion or chown
shows.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

SWAPPER = r"""
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
stop, seconds = sys.argv[1], float(sys.argv[2])
names = [name.encode() for name in sys.argv[3:]]
pairs = list(zip(names[::2], names[1::2]))
started = time.monotonic()
swaps = 0
while time.monotonic() - started < seconds and not os.path.exists(stop):
    for _ in range(250):
        for first, second in pairs:
            if libc.syscall(316, -100, first, -100, second, 2) == 0:
                swaps += 1
print(swaps, flush=True)
"""
"""Exchanges each pair of names (relative to its directory) until ``stop`` exists or
``seconds`` pass, then prints how many exchanges it made: ``stop seconds a1 b1 a2 b2 ...``.
Python 3 and ctypes only, so it runs in the sandboxes too."""

# The system's Python: the uid the swapper runs as may not reach the test's own (under /root).
PYTHON = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable

DECOYS = {
    "secret.txt": "decoy\n",
    "victim.txt": "alpha\n",
    "del-target": "decoy\n",
    "mv-a": "decoy\n",
    "sub/deep.txt": "decoy\n",
}


@dataclass
class Canary:
    """``base/d``: a host directory laid out like the racing one, with a token inside."""

    base: Path
    token: str = field(default_factory=lambda: f"CANARY-{uuid.uuid4().hex}")

    def __post_init__(self) -> None:
        self.dir = self.base / "d"
        (self.dir / "sub").mkdir(parents=True)
        for rel in DECOYS:
            (self.dir / rel).write_text(f"{self.token} {rel}\n")
        (self.dir / f"only-in-canary-{self.token}.txt").write_text(self.token)
        for path in (self.base, self.dir, self.dir / "sub"):
            path.chmod(0o777)
        for path in self.dir.rglob("*"):
            if path.is_file():
                path.chmod(0o666)
        self.initial = self.fingerprint()

    def fingerprint(self) -> dict[str, tuple[object, ...]]:
        """Every entry under ``base``: kind, mode, owner, inode, and content hash."""
        seen: dict[str, tuple[object, ...]] = {}
        for directory, names, files in os.walk(self.base):
            for name in names + files:
                path = Path(directory) / name
                info = path.lstat()
                digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
                seen[str(path.relative_to(self.base))] = (
                    info.st_mode,
                    info.st_uid,
                    info.st_gid,
                    info.st_ino,
                    info.st_nlink,
                    digest,
                )
        return seen

    def intact(self) -> bool:
        return self.fingerprint() == self.initial

    def leaked(self, text: str) -> bool:
        return self.token in text or "only-in-canary" in text


def lay_out_race(root: Path, canary: Canary, variant: str) -> str:
    """The racing directory and its symlink; the prefix the operations use."""
    race = root / "race"
    if variant == "dir":
        real = race / "d"
        link, target = race / "l", canary.dir
        prefix = "race/d"
    else:
        real = race / "p" / "d"
        link, target = race / "q", canary.base
        prefix = "race/p/d"
    (real / "sub").mkdir(parents=True)
    for rel, text in DECOYS.items():
        (real / rel).write_text(text)
    link.symlink_to(target)
    return prefix


@dataclass
class Swapper:
    """The racing process, as the run's uid, exchanging ``first`` and ``second``."""

    root: Path
    first: str
    second: str
    uid: int
    seconds: float = 300

    def __enter__(self) -> Swapper:
        self.stop = self.root / ".stop-swapping"
        self.process = subprocess.Popen(
            [PYTHON, "-c", SWAPPER, self.stop.name, str(self.seconds), self.first, self.second],
            cwd=self.root,
            stdout=subprocess.PIPE,
            text=True,
            user=self.uid if os.geteuid() == 0 else None,
            group=self.uid if os.geteuid() == 0 else None,
        )
        time.sleep(0.2)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.touch()
        try:
            out, _ = self.process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, _ = self.process.communicate()
        self.swaps = int(out.strip() or 0)
