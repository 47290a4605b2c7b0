"""Alias and mod/ref analysis for SysY-shaped IR.

Pointers are traced through getelementptr to an underlying object: a global, an alloca,
or something unknown (a parameter, a loaded or merged pointer). SysY passes pointers only
as call arguments (never stores them), so a callee can only touch globals and the objects
passed to it; `ModRef` summarises that per function, bottom-up over the call graph.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sysyc.ir import (
    Const,
    ConstGEP,
    Function,
    GlobalRef,
    Instr,
    Local,
    Module,
    Value,
    gep_offset,
    type_size,
)

# runtime functions: (writes pointer args, reads pointer args)
_RUNTIME_EFFECTS: dict[str, tuple[bool, bool]] = {
    "getint": (False, False),
    "getch": (False, False),
    "getarray": (True, False),
    "putint": (False, False),
    "putch": (False, False),
    "putarray": (False, True),
    "putf": (False, True),
    "starttime": (False, False),
    "stoptime": (False, False),
    "_sysy_starttime": (False, False),
    "_sysy_stoptime": (False, False),
    "llvm.memset.p0.i64": (True, False),
    "llvm.memcpy.p0.p0.i64": (True, True),
    "llvm.memmove.p0.p0.i64": (True, True),
    "llvm.lifetime.start.p0": (True, False),
    "llvm.lifetime.end.p0": (True, False),
}
_PURE_INTRINSIC_PREFIXES = ("llvm.smax", "llvm.smin", "llvm.umax", "llvm.umin", "llvm.abs")
_IO_FUNCTIONS = frozenset(
    {
        "getint",
        "getch",
        "getarray",
        "putint",
        "putch",
        "putarray",
        "putf",
        "starttime",
        "stoptime",
        "_sysy_starttime",
        "_sysy_stoptime",
    }
)


@dataclass
class Summary:
    """What a function (with its callees) may do to memory visible to its caller."""

    writes_globals: set[str] = field(default_factory=set)
    reads_globals: set[str] = field(default_factory=set)
    writes_args: bool = False  # through pointer parameters
    reads_args: bool = False
    writes_all: bool = False  # unknown external code
    reads_all: bool = False
    io: bool = False  # performs input/output (or may not return normally)

    def extent(self) -> tuple[int, int, bool, bool, bool, bool, bool]:
        """Changes whenever the summary grows (it only ever grows)."""
        return (
            len(self.writes_globals),
            len(self.reads_globals),
            self.writes_args,
            self.reads_args,
            self.writes_all,
            self.reads_all,
            self.io,
        )


@dataclass(frozen=True)
class PointerInfo:
    kind: str  # "global", "alloca", "unknown"
    base: str  # name of the global / alloca / unknown root
    offset: int | None  # constant byte offset from the base, when known


class ModRef:
    """Per-function memory summaries for a module."""

    def __init__(self, module: Module) -> None:
        self.global_types = {g.name: g.ty for g in module.globals}
        self.globals_by_name = {g.name: g for g in module.globals}
        self.summaries: dict[str, Summary] = {}
        defined = {f.name: f for f in module.functions if f.blocks}
        for func in module.functions:
            if not func.blocks:
                self.summaries[func.name] = _external_summary(func.name)
        for name in defined:
            self.summaries[name] = Summary()
        changed = True
        while changed:
            changed = False
            for func in defined.values():
                if self._update(func):
                    changed = True

    def summary(self, name: str) -> Summary:
        found = self.summaries.get(name)
        if found is None:
            found = self.summaries[name] = _external_summary(name)
        return found

    def _update(self, func: Function) -> bool:
        s = self.summaries[func.name]
        before = s.extent()
        pointers = PointerTracer(func)
        for block in func.blocks:
            for instr in block.instrs:
                if instr.op == "store":
                    info = pointers.info(instr.operands[1])
                    if info.kind == "global":
                        s.writes_globals.add(info.base)
                    elif info.kind == "unknown":
                        s.writes_args = True
                elif instr.op == "load":
                    info = pointers.info(instr.operands[0])
                    if info.kind == "global":
                        s.reads_globals.add(info.base)
                    elif info.kind == "unknown":
                        s.reads_args = True
                elif instr.op == "call":
                    callee = self.summary(instr.callee or "")
                    s.writes_globals |= callee.writes_globals
                    s.reads_globals |= callee.reads_globals
                    s.writes_all |= callee.writes_all
                    s.reads_all |= callee.reads_all
                    s.io |= callee.io
                    for arg in instr.operands:
                        if arg.ty != "ptr":
                            continue
                        info = pointers.info(arg)
                        if info.kind == "global":
                            if callee.writes_args:
                                s.writes_globals.add(info.base)
                            if callee.reads_args:
                                s.reads_globals.add(info.base)
                        elif info.kind == "unknown":
                            s.writes_args |= callee.writes_args
                            s.reads_args |= callee.reads_args
        after = s.extent()
        return before != after

    def is_pure(self, name: str) -> bool:
        """No memory writes and no I/O: a call whose result is unused may be removed
        (SysY functions without I/O that recurse forever would be undefined anyway)."""
        s = self.summary(name)
        return not (s.writes_globals or s.writes_args or s.writes_all or s.io)


def _external_summary(name: str) -> Summary:
    if name in _RUNTIME_EFFECTS:
        writes, reads = _RUNTIME_EFFECTS[name]
        return Summary(writes_args=writes, reads_args=reads, io=name in _IO_FUNCTIONS)
    if name.startswith(_PURE_INTRINSIC_PREFIXES):
        return Summary()
    return Summary(writes_all=True, reads_all=True, writes_args=True, reads_args=True, io=True)


class PointerTracer:
    """Underlying objects and constant offsets of a function's pointer values."""

    def __init__(self, func: Function) -> None:
        self.defs: dict[str, Instr] = {}
        for block in func.blocks:
            for instr in block.instrs:
                if instr.result is not None:
                    self.defs[instr.result] = instr
        self.cache: dict[str, PointerInfo] = {}

    def info(self, ptr: Value) -> PointerInfo:
        if isinstance(ptr, GlobalRef):
            return PointerInfo("global", ptr.name, 0)
        if isinstance(ptr, ConstGEP):
            offset = gep_offset(ptr.source_ty, [c.value for c in ptr.indices])
            return PointerInfo("global", ptr.base.name, offset)
        if not isinstance(ptr, Local):
            return PointerInfo("unknown", "?", None)
        cached = self.cache.get(ptr.name)
        if cached is not None:
            return cached
        result = self._compute(ptr.name)
        self.cache[ptr.name] = result
        return result

    def _compute(self, name: str) -> PointerInfo:
        instr = self.defs.get(name)
        if instr is None:
            return PointerInfo("unknown", name, 0)  # a parameter
        if instr.op == "alloca":
            return PointerInfo("alloca", name, 0)
        if instr.op == "getelementptr":
            base = self.info(instr.operands[0])
            indices = instr.operands[1:]
            offset: int | None = None
            if base.offset is not None and all(isinstance(i, Const) for i in indices):
                consts = [i.value for i in indices if isinstance(i, Const)]
                offset = base.offset + gep_offset(instr.alloc_ty or "i8", consts)
            return PointerInfo(base.kind, base.base, offset)
        return PointerInfo("unknown", name, None)


class AliasInfo:
    """May-alias queries and call effects inside one function."""

    def __init__(self, func: Function, modref: ModRef) -> None:
        self.func = func
        self.modref = modref
        self.pointers = PointerTracer(func)
        self.escaped = _escaped_allocas(func, self.pointers)

    def may_alias(self, p: Value, p_size: int, q: Value, q_size: int) -> bool:
        if p == q:
            return True
        a = self.pointers.info(p)
        b = self.pointers.info(q)
        if a.kind != "unknown" and b.kind != "unknown":
            if a.kind != b.kind or a.base != b.base:
                return False
            if a.offset is None or b.offset is None:
                return True
            return a.offset < b.offset + q_size and b.offset < a.offset + p_size
        known = a if a.kind != "unknown" else b
        return not (known.kind == "alloca" and known.base not in self.escaped)

    def call_may_write(self, call: Instr, ptr: Value, size: int) -> bool:
        return self._call_touches(call, ptr, size, write=True)

    def call_may_read(self, call: Instr, ptr: Value, size: int) -> bool:
        return self._call_touches(call, ptr, size, write=False)

    def _call_touches(self, call: Instr, ptr: Value, size: int, write: bool) -> bool:
        s = self.modref.summary(call.callee or "")
        if s.writes_all if write else s.reads_all:
            return True
        info = self.pointers.info(ptr)
        touched_globals = s.writes_globals if write else s.reads_globals
        if info.kind == "global" and info.base in touched_globals:
            return True
        if info.kind == "unknown" and touched_globals:
            return True
        if s.writes_args if write else s.reads_args:
            for arg in call.operands:
                if arg.ty == "ptr" and self._same_object(arg, ptr):
                    return True
        return False

    def _same_object(self, p: Value, q: Value) -> bool:
        a = self.pointers.info(p)
        b = self.pointers.info(q)
        if a.kind != "unknown" and b.kind != "unknown":
            return a.kind == b.kind and a.base == b.base
        known = a if a.kind != "unknown" else b
        return not (known.kind == "alloca" and known.base not in self.escaped)

    def instr_may_write(self, instr: Instr, ptr: Value, size: int) -> bool:
        if instr.op == "store":
            return self.may_alias(instr.operands[1], type_size(instr.ty), ptr, size)
        if instr.op == "call":
            return self.call_may_write(instr, ptr, size)
        return False


def writes_memory(instr: Instr) -> bool:
    return instr.op in ("store", "call")


def _escaped_allocas(func: Function, pointers: PointerTracer) -> set[str]:
    """Allocas whose address may be merged into an unknown pointer (phi, select, stored).

    Passing an alloca to a call does not count: a SysY callee cannot keep the pointer,
    and call effects on arguments are checked separately."""
    escaped: set[str] = set()
    for block in func.blocks:
        for instr in block.instrs:
            if instr.op in ("load", "call"):
                continue
            if instr.op == "store":
                candidates: list[Value] = [instr.operands[0]]
            elif instr.op == "getelementptr":
                candidates = instr.operands[1:]
            elif instr.incoming:
                candidates = [v for v, _ in instr.incoming]
            else:
                candidates = instr.operands
            for value in candidates:
                if value.ty == "ptr":
                    info = pointers.info(value)
                    if info.kind == "alloca":
                        escaped.add(info.base)
    return escaped
