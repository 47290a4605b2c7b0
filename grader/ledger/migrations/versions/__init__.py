"""One file per schema revision; alembic orders them by ``down_revision``."""

from __future__ import annotations

__all__: list[str] = []
