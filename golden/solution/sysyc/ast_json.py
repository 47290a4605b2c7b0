"""Writing the AST as compact JSON."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["dump_ast"]


def dump_ast(tree: dict[str, Any]) -> str:
    """One line of JSON; the caller provides enough recursion depth for deep trees."""
    return json.dumps(tree, separators=(",", ":")) + "\n"
