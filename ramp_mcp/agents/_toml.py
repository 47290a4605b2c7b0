"""Writing TOML for agent configuration files (the standard library only reads it)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

from ramp_mcp.agents._errors import AgentConfigError

__all__ = ["dump_toml"]

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else json.dumps(key)


def _value(value: Any, where: str) -> str:
    # JSON string escapes (\" \\ \n \uXXXX ...) are all valid in TOML basic strings.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(item, where) for item in value) + "]"
    if isinstance(value, Mapping):
        inner = ", ".join(f"{_key(str(k))} = {_value(v, f'{where}.{k}')}" for k, v in value.items())
        return "{" + inner + "}"
    raise AgentConfigError(f"cannot write {where} = {value!r} as TOML ({type(value).__name__})")


def dump_toml(document: Mapping[str, Any]) -> str:
    """``document`` as TOML: plain keys first, then one ``[table]`` per nested mapping."""
    lines: list[str] = []

    def table(path: list[str], body: Mapping[str, Any]) -> None:
        scalars = [(k, v) for k, v in body.items() if not isinstance(v, Mapping)]
        tables = [(k, v) for k, v in body.items() if isinstance(v, Mapping)]
        if path and (scalars or not tables):
            lines.append(f"[{'.'.join(_key(p) for p in path)}]")
        for key, value in scalars:
            lines.append(f"{_key(str(key))} = {_value(value, '.'.join([*path, str(key)]))}")
        if scalars:
            lines.append("")
        for key, value in tables:
            table([*path, str(key)], value)

    table([], document)
    return "\n".join(lines).rstrip() + "\n"
