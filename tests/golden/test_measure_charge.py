"""The T4 count charges work done outside the module's code (golden._measure).

A program can run its work at addresses outside its own section (a second mapping of its
executable, code written into memory); callgrind still counts every instruction it
executes, so what ran outside beyond the runtime's own work for the case is charged."""

from __future__ import annotations

from golden._measure import Measurement, runtime_slack


def _measured(agent: int, memory: int, outside: int) -> Measurement:
    return Measurement(
        counted=agent + memory, agent=agent, memory=memory, total=agent + memory + outside
    )


def test_an_honest_run_is_charged_nothing() -> None:
    run = _measured(agent=5_000_000, memory=20_000, outside=9_000_000)
    assert run.outside == 9_000_000
    assert run.charged(9_000_000) == run.counted
    # the runtime's work varies a little with alignment: within the slack, no charge
    assert _measured(5_000_000, 0, 9_000_000 + runtime_slack(9_000_000)).charged(9_000_000) == (
        5_000_000
    )


def test_work_moved_outside_the_section_is_charged() -> None:
    # the second-mapping attack: almost nothing counted in the section, the work outside
    hidden = _measured(agent=400, memory=0, outside=9_000_000 + 25_000_000)
    assert hidden.charged(9_000_000) == 400 + 25_000_000  # the whole excess


def test_doing_less_outside_earns_nothing() -> None:
    assert _measured(1_000, 0, 10).charged(9_000_000) == 1_000
