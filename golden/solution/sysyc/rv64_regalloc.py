"""Register allocation: liveness over machine IR, then linear scan over live intervals.

Instruction i (in layout order) reads its operands at position 2i and writes its result at
2i+1. A virtual register's interval is [first position it is live, last one], without
holes. An interval that is live across a call (live before and after it) may only get a
callee-saved register; the others prefer caller-saved ones. When no register is free, the
interval ending last (the current one or an active one) lives in a stack slot instead.

t0, t1, t2 and t6 are never allocated: the emitter uses them to reload spilled operands,
to break copy cycles and to reach far stack offsets.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left

from .rv64_mir import MFunction

CALLER_SAVED = ("a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "t3", "t4", "t5")
CALLEE_SAVED = ("s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "s0")
FRAME_POINTER = "s0"


class Allocation:
    """Where each virtual register lives: a register name, or a frame slot (int)."""

    def __init__(self, locations: list[str | int], callee_saved_used: list[str]) -> None:
        self.locations = locations
        self.callee_saved_used = callee_saved_used


def live_intervals(mf: MFunction) -> tuple[list[int], list[int], list[int]]:
    """(start, end, call positions); start > end for a register never used."""
    blocks = mf.blocks
    index_of = {block.label: i for i, block in enumerate(blocks)}
    count = len(blocks)
    gens: list[set[int]] = []
    kills: list[set[int]] = []
    bounds: list[tuple[int, int]] = []
    calls: list[int] = []
    position = 0
    for block in blocks:
        gen: set[int] = set()
        kill: set[int] = set()
        first = position
        for instr in block.instrs:
            for use in instr.uses:
                if type(use) is int and use not in kill:
                    gen.add(use)
            kill.update(instr.defs)
            if instr.op == "call":
                calls.append(position)
            position += 2
        gens.append(gen)
        kills.append(kill)
        bounds.append((first, position - 1))
    successors = [[index_of[label] for label in block.successors()] for block in blocks]
    live_in: list[set[int]] = [set(g) for g in gens]
    live_out: list[set[int]] = [set() for _ in blocks]
    changed = True
    while changed:
        changed = False
        for i in range(count - 1, -1, -1):
            succ = successors[i]
            if not succ:
                continue
            if len(succ) == 1:
                out = live_in[succ[0]]
            else:
                out = live_in[succ[0]] | live_in[succ[1]]
                for extra in succ[2:]:
                    out |= live_in[extra]
            if len(out) == len(live_out[i]):
                continue
            live_out[i] = set(out)
            new_in = gens[i] | (out - kills[i])
            if len(new_in) != len(live_in[i]):
                live_in[i] = new_in
                changed = True
    total = mf.vreg_count
    big = position + 10
    start = [big] * total
    end = [-1] * total
    position = 0
    for i, block in enumerate(blocks):
        first, last = bounds[i]
        for v in live_in[i]:
            if start[v] > first:
                start[v] = first
        for v in live_out[i]:
            end[v] = last
        for instr in block.instrs:
            for use in instr.uses:
                if type(use) is int:
                    if end[use] < position:
                        end[use] = position
                    if start[use] > position:
                        start[use] = position
            for d in instr.defs:
                if start[d] > position + 1:
                    start[d] = position + 1
                if end[d] < position + 1:
                    end[d] = position + 1
            position += 2
    return start, end, calls


def allocate(mf: MFunction) -> Allocation:
    start, end, calls = live_intervals(mf)
    callee_pool = [r for r in CALLEE_SAVED if not (mf.has_dynamic_alloca and r == FRAME_POINTER)]
    callee_set = frozenset(callee_pool)
    free_caller = list(reversed(CALLER_SAVED))
    free_callee = list(reversed(callee_pool))
    locations: list[str | int] = [""] * mf.vreg_count
    order = sorted((v for v in range(mf.vreg_count) if end[v] >= 0), key=start.__getitem__)
    active: list[tuple[int, int]] = []
    hints = mf.copy_hints
    used_callee: set[str] = set()

    def release(reg: str) -> None:
        (free_callee if reg in callee_set else free_caller).append(reg)

    def spill(v: int) -> None:
        locations[v] = mf.new_slot(8, 8)

    for v in order:
        here = start[v]
        while active and active[0][0] < here:
            _, old = heapq.heappop(active)
            release(str(locations[old]))
        # a call at position c crosses v when v is live at c (before it) and after c + 1
        k = bisect_left(calls, here)
        crosses = k < len(calls) and calls[k] + 1 < end[v]
        chosen = ""
        hint = hints.get(v)
        if hint is not None:
            wanted = locations[hint]
            if isinstance(wanted, str) and wanted:
                if wanted in free_callee:
                    free_callee.remove(wanted)
                    chosen = wanted
                elif not crosses and wanted in free_caller:
                    free_caller.remove(wanted)
                    chosen = wanted
        if not chosen:
            if not crosses and free_caller:
                chosen = free_caller.pop()
            elif free_callee:
                chosen = free_callee.pop()
        if chosen:
            locations[v] = chosen
            heapq.heappush(active, (end[v], v))
            if chosen in callee_set:
                used_callee.add(chosen)
            continue
        victim = -1
        for _, other in active:
            reg = locations[other]
            if (not crosses or reg in callee_set) and (victim < 0 or end[other] > end[victim]):
                victim = other
        if victim >= 0 and end[victim] > end[v]:
            locations[v] = locations[victim]
            spill(victim)
            active = [(e, w) for e, w in active if w != victim]
            heapq.heapify(active)
            heapq.heappush(active, (end[v], v))
        else:
            spill(v)
    ordered_callee = [r for r in CALLEE_SAVED if r in used_callee]
    return Allocation(locations, ordered_callee)
