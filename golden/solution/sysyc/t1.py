"""Stage T1: preprocessed SysY text to clang's token dump (`bin/t1 INPUT OUTPUT`)."""

from __future__ import annotations

from functools import partial

from ._cli import run_stage
from .lex_dump import format_token_dump
from .lex_tokens import tokenize

__all__ = ["main", "transform"]


def transform(source: str, file: str = "") -> str:
    """The token dump of preprocessed text read from ``file``."""
    return format_token_dump(tokenize(source, file))


def main(argv: list[str]) -> int:
    # Without line markers clang names locations after the input path as given.
    file = argv[0] if argv else ""
    return run_stage(argv, partial(transform, file=file), "t1")
