"""Stage T2: clang's token dump to clang's JSON AST (`bin/t2 INPUT OUTPUT`)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from ._cli import run_stage
from .ast_json import dump_ast
from .ast_parser import parse_translation_unit
from .ast_sema import SemanticError
from .lex_dump import read_token_dump

__all__ = ["main", "transform"]

# Deeply nested programs recurse deeply in the parser and in the JSON encoder.
_RECURSION_LIMIT = 200_000
_STACK_BYTES = 256 * 1024 * 1024


def transform(dump: str) -> str:
    """The JSON AST of a token dump."""
    return dump_ast(parse_translation_unit(read_token_dump(dump)))


def _with_deep_stack(work: Callable[[], int]) -> int:
    """Run ``work`` on a thread with a big stack and a matching recursion limit."""
    old_limit = sys.getrecursionlimit()
    old_stack = threading.stack_size()
    sys.setrecursionlimit(_RECURSION_LIMIT)
    threading.stack_size(_STACK_BYTES)
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="t2") as pool:
            return pool.submit(work).result()
    finally:
        threading.stack_size(old_stack)
        sys.setrecursionlimit(old_limit)


def main(argv: list[str]) -> int:
    def work() -> int:
        try:
            return run_stage(argv, transform, "t2")
        except SemanticError as exc:
            print(f"t2: {exc}", file=sys.stderr)
            return 1

    return _with_deep_stack(work)
