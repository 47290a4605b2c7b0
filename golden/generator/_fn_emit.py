"""Indented SysY text, line by line, for the functional generator."""

from __future__ import annotations

__all__ = ["Emitter"]


class Emitter:
    """Collects lines at the current block depth (two spaces a level)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.level = 0

    def line(self, text: str) -> None:
        self.lines.append("  " * self.level + text)

    def open(self, head: str) -> None:
        """``head {`` and one level deeper."""
        self.line(f"{head} {{" if head else "{")
        self.level += 1

    def close(self, tail: str = "") -> None:
        """``}`` (or ``} tail {`` when ``tail`` continues the statement, as ``else``)."""
        self.level -= 1
        if tail:
            self.line(f"}} {tail} {{")
            self.level += 1
        else:
            self.line("}")

    def blank(self) -> None:
        self.lines.append("")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"
