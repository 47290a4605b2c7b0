"""Live servers for the attack battery: one run and one `ramp-mcp --run` per purpose."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from tests.support import backend_missing
from tests.trust.session import Session, live_session
from toolchain._capped import remove_tree
from toolchain._manifest import Profile


class Sessions:
    """Sessions opened on demand and kept for the module; each must still answer after
    every test."""

    def __init__(self, ledger_url: str, stack: ExitStack) -> None:
        self.ledger_url = ledger_url
        self._stack = stack
        self._open: dict[str, Session] = {}
        self.shared: dict[str, Any] = {}

    def get(self, name: str, backend: str = "bwrap") -> Session:
        if name not in self._open:
            why = backend_missing(backend) or backend_missing(backend, Profile.MINIMAL)
            if why:
                pytest.skip(f"{backend}: {why}")
            session = self._stack.enter_context(live_session(self.ledger_url, backend=backend))
            self._open[name] = session
        return self._open[name]

    def box(self, backend: str) -> Session:
        """The session for sandbox attacks on ``backend``."""
        return self.get(f"sandbox-{backend}", backend)

    def check_alive(self) -> None:
        for name, session in self._open.items():
            reply = session.call("status")
            assert not reply.error, f"the {name} server stopped serving: {reply.text}"
            assert reply.data["run_id"] == session.run_id


@pytest.fixture(scope="module")
def sessions() -> Iterator[Sessions]:
    if backend_missing("bwrap") or backend_missing("bwrap", Profile.MINIMAL):
        pytest.skip("bwrap not ready")
    directory = Path(tempfile.mkdtemp(prefix="ramp-test-trust-"))
    homes: list[Path] = []
    try:
        with ExitStack() as stack:
            pool = Sessions(f"sqlite:///{directory / 'ledger.sqlite3'}", stack)
            yield pool
            homes = [s.workspace.parent for s in pool._open.values()]
    finally:
        for home in homes:
            remove_tree(home)  # unmounts the run's capped workspace first
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(autouse=True)
def _still_serving(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each attack, every server used so far answers a further call."""
    yield
    if "sessions" in request.fixturenames:
        pool: Sessions = request.getfixturevalue("sessions")
        pool.check_alive()
