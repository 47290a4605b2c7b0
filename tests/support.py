"""Helpers the tests share (fixtures live in conftest.py)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from toolchain._engine import docker_client
from toolchain._errors import EngineUnavailableError
from toolchain._image import find_image, find_rootfs
from toolchain._manifest import Profile


def backend_missing(name: str, profile: Profile = Profile.DEV) -> str | None:
    """Why ``name`` cannot run ``profile`` here, or None when it can."""
    if name == "bwrap":
        if shutil.which("bwrap") is None:
            return "bubblewrap is not installed"
        return None if find_rootfs(profile) else f"{profile.value} root file system not built"
    try:
        client = docker_client(10)
    except EngineUnavailableError as exc:
        return str(exc)
    try:
        return None if find_image(profile, client) else f"{profile.value} image not built"
    finally:
        client.close()


def processes_with_marker(marker: str) -> list[int]:
    """Host pids whose environment carries ``marker`` (survivors of a sandboxed command)."""
    needle = marker.encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def reachable_temp_dir(prefix: str) -> Path:
    """A new directory under /tmp the sandbox user (uid 1000) can enter (tmp_path is 0700)."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    path.chmod(0o755)
    return path


def free_port() -> int:
    """A localhost TCP port nothing listens on (at the time of asking)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def shared_ramp_home(prefix: str) -> Path:
    """A RAMP home of a test's own (reachable by the sandbox user) that shares the machine's
    root file systems and golden cache: runs, ledgers and epochs made in it are its own."""
    from toolchain._paths import ramp_home

    home = reachable_temp_dir(prefix)
    for shared in ("rootfs", "golden"):
        (home / shared).symlink_to(ramp_home() / shared)
    return home


@contextmanager
def ramp_home_set(home: Path) -> Iterator[Path]:
    """``RAMP_HOME`` is ``home`` in this process (and what it starts) until the block ends;
    the home is removed afterwards."""
    before = os.environ.get("RAMP_HOME")
    os.environ["RAMP_HOME"] = str(home)
    try:
        yield home
    finally:
        if before is None:
            os.environ.pop("RAMP_HOME", None)
        else:
            os.environ["RAMP_HOME"] = before
        shutil.rmtree(home, ignore_errors=True)


def ramp_command(home: Path, *argv: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    """``argv`` (``ramp ...``, ``ramp-grade ...``: this venv's) with ``RAMP_HOME=home`` and
    no ledger URL of the caller's; with ``ok`` it must exit 0."""
    env = {**os.environ, "RAMP_HOME": str(home)}
    env.pop("RAMP_LEDGER_URL", None)
    program = str(Path(sys.executable).parent / argv[0])
    done = subprocess.run(
        [program, *argv[1:]], capture_output=True, text=True, timeout=1800, env=env
    )
    if ok:
        assert done.returncode == 0, done.stderr[-3000:]
    return done
