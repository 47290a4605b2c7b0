"""Alembic migrations of the ledger's schema (run programmatically by ``upgrade_to_head``)."""

from __future__ import annotations

__all__: list[str] = []
