"""Attacks on a generated epoch's secrecy (G5), through the MCP tools only.

The generator is public, so an epoch's programs are a function of its seed: whoever has the
seed, or any file of the epoch, has the hidden set. The attacks:

* **epoch-hidden-set-out-of-reach**: from a run graded on an epoch, look for the epoch's
  files by path and by name anywhere in the sandbox, and for the epoch's id (it names the
  counts and a digest of the seed) in what the MCP server tells the agent.
* **epoch-seed-is-secret**: an id must not carry the seed; `epoch new` without `--seed`
  must draw one no one can enumerate, and a small seed is refused unless the operator says
  it is for a test (`--guessable-seed`).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from golden.epochs import epoch_id
from golden.generator import GENERATOR_VERSION
from grader.ledger import Ledger
from tests.support import backend_missing, ramp_command, ramp_home_set, shared_ramp_home
from tests.trust.session import live_session
from toolchain._manifest import Profile

SEED = 31
EPOCH = epoch_id(SEED, 2, 1)


def _ramp(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return ramp_command(home, "ramp", *args)


@pytest.fixture(scope="module")
def epoch_home() -> Iterator[Path]:
    """A RAMP home holding one small epoch, the default of new runs (`epoch use`)."""
    if backend_missing("bwrap") or backend_missing("bwrap", Profile.DEV):
        pytest.skip("bwrap not ready")
    with ramp_home_set(shared_ramp_home("ramp-test-rt-g5-")) as home:
        _ramp(home, "golden", "epoch", "new", "--seed", str(SEED), "--guessable-seed",
              "--functional", "2", "--performance", "1", "--backend", "bwrap")  # fmt: skip
        _ramp(home, "golden", "epoch", "use", EPOCH)
        yield home


def _hunt(epoch_dir: Path, home: Path) -> str:
    """The shell an attacker runs: the epoch by path, by name and by text, everywhere."""
    line = (epoch_dir / "cases" / "gen_f0001.sy").read_text().splitlines()[2].strip()
    return (
        f"cat {epoch_dir}/manifest.json {epoch_dir}/cases/*; ls -la {home}/epochs {epoch_dir}; "
        "find / -xdev \\( -name 'gen_f0*' -o -name 'gen_p0*' -o -name 'manifest.json' \\) "
        f"2>/dev/null | grep -v '^/usr/' ; grep -rlsF -- {json.dumps(line)} /ramp /tmp /home "
        "/root /var 2>/dev/null; echo done"
    )


@pytest.mark.parametrize("backend", ["bwrap", "docker"])
def test_epoch_hidden_set_out_of_reach(epoch_home: Path, backend: str) -> None:
    if backend_missing(backend):
        pytest.skip(f"{backend} not ready")
    url = f"sqlite:///{epoch_home / 'ledger.sqlite3'}"
    epoch_dir = epoch_home / "epochs" / EPOCH
    sources = [p.read_text() for p in (epoch_dir / "cases").glob("*.sy")]
    with live_session(url, backend=backend, sample=None) as session:
        with Ledger.open(url) as ledger:
            assert ledger.get_run(session.run_id).epoch == EPOCH  # graded on the epoch
        seen = session.sh(_hunt(epoch_dir, epoch_home), timeout_s=120)
        told = json.dumps(session.ok("status")) + json.dumps(
            session.ok("list_files", {"path": "."})
        )
    assert seen["stdout"].endswith("done\n"), seen
    out = seen["stdout"]
    assert "gen_f0" not in out and "gen_p0" not in out, out
    assert not any(source in out for source in sources), out
    assert EPOCH not in told and EPOCH not in out, told
    for path in Path(session.workspace).rglob("*"):
        assert "gen_" not in path.name, path


def test_epoch_seed_is_secret(epoch_home: Path) -> None:
    # The id: generator version, counts and 12 hex digits of a digest; never the seed.
    assert re.fullmatch(rf"g{GENERATOR_VERSION}-f2-p1-[0-9a-f]{{12}}", EPOCH), EPOCH
    made = [
        json.loads(
            _ramp(
                epoch_home,
                "golden",
                "epoch",
                "new",
                "--functional",
                "1",
                "--performance",
                "0",
                "--backend",
                "bwrap",
                "--json",
            ).stdout
        )
        for _ in range(2)
    ]
    seeds = [view["seed"] for view in made]
    assert seeds[0] != seeds[1] and min(seeds) >= 1 << 40, seeds
    for view in made:
        assert str(view["seed"]) not in view["epoch"]
    refused = ramp_command(
        epoch_home, "ramp", "golden", "epoch", "new", "--seed", "5", "--functional", "1", ok=False
    )
    assert refused.returncode == 2 and "error: seed 5 can be guessed" in refused.stderr
    assert sorted(p.name for p in (epoch_home / "epochs").iterdir()) == sorted(
        ["CURRENT", EPOCH, *(view["epoch"] for view in made)]
    ), "a refused seed made nothing"
