"""Stage T3: JSON AST -> LLVM IR (text), in the shape clang -O0 writes it."""

from __future__ import annotations

import gc
import json
import sys
import threading

from ._cli import run_stage
from .irgen_module import generate_module

__all__ = ["generate_ir", "main"]

# The AST of a long expression nests a few thousand JSON levels and the generator recurses
# along it: give both a deep Python stack and a thread with room for it.
_RECURSION_LIMIT = 200_000
_STACK_BYTES = 256 * 1024 * 1024


def generate_ir(text: str) -> str:
    # The AST is millions of acyclic containers: the cyclic collector would only rescan
    # them, again and again, while they are built.
    gc.disable()
    return generate_module(json.loads(text))


def main(argv: list[str]) -> int:
    status: list[int] = []

    def run() -> None:
        status.append(run_stage(argv, generate_ir, "t3"))

    sys.setrecursionlimit(_RECURSION_LIMIT)
    threading.stack_size(_STACK_BYTES)
    worker = threading.Thread(target=run)
    worker.start()
    worker.join()
    return status[0] if status else 1
