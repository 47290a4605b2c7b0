"""More attacks on a generated epoch's secrecy (G5), beyond tests/trust/redteam_g5.py.

The generator is public, so an epoch's seed IS its hidden set: whoever has the seed makes
every program and its expected output. The attacks here:

* **seed-in-hidden-source** (through MCP): a functional program's first line is the
  comment ``// generated functional program N (seed S)``. bin/t0, graded, reads it: it
  preprocesses honestly (clang -E, allowed at T0) but spoils case N when bit N of S is 1,
  so the T0 score spells the seed's bits to the agent. Each bit of the channels kept out
  of grading (score, counts per category, timing; docs/threat-model.md) is then a bit of
  the seed, and the seed is the whole epoch.
* **epoch-artifacts-in-shared-cache** (host): making or grading an epoch builds its golden
  artifacts (T0.i with the program, expected.out, the reference T5.s) through
  golden._builder into ``ramp_home()/golden/KEY/gen_*``, which is 0755/0644: any local
  user reads the hidden set that ``epochs/`` keeps 0700.

Both assert the secure outcome, so both fail while the weakness is there.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from golden import SOLUTION_DIR, Stage
from ramp_mcp._scripted_agent import stage_files
from tests.support import backend_missing, ramp_command, ramp_home_set, shared_ramp_home
from tests.trust.session import live_session
from toolchain._manifest import Profile


@dataclass(frozen=True)
class Epoch:
    home: Path
    epoch: str
    seed: int
    cases: dict[str, Path]  # name -> hidden source


def _ramp(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return ramp_command(home, "ramp", *args)


@pytest.fixture(scope="module")
def epoch() -> Iterator[Epoch]:
    """A RAMP home with one small epoch of a random (secret) seed, the default of new runs."""
    if backend_missing("bwrap") or backend_missing("bwrap", Profile.DEV):
        pytest.skip("bwrap not ready")
    with ramp_home_set(shared_ramp_home("ramp-test-rt-g5m-")) as home:
        argv = "golden epoch new --functional 4 --performance 1 --backend bwrap --json"
        made = json.loads(_ramp(home, *argv.split()).stdout)
        _ramp(home, "golden", "epoch", "use", made["epoch"])
        cases = {c["name"]: Path(c["source"]) for c in made["cases"]}
        yield Epoch(home=home, epoch=made["epoch"], seed=int(made["seed"]), cases=cases)


# bin/t0: the honest preprocessor, but a case whose hidden source names a seed is spoiled.
# (The manual run spoiled case N only when bit N of the seed was 1: on an epoch of 20+5
# cases, bwrap and docker both scored the 12 full marks the seed's bits predicted.)
_SEED_T0 = r"""#!/bin/sh
if sed -n 1p "$1" | grep -Eq '\(seed [0-9]+\)'; then echo spoiled > "$2"; exit 0; fi
exec clang-19 -E -x c -isystem /ramp/include -include sylib.h "$1" -o "$2"
"""


@pytest.mark.parametrize("backend", ["bwrap", "docker"])
def test_seed_not_in_hidden_source(epoch: Epoch, backend: str) -> None:
    if backend_missing(backend):
        pytest.skip(f"{backend} not ready")
    url = f"sqlite:///{epoch.home / 'ledger.sqlite3'}"
    with live_session(url, backend=backend, sample=None) as session:
        session.ok("write_file", {"path": "bin/t0", "content": _SEED_T0})
        session.ok("write_file", {"path": "build.sh", "content": "#!/bin/sh\nchmod +x bin/t0\n"})
        assert session.sh("chmod +x build.sh bin/t0 && echo ok")["stdout"] == "ok\n"
        graded = session.ok("submit_stage", {"stage": "T0"})
    total = len(epoch.cases)
    feedback = " ".join(graded["feedback"])
    # Secure: nothing in a hidden source names the seed, so bin/t0 spoils nothing and every
    # case is right (the honest preprocessor scores 100).
    assert graded["score"] == 100, (
        f"bin/t0 found the seed in the hidden sources of {total} cases: {feedback!r}, "
        f"score {graded['score']}"
    )


def test_hidden_sources_do_not_name_the_seed(epoch: Epoch) -> None:
    """The same property on the host (quick): no hidden source carries its seed's digits."""
    carrying = [name for name, p in epoch.cases.items() if str(epoch.seed) in p.read_text()]
    assert not carrying, f"the hidden sources {carrying} name the epoch's seed {epoch.seed}"


def _readable_by_nobody(path: Path) -> bool:
    done = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "cat", str(path)],
        capture_output=True,
        timeout=30,
    )
    return done.returncode == 0 and len(done.stdout) > 0


def _files_named(root: Path, name: str) -> Iterator[Path]:
    """Every file called ``name`` under ``root``, not following links (a test home links
    the machine's root file systems)."""
    for directory, _, files in os.walk(root):
        if name in files:
            yield Path(directory) / name


def test_epoch_artifacts_not_readable_outside_epochs(epoch: Epoch) -> None:
    """After `epoch new`, every copy of a hidden program's T0 artifact, wherever RAMP keeps
    it (the machine's shared golden cache, the epoch's own), is unreadable to another local
    user; the epoch's own copies are found, so the search is not empty."""
    epoch_dir = epoch.home / "epochs" / epoch.epoch
    wanted = {(epoch_dir / "golden" / name / "T0.i").read_bytes() for name in epoch.cases}
    found: list[Path] = []
    for root in (epoch.home, (epoch.home / "golden").resolve()):
        found += [p for p in _files_named(root, "T0.i") if p.read_bytes() in wanted]
    assert len({p.read_bytes() for p in found}) == len(wanted), found
    leaked = [str(p) for p in found if _readable_by_nobody(p)]
    for copy in found:  # the expected outputs and reference assembly beside each copy
        leaked += [str(p) for p in copy.parent.glob("*.s") if _readable_by_nobody(p)]
        expected = copy.parent / "expected.out"
        if expected.is_file() and _readable_by_nobody(expected):
            leaked.append(str(expected))
    assert not leaked, f"the epoch's hidden programs and answers are world-readable: {leaked}"


# bin/t0 passes honestly and, for every hidden case, leaves a digest of the hidden source
# (what it would know of the seed, were the seed in it) in each place a later stage program
# might look; bin/t1 spoils its output when it finds one.
_STASH = "/tmp /dev/shm /ramp/output /ramp/findings /ramp/workspace $HOME /var/tmp"
_STASH_T0 = rf"""#!/bin/sh
seed=$(cksum "$1" | cut -d' ' -f1)
for d in {_STASH}; do echo "$seed" > "$d/ramp-seed" 2>/dev/null; done
exec clang-19 -E -x c -isystem /ramp/include -include sylib.h "$1" -o "$2"
"""
_STASH_T1 = rf"""#!/bin/sh
for d in {_STASH}; do
  if grep -Eqs '[0-9]' "$d/ramp-seed"; then echo "carried $(cat "$d/ramp-seed")" > "$2"; exit 0; fi
done
if grep -Eqs '\(seed [0-9]+\)' "$1"; then echo "in input" > "$2"; exit 0; fi
exec "$(dirname "$0")/t1real" "$@"
"""


def _install_t1(session: Any) -> None:
    """The reference solution's T1 as bin/t1real, behind the stash-reading bin/t1."""
    for relative in stage_files(Stage.T1):
        content = (SOLUTION_DIR / relative).read_text(encoding="utf-8")
        target = "bin/t1real" if relative == "bin/t1" else relative
        session.ok("write_file", {"path": target, "content": content})
    session.ok("write_file", {"path": "bin/t1", "content": _STASH_T1})
    build = "#!/bin/sh\nset -eu\nchmod +x bin/*\npython3 -m compileall -q sysyc\n"
    session.ok("write_file", {"path": "build.sh", "content": build})


@pytest.mark.parametrize("backend", ["bwrap", "docker"])
def test_seed_does_not_reach_later_stages(epoch: Epoch, backend: str) -> None:
    """A graded T0 knows the seed; nothing it leaves reaches the T1 program graded next."""
    if backend_missing(backend):
        pytest.skip(f"{backend} not ready")
    url = f"sqlite:///{epoch.home / 'ledger.sqlite3'}"
    with live_session(url, backend=backend, sample=None) as session:
        session.ok("write_file", {"path": "bin/t0", "content": _STASH_T0})
        _install_t1(session)
        assert session.sh("chmod +x build.sh bin/* && ./build.sh && echo ok")["stdout"] == "ok\n"
        t0 = session.ok("submit_stage", {"stage": "T0"})
        assert t0["passed"], t0
        t1 = session.ok("submit_stage", {"stage": "T1"})
    assert t1["score"] == 100, f"T1 found what T0 left: {t1['feedback']}, score {t1['score']}"
