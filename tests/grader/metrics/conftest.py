"""Shared inputs for the metrics tests: the RAMP paper's two published rows."""

from __future__ import annotations

from pathlib import Path

import pytest

PUBLISHED_CSV = (
    "model,T0,T1,T2,T3,T4,T5,elapsed_s,cost_usd,total_tokens\n"
    'gpt-5.5,100,100,100,100,48.25,0,5440.69,8.770572,"22,179,194"\n'
    'claude-opus-4-7,100,100,100,100,68.4,100,11913.79,126.24,"218,860,749"\n'
)


@pytest.fixture
def published_csv(tmp_path: Path) -> Path:
    path = tmp_path / "published.csv"
    path.write_text(PUBLISHED_CSV, encoding="utf-8")
    return path
