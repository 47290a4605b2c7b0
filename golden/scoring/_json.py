"""JSON of any nesting a stage may write: long expressions nest thousands of levels deep."""

from __future__ import annotations

import json
import sys
import threading

from ._models import shorten

__all__ = ["MAX_JSON_DEPTH", "load_ast", "parse_json"]

MAX_JSON_DEPTH = 400_000
"""JSON nesting :func:`load_ast` always accepts; much deeper input counts as unparseable."""

# json's C scanner uses roughly 100-150 bytes of C stack per nesting level (measured on
# CPython 3.11); 512 bytes per level leaves a wide margin against a segfault.
_STACK_BYTES = (16 * 1024 * 1024 + 512 * MAX_JSON_DEPTH) // 4096 * 4096
_DEEP_LOCK = threading.Lock()


def parse_json(text: str | bytes) -> tuple[object, str]:
    """The parsed value and "" on success, else None and why parsing failed."""
    try:
        return json.loads(text), ""
    except RecursionError:
        return _parse_deep(text)
    except ValueError as exc:  # JSONDecodeError, bad UTF-8, over-long integer literals
        return None, f"not valid JSON ({shorten(str(exc), 80)})"


def _parse_deep(text: str | bytes) -> tuple[object, str]:
    # The C scanner recurses once per nesting level: run it on a thread with a big stack
    # and a recursion limit to match, then put both process-wide settings back.
    outcome: list[tuple[object, str]] = []

    def work() -> None:
        try:
            outcome.append((json.loads(text), ""))
        except RecursionError:
            outcome.append((None, f"JSON nested deeper than {MAX_JSON_DEPTH} levels"))
        except ValueError as exc:
            outcome.append((None, f"not valid JSON ({shorten(str(exc), 80)})"))

    with _DEEP_LOCK:
        old_limit = sys.getrecursionlimit()
        old_stack = threading.stack_size()
        try:
            threading.stack_size(_STACK_BYTES)
            sys.setrecursionlimit(MAX_JSON_DEPTH + 100)
            helper = threading.Thread(target=work, name="ramp-load-ast")
            helper.start()
            helper.join()
        except (RuntimeError, ValueError, MemoryError):
            pass  # no big-stack thread on this platform: the input counts as unparseable
        finally:
            sys.setrecursionlimit(old_limit)
            threading.stack_size(old_stack)
    return outcome[0] if outcome else (None, "JSON too deep to parse on this platform")


def load_ast(text: str | bytes) -> object | None:
    """Parse JSON of any nesting up to :data:`MAX_JSON_DEPTH`; None when it is not valid."""
    value, _ = parse_json(text)
    return value
