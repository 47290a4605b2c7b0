"""What T4 counts: the instructions the submitted module's own code executes.

The measured program runs whole under callgrind, collection on from the first instruction
to the last, never switched (no client request can be issued: the interface check refuses
assembly and client requests, and the runtime's timer only reads the clock). Callgrind
records the cost of every executed instruction by address, and every call with its call
site, target and inclusive cost. The count is

    Σ cost of instructions inside the module's code
  + Σ inclusive cost of the calls the module's code makes to memcpy, memset and memmove

The module's code is its ``.text``, renamed to ``.ramp.agent`` before the link, so it is a
section of the executable of its own whatever its functions are called; memcpy, memset and
memmove are the measurement runtime's own simple loops (glibc would pick a variant by the
CPU), counted only when the module calls them (the runtime's scanf and printf call them
too). The runtime interface (I/O, scanf, printf, the timer), libc and the C start-up are not
counted, and nothing the module does to or around the timer calls changes the count.

A call from the module's code to anything but its own code, the runtime interface and the
three memory functions (reached through a computed address) is an escape: the work done
there would not be counted, so it is reported as tampering.

Where code lies is only half of it: a program that maps its own executable a second time,
writes code into anonymous memory or over the runtime's code, and runs its work there,
executes it at addresses outside the module's section. So nothing executed goes
unaccounted: callgrind counts every instruction the client executes, wherever it lies
(``total``), and the rest of the run besides the module's code and its memory calls
(``outside``: the runtime interface, libc, the C start-up) does the same work for every
correct output of a case, because the calls to the runtime are the program's own (their
arguments and order are its behaviour). The golden build records that work per case
(``runtime_instructions``, the reference run's ``outside``); an output whose ``outside``
is larger by more than a slack (1% plus 10,000) is charged the whole excess
(:meth:`Measurement.charged`): the
runtime's own memory loops take a few instructions more or fewer as its buffers' alignment
moves with the module's data (measured: about 100 in 6-9 million between the T3 and T4
references of a case); hidden work beyond the slack is charged in full, so it never
scores above running the same work in the module.

Only callgrind's own, whole dump is read: its header first, one part, costs that are counts,
and a summary and totals that agree with them (the judge also keeps the measured program
from replacing or removing the file, golden._judge); anything else is no count at all.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from golden._elf import STT_FUNC, ElfFile
from golden._interface import MEMORY_FUNCTIONS, RUNTIME_INTERFACE
from golden.scoring import read_timer_calls
from toolchain import RampError

__all__ = [
    "AGENT_SECTION",
    "CALLGRIND_OPTIONS",
    "MEASURE_VERSION",
    "DumpTampered",
    "Layout",
    "MeasureError",
    "Measurement",
    "count_instructions",
    "layout_of",
    "runtime_slack",
    "timer_calls",
]

AGENT_SECTION = ".ramp.agent"
# Bumped when what is counted changes (part of the golden key: the manifest's counts).
MEASURE_VERSION = "2"
# The slack's floor: a few hundred instructions move between runs even where the runtime's
# work is small (measured up to 614 in 27,000, perf_spmv); programs count in the millions.
_SLACK_FLOOR = 10_000
# --vgdb=no: valgrind makes no FIFO for a debugger (nothing in the measuring run but the
# dump may be created, golden._judge).
CALLGRIND_OPTIONS = (
    "--tool=callgrind --collect-atstart=yes --combine-dumps=yes --dump-instr=yes "
    "--dump-line=no --compress-strings=no --compress-pos=no --vgdb=no"
)


class MeasureError(RampError):
    """The measurement's own data is unusable (not the agent's fault): rebuild and rerun."""


class DumpTampered(MeasureError):
    """The callgrind output holds text callgrind did not write: the program wrote into it."""


class Layout(BaseModel):
    """Where the counted code lies in the measured executable."""

    model_config = ConfigDict(frozen=True)

    agent: tuple[int, int]
    memory: dict[str, int]
    runtime: dict[str, int]

    def in_agent(self, address: int) -> bool:
        return self.agent[0] <= address < self.agent[1]


class Measurement(BaseModel):
    """The count and what it is made of."""

    model_config = ConfigDict(frozen=True)

    counted: int
    agent: int
    memory: int
    total: int
    escapes: tuple[str, ...] = ()

    @property
    def outside(self) -> int:
        """What ran besides the module's code and its memory calls."""
        return self.total - self.counted

    def charged(self, runtime_instructions: int) -> int:
        """The count, plus whatever ran outside the module's code beyond what the runtime,
        libc and the start-up do for this case (``runtime_instructions``) and its slack."""
        excess = self.outside - runtime_instructions
        if excess <= runtime_slack(runtime_instructions):
            return self.counted
        return self.counted + excess  # beyond the slack, the whole excess


def runtime_slack(runtime_instructions: int) -> int:
    """How far the work outside the module may vary between correct outputs of a case."""
    return runtime_instructions // 100 + _SLACK_FLOOR


def layout_of(executable: ElfFile) -> Layout:
    """The agent section's address range and the entry points the module may call."""
    agent = [s for s in executable.sections if s.name == AGENT_SECTION]
    if len(agent) != 1 or not agent[0].executable or agent[0].writable:
        raise MeasureError(
            f"the measured executable has no single read-only code section {AGENT_SECTION}"
        )
    entries: dict[str, int] = {}
    for symbol in executable.symbols:
        wanted = symbol.name in MEMORY_FUNCTIONS or symbol.name in RUNTIME_INTERFACE
        if wanted and symbol.is_global and not symbol.undefined and symbol.type == STT_FUNC:
            entries[symbol.name] = symbol.value
    missing = sorted(MEMORY_FUNCTIONS - entries.keys())
    if missing:
        raise MeasureError(f"the measured executable lacks the runtime's {', '.join(missing)}")
    return Layout(
        agent=(agent[0].address, agent[0].address + agent[0].size),
        memory={n: a for n, a in entries.items() if n in MEMORY_FUNCTIONS},
        runtime={n: a for n, a in entries.items() if n in RUNTIME_INTERFACE},
    )


def _cost_line(line: str) -> tuple[int, int]:
    fields = line.split()
    cost = fields[1] if len(fields) > 1 else "0"
    if not cost.isdigit():
        raise MeasureError(f"the callgrind output has a cost that is not a count: {line[:80]!r}")
    return int(fields[0], 16), int(cost)


def count_instructions(callgrind: str, layout: Layout) -> Measurement:
    """Apply the definition above to a callgrind output file (``CALLGRIND_OPTIONS``)."""
    if "\npositions: instr\n" not in callgrind or "\nevents: Ir\n" not in callgrind:
        raise MeasureError("the callgrind output is not per-instruction Ir costs")
    _require_one_dump(callgrind)
    memory_entries = {a: n for n, a in layout.memory.items()}
    allowed = set(layout.runtime.values()) | set(memory_entries)
    agent = memory = total = 0
    escapes: list[str] = []
    target: int | None = None
    for line in callgrind.splitlines():
        if line.startswith("calls="):
            target = int(line.split()[1], 16)
            continue
        if not line.startswith("0x"):
            continue
        site, cost = _cost_line(line)
        if target is None:
            total += cost
            if layout.in_agent(site):
                agent += cost
        elif layout.in_agent(site):
            if target in memory_entries:
                memory += cost
            elif not layout.in_agent(target) and target not in allowed:
                escapes.append(f"a call from {site:#x} to {target:#x}, outside the interface")
        target = None
    _require_complete(callgrind, total)
    return Measurement(
        counted=agent + memory,
        agent=agent,
        memory=memory,
        total=total,
        escapes=tuple(dict.fromkeys(escapes)),
    )


_HEADER = "# callgrind format"


def _require_one_dump(callgrind: str) -> None:
    """Callgrind's header must start the file, once: callgrind appends its dump to what the
    file holds, and text before it (negative costs, a dangling calls= line swallowing a
    real cost) would change what is counted."""
    if not callgrind.startswith(_HEADER + "\n") and f"\n{_HEADER}\n" in callgrind:
        raise DumpTampered(
            "the measured program wrote into callgrind's output file (text before its dump)"
        )
    if not callgrind.startswith(_HEADER + "\n") or callgrind.count(f"\n{_HEADER}\n") != 0:
        raise MeasureError("the callgrind output is not one dump that starts the file")


def _require_complete(callgrind: str, total: int) -> None:
    """The dump must be whole and one part: its own summary (in the header) and totals (its
    last line) both equal the sum of its costs. A dump cut short (a full disk, a lowered
    file-size limit) or in two parts (one requested early) would count less than was run."""
    lines = callgrind.rstrip("\n").splitlines()
    summaries = [line for line in lines if line.startswith("summary:")]
    if not lines[-1].startswith("totals:") or len(summaries) != 1:
        raise MeasureError("the callgrind output is incomplete (no final totals line)")
    declared = {lines[-1].split(":", 1)[1].strip(), summaries[0].split(":", 1)[1].strip()}
    if declared != {str(total)}:
        raise MeasureError(
            f"the callgrind output is inconsistent: it declares {sorted(declared)} "
            f"instructions, its costs add up to {total}"
        )


def timer_calls(stderr: str) -> str | None:
    """The runtime's record of the timer calls (``S12@3 T40@3``), if printed."""
    return read_timer_calls(stderr)
