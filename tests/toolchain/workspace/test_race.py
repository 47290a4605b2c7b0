"""The symlink race against every file operation: thousands of calls while a directory on
their path is swapped with a symlink to a host canary, and not one hit.

Two modes: the workers as the server runs them under root (chrooted, the run's uid), and
the workers with root's powers and no chroot, so openat2 alone is what holds. Two
variants: the directory the operation works in is swapped, or its parent is.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pydantic import BaseModel

from tests.toolchain.workspace.race import Canary, Swapper, lay_out_race
from tests.toolchain.workspace.support import UID, give, open_workspace
from toolchain._errors import RampError
from toolchain.workspace import Workspace, snapshot_tree

CALLS = 2000
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the race runs as the sandbox uid")


@dataclass
class Race:
    ws: Workspace
    root: Path
    prefix: str
    canary: Canary
    scratch: Path
    calls: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    """How calls ended: refused, or what they saw (to show the race was live)."""
    hits: list[str] = field(default_factory=list)

    def attempt(self, call: Callable[[], BaseModel | str]) -> None:
        """One operation: a RampError is a refusal, anything else escapes the test."""
        self.calls += 1
        try:
            seen = call()
        except RampError:
            self.outcomes["refused"] += 1
        else:
            text = seen if isinstance(seen, str) else seen.model_dump_json()
            real = "decoy" in text or "victim.txt" in text
            self.outcomes["saw the real directory" if real else "saw nothing of it"] += 1
            if self.canary.leaked(text):
                self.hits.append(f"call {self.calls}: {text[:300]}")
        if not self.canary.intact():
            self.hits.append(f"call {self.calls}: the canary changed")
            self.canary.initial = self.canary.fingerprint()


def _list(race: Race, i: int) -> None:
    race.attempt(lambda: race.ws.list_tree(race.prefix, depth=2))
    race.attempt(lambda: race.ws.list_tree("race", depth=4))


def _read(race: Race, i: int) -> None:
    race.attempt(lambda: race.ws.read(f"{race.prefix}/secret.txt"))
    race.attempt(lambda: race.ws.read(f"{race.prefix}/sub/deep.txt"))


def _write(race: Race, i: int) -> None:
    race.attempt(lambda: race.ws.write(f"{race.prefix}/new-{i % 50}.txt", "written"))
    race.attempt(lambda: race.ws.write(f"{race.prefix}/victim.txt", "alpha\n"))


def _edit(race: Race, i: int) -> None:
    race.attempt(lambda: race.ws.edit(f"{race.prefix}/victim.txt", "alpha", "gamma"))
    race.attempt(lambda: race.ws.edit(f"{race.prefix}/victim.txt", "gamma", "alpha"))


def _delete(race: Race, i: int) -> None:
    # A delete that succeeds can only have removed a decoy: say so, for the tally.
    race.attempt(lambda: race.ws.delete(f"{race.prefix}/del-target").model_dump_json() + "decoy")
    race.attempt(lambda: race.ws.write(f"{race.prefix}/del-target", "decoy\n"))
    if i % 4 == 0:
        race.attempt(lambda: race.ws.delete(f"{race.prefix}/sub", recursive=True))
        race.attempt(lambda: race.ws.write(f"{race.prefix}/sub/deep.txt", "decoy\n"))


def _loot(race: Race) -> str:
    loot = race.root / "loot.txt"
    return loot.read_text() if loot.is_file() and not loot.is_symlink() else ""


def _move(race: Race, i: int) -> None:
    race.attempt(lambda: race.ws.move(f"{race.prefix}/mv-a", f"{race.prefix}/mv-b"))
    race.attempt(lambda: race.ws.move(f"{race.prefix}/mv-b", f"{race.prefix}/mv-a"))
    race.attempt(lambda: race.ws.move(f"{race.prefix}/secret.txt", "loot.txt").src + _loot(race))
    race.attempt(lambda: race.ws.move("loot.txt", f"{race.prefix}/secret.txt").dst)


def _glob(race: Race, i: int) -> None:
    race.attempt(
        lambda: " ".join(race.ws.glob(f"{race.prefix}/*").matches).replace("del-", "decoy")
    )
    race.attempt(lambda: " ".join(race.ws.glob("race/**/d/*").matches).replace("del-", "decoy"))


def _grep(race: Race, i: int) -> None:
    race.attempt(lambda: race.ws.grep("CANARY|decoy", path=race.prefix))
    race.attempt(lambda: race.ws.grep("CANARY", path="race"))


def _copied(dest: Path) -> str:
    seen = []
    for directory, names, files in os.walk(dest):
        seen += names + files
        for name in files:
            path = Path(directory) / name
            if not path.is_symlink():
                seen.append(path.read_text(errors="replace"))
    return " ".join(seen)


def _snapshot(race: Race, i: int) -> None:
    dest = race.scratch / f"snap-{i}"

    def take() -> str:
        snapshot_tree(race.ws, dest, max_bytes=1 << 20, max_entries=1000)
        # "decoy" only when the racing directory was copied as a directory, not a link.
        copied = _copied(dest)
        racing = dest / race.prefix
        return (
            copied if racing.is_dir() and not racing.is_symlink() else copied.replace("decoy", "")
        )

    race.attempt(take)
    shutil.rmtree(dest, ignore_errors=True)


TOOLS: dict[str, Callable[[Race, int], None]] = {
    "list": _list,
    "read": _read,
    "write": _write,
    "edit": _edit,
    "delete": _delete,
    "move": _move,
    "glob": _glob,
    "grep": _grep,
    "snapshot": _snapshot,
}


@pytest.fixture(params=["confined", "openat2-only"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def workspace_for(mode: str) -> Iterator[Callable[[Path], Workspace]]:
    opened: list[Workspace] = []

    def open_it(root: Path) -> Workspace:
        give(root)
        if mode == "confined":
            ws = open_workspace(root)
        else:
            ws = Workspace(root, openat2_only_for_tests=True)
        opened.append(ws)
        return ws

    yield open_it
    for ws in opened:
        ws.close()


@pytest.mark.parametrize("variant", ["dir", "parent"])
@pytest.mark.parametrize("tool", list(TOOLS))
def test_no_operation_wins_the_symlink_race(
    tool: str,
    variant: str,
    mode: str,
    root: Path,
    tmp_path: Path,
    workspace_for: Callable[[Path], Workspace],
) -> None:
    canary = Canary(tmp_path / "host")
    prefix = lay_out_race(root, canary, variant)
    ws = workspace_for(root)
    (tmp_path / "snaps").mkdir()
    race = Race(ws, root, prefix, canary, tmp_path / "snaps")
    first, second = ("race/d", "race/l") if variant == "dir" else ("race/p", "race/q")
    action = TOOLS[tool]
    with Swapper(root, first, second, UID) as swapper:
        iteration = 0
        while race.calls < CALLS:
            action(race, iteration)
            iteration += 1
    assert race.hits == [], race.hits[:5]
    assert canary.intact()
    assert swapper.swaps > 10_000, swapper.swaps
    # The race was live: some calls met the real directory, others the symlink.
    live = race.outcomes["saw the real directory"]
    assert live > 20 and race.calls - live > 20, race.outcomes
    print(f"{tool}/{variant}/{mode}: {race.calls} calls, {dict(race.outcomes)}, 0 hits")
