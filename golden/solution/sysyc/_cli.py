"""The stage programs' common command line: `bin/tN INPUT OUTPUT`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path


def run_stage(argv: list[str], transform: Callable[[str], str], usage: str) -> int:
    """Read INPUT, write transform(INPUT) to OUTPUT; errors go to stderr with status 1."""
    if len(argv) != 2:
        print(f"usage: {usage} INPUT OUTPUT", file=sys.stderr)
        return 2
    source = Path(argv[0]).read_text(encoding="utf-8", errors="surrogateescape")
    Path(argv[1]).write_text(transform(source), encoding="utf-8", errors="surrogateescape")
    return 0
