"""docs/attacks.md is the battery's table, and every attack in it has its test."""

from __future__ import annotations

import tests.trust.test_attacks as battery
from tests.trust.attacks import ATTACKS, DOC, render


def test_published_table_matches_the_battery() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/attacks.md differs from tests/trust/attacks.py; regenerate it with "
        "`python -m tests.trust.attacks`"
    )


def test_every_attack_has_a_test_and_every_test_an_attack() -> None:
    assert len(ATTACKS) >= 30
    ids = [a.id for a in ATTACKS]
    assert len(ids) == len(set(ids)), "duplicate attack ids"
    tests = {name for name in dir(battery) if name.startswith("test_")}
    assert {a.test_name for a in ATTACKS} == tests
