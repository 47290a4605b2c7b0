"""Assembly text: allocated machine IR to GNU as syntax, and global variables to data.

Frame layout, from the stack pointer up: outgoing stack arguments, frame slots (allocas
and spilled registers), then ra and the callee-saved registers in use. A function with a
dynamic alloca keeps its frame base in s0; the others address the frame from sp.
"""

from __future__ import annotations

from .ir import ArrayInit, Const, ConstGEP, GlobalRef, GlobalVar, Null, Undef, Value, ZeroInit
from .rv64_isel import const_gep_offset, fits12, sequence_parallel_copy
from .rv64_mir import INVERSE_BRANCH, OP_KIND, MFunction, MInstr, Reg
from .rv64_regalloc import FRAME_POINTER, Allocation
from .rv64_types import alignment, array_parts, canonical, int_width, size_of, struct_fields

SCRATCH_A = "t0"
SCRATCH_B = "t1"
COPY_TEMP = "t2"
ADDRESS_TEMP = "t6"


def _align_up(value: int, align: int) -> int:
    return (value + align - 1) // align * align


class _FunctionEmitter:
    def __init__(self, mf: MFunction, allocation: Allocation) -> None:
        self.mf = mf
        self.locations = allocation.locations
        self.lines: list[str] = []
        self.base = FRAME_POINTER if mf.has_dynamic_alloca else "sp"
        self.out_area = 8 * mf.max_stack_args
        offset = self.out_area
        self.slot_offsets: list[int] = []
        for slot in mf.slots:
            offset = _align_up(offset, slot.align)
            self.slot_offsets.append(offset)
            offset += slot.size
        offset = _align_up(offset, 8)
        saved = list(allocation.callee_saved_used)
        if mf.has_dynamic_alloca and FRAME_POINTER not in saved:
            saved.append(FRAME_POINTER)
        if mf.has_calls:
            saved.insert(0, "ra")
        self.saved: list[tuple[str, int]] = []
        for reg in saved:
            self.saved.append((reg, offset))
            offset += 8
        self.frame_size = _align_up(offset, 16)

    # ---- helpers ---------------------------------------------------------------------------

    def out(self, text: str) -> None:
        self.lines.append("\t" + text)

    def memory(self, op: str, reg: str, offset: int, base: str) -> None:
        if fits12(offset):
            self.out(f"{op}\t{reg}, {offset}({base})")
        else:
            self.out(f"li\t{ADDRESS_TEMP}, {offset}")
            self.out(f"add\t{ADDRESS_TEMP}, {base}, {ADDRESS_TEMP}")
            self.out(f"{op}\t{reg}, 0({ADDRESS_TEMP})")

    def add_immediate(self, dst: str, src: str, value: int) -> None:
        if fits12(value):
            if value or dst != src:
                self.out(f"addi\t{dst}, {src}, {value}")
        else:
            self.out(f"li\t{ADDRESS_TEMP}, {value}")
            self.out(f"add\t{dst}, {src}, {ADDRESS_TEMP}")

    def slot_offset(self, slot: int) -> int:
        return self.slot_offsets[slot]

    def source(self, use: Reg, scratch: str) -> str:
        if type(use) is str:
            return use
        assert isinstance(use, int)
        where = self.locations[use]
        if type(where) is str:
            return where
        assert isinstance(where, int)
        self.memory("ld", scratch, self.slot_offsets[where], self.base)
        return scratch

    def target(self, vreg: int) -> str:
        where = self.locations[vreg]
        return where if isinstance(where, str) else SCRATCH_A

    def finish(self, vreg: int) -> None:
        where = self.locations[vreg]
        if isinstance(where, int):
            self.memory("sd", SCRATCH_A, self.slot_offsets[where], self.base)

    def move(self, dst: str, src: str) -> None:
        if dst != src:
            self.out(f"mv\t{dst}, {src}")

    # ---- function ----------------------------------------------------------------------

    def emit(self) -> list[str]:
        name = self.mf.name
        self.lines += [
            "\t.text",
            f"\t.globl\t{name}",
            "\t.p2align\t2",
            f"\t.type\t{name}, @function",
        ]
        self.lines.append(f"{name}:")
        self.prologue()
        blocks = self.mf.blocks
        for index, block in enumerate(blocks):
            following = blocks[index + 1].label if index + 1 < len(blocks) else ""
            self.lines.append(f"{block.label}:")
            instrs = block.instrs
            count = len(instrs)
            skip_last = False
            for position, instr in enumerate(instrs):
                if skip_last and position == count - 1:
                    break
                kind = OP_KIND[instr.op]
                if kind == "branch" and position == count - 2 and instrs[-1].op == "j":
                    jump = instrs[-1]
                    if instr.sym == following:
                        inverted = MInstr(INVERSE_BRANCH[instr.op], [], instr.uses, sym=jump.sym)
                        self.instruction(inverted, "branch")
                        skip_last = True
                        continue
                if kind == "j" and instr.sym == following:
                    continue
                self.instruction(instr, kind)
        self.lines.append(f"\t.size\t{name}, .-{name}")
        return self.lines

    def prologue(self) -> None:
        size = self.frame_size
        if size:
            if size <= 2048:
                self.out(f"addi\tsp, sp, {-size}")
            else:
                self.out(f"li\t{SCRATCH_A}, {size}")
                self.out(f"sub\tsp, sp, {SCRATCH_A}")
        for reg, offset in self.saved:
            self.memory("sd", reg, offset, "sp")
        if self.mf.has_dynamic_alloca:
            self.out(f"mv\t{FRAME_POINTER}, sp")

    def epilogue(self) -> None:
        if self.mf.has_dynamic_alloca:
            self.out(f"mv\tsp, {FRAME_POINTER}")
        for reg, offset in self.saved:
            self.memory("ld", reg, offset, "sp")
        size = self.frame_size
        if size:
            if size <= 2047:
                self.out(f"addi\tsp, sp, {size}")
            else:
                self.out(f"li\t{SCRATCH_A}, {size}")
                self.out(f"add\tsp, sp, {SCRATCH_A}")
        self.out("ret")

    def instruction(self, instr: MInstr, kind: str) -> None:
        op = instr.op
        uses = instr.uses
        if kind == "rrr":
            a = self.source(uses[0], SCRATCH_A)
            b = self.source(uses[1], SCRATCH_B)
            d = self.target(instr.defs[0])
            self.out(f"{op}\t{d}, {a}, {b}")
            self.finish(instr.defs[0])
        elif kind == "rri":
            a = self.source(uses[0], SCRATCH_A)
            d = self.target(instr.defs[0])
            self.out(f"{op}\t{d}, {a}, {instr.imm}")
            self.finish(instr.defs[0])
        elif kind == "rr":
            a = self.source(uses[0], SCRATCH_A)
            d = self.target(instr.defs[0])
            if op == "mv":
                if a == "zero":
                    self.out(f"li\t{d}, 0")
                else:
                    self.move(d, a)
            else:
                self.out(f"{op}\t{d}, {a}")
            self.finish(instr.defs[0])
        elif kind == "li":
            d = self.target(instr.defs[0])
            self.out(f"li\t{d}, {instr.imm}")
            self.finish(instr.defs[0])
        elif kind == "lla":
            d = self.target(instr.defs[0])
            self.out(f"lla\t{d}, {_symbol(instr.sym, instr.imm)}")
            self.finish(instr.defs[0])
        elif kind == "load":
            a = self.source(uses[0], SCRATCH_A)
            d = self.target(instr.defs[0])
            self.out(f"{op}\t{d}, {instr.imm}({a})")
            self.finish(instr.defs[0])
        elif kind == "store":
            value = self.source(uses[0], SCRATCH_A)
            a = self.source(uses[1], SCRATCH_B)
            self.out(f"{op}\t{value}, {instr.imm}({a})")
        elif kind == "fload":
            d = self.target(instr.defs[0])
            self.memory(instr.sym, d, self.slot_offset(instr.slot) + instr.imm, self.base)
            self.finish(instr.defs[0])
        elif kind == "fstore":
            value = self.source(uses[0], SCRATCH_A)
            self.memory(instr.sym, value, self.slot_offset(instr.slot) + instr.imm, self.base)
        elif kind == "faddr":
            d = self.target(instr.defs[0])
            self.add_immediate(d, self.base, self.slot_offset(instr.slot) + instr.imm)
            self.finish(instr.defs[0])
        elif kind == "branch":
            a = self.source(uses[0], SCRATCH_A)
            b = self.source(uses[1], SCRATCH_B)
            self.out(f"{op}\t{a}, {b}, {instr.sym}")
        elif kind == "j":
            self.out(f"j\t{instr.sym}")
        elif kind == "call":
            self.call(instr)
        elif kind == "ret":
            if uses:
                value = self.source(uses[0], "a0")
                self.move("a0", value)
            self.epilogue()
        elif kind == "entry":
            self.entry(instr)
        elif kind == "dynalloc":
            size = self.source(uses[0], SCRATCH_A)
            self.out(f"addi\t{SCRATCH_A}, {size}, 15")
            self.out(f"andi\t{SCRATCH_A}, {SCRATCH_A}, -16")
            self.out(f"sub\tsp, sp, {SCRATCH_A}")
            d = self.target(instr.defs[0])
            self.add_immediate(d, "sp", self.out_area)
            self.finish(instr.defs[0])
        elif kind == "stacksave":
            d = self.target(instr.defs[0])
            self.move(d, "sp")
            self.finish(instr.defs[0])
        elif kind == "stackrestore":
            self.move("sp", self.source(uses[0], SCRATCH_A))
        elif kind == "unreachable":
            pass
        else:
            raise AssertionError(f"cannot emit {op}")

    def call(self, instr: MInstr) -> None:
        args = instr.uses
        for index, arg in enumerate(args[8:]):
            self.memory("sd", self.source(arg, SCRATCH_A), 8 * index, "sp")
        moves: list[tuple[str, str]] = []
        reloads: list[tuple[str, int]] = []
        for index, arg in enumerate(args[:8]):
            reg = f"a{index}"
            if isinstance(arg, str):
                moves.append((reg, arg))
                continue
            where = self.locations[arg]
            if isinstance(where, str):
                moves.append((reg, where))
            else:
                reloads.append((reg, where))
        self.parallel_moves(moves)
        for reg, slot in reloads:
            self.memory("ld", reg, self.slot_offsets[slot], self.base)
        self.out(f"call\t{instr.sym}")
        if instr.defs:
            d = self.target(instr.defs[0])
            self.move(d, "a0")
            self.finish(instr.defs[0])

    def parallel_moves(self, moves: list[tuple[str, str]]) -> None:
        for dst, src in sequence_parallel_copy(moves, lambda: COPY_TEMP):
            if src == "zero":
                self.out(f"li\t{dst}, 0")
            else:
                self.move(dst, src)

    def entry(self, instr: MInstr) -> None:
        moves: list[tuple[str, str]] = []
        for index, param in enumerate(instr.defs[:8]):
            where = self.locations[param]
            if isinstance(where, str):
                moves.append((where, f"a{index}"))
            else:
                self.memory("sd", f"a{index}", self.slot_offsets[where], self.base)
        self.parallel_moves(moves)
        for index, param in enumerate(instr.defs[8:]):
            incoming = self.frame_size + 8 * index
            where = self.locations[param]
            reg = where if isinstance(where, str) else SCRATCH_A
            self.memory("ld", reg, incoming, self.base)
            self.finish(param)


def _symbol(name: str, offset: int) -> str:
    if offset > 0:
        return f"{name}+{offset}"
    if offset < 0:
        return f"{name}-{-offset}"
    return name


def emit_function(mf: MFunction, allocation: Allocation) -> list[str]:
    return _FunctionEmitter(mf, allocation).emit()


# ---- data ----------------------------------------------------------------------------------

DATA_DIRECTIVES = {1: ".byte", 2: ".half", 4: ".word", 8: ".dword"}


def _is_zero(value: Value) -> bool:
    if isinstance(value, (ZeroInit, Null, Undef)):
        return True
    if isinstance(value, Const):
        return value.value == 0
    if isinstance(value, ArrayInit):
        return all(_is_zero(e) for e in value.elements)
    return False


def _data(ty: str, value: Value, lines: list[str]) -> None:
    """Directives laying out `value` of type `ty`; runs of zero bytes become `.zero`."""
    size = size_of(ty)
    if _is_zero(value):
        if size:
            _zero(size, lines)
        return
    if isinstance(value, ArrayInit):
        array = array_parts(ty)
        if array is not None:
            for element in value.elements:
                _data(array[1], element, lines)
            return
        struct = struct_fields(ty)
        assert struct is not None
        fields, packed = struct
        offset = 0
        for member, element in zip(fields, value.elements, strict=True):
            if not packed:
                aligned = _align_up(offset, alignment(member))
                if aligned > offset:
                    _zero(aligned - offset, lines)
                offset = aligned
            _data(member, element, lines)
            offset += size_of(member)
        if offset < size:
            _zero(size - offset, lines)
        return
    if isinstance(value, Const):
        number = canonical(value.value, int_width(value.ty))
        number &= (1 << (8 * size)) - 1
        lines.append(f"\t{DATA_DIRECTIVES[size]}\t{number}")
        return
    if isinstance(value, GlobalRef):
        lines.append(f"\t.dword\t{value.name}")
        return
    if isinstance(value, ConstGEP):
        indices = [canonical(c.value, int_width(c.ty)) for c in value.indices]
        offset = const_gep_offset(value.source_ty, indices)
        lines.append(f"\t.dword\t{_symbol(value.base.name, offset)}")
        return
    raise ValueError(f"unsupported initialiser {value!r}")


def _zero(size: int, lines: list[str]) -> None:
    if lines and lines[-1].startswith("\t.zero\t"):
        size += int(lines[-1].split("\t")[2])
        lines.pop()
    lines.append(f"\t.zero\t{size}")


def emit_global(var: GlobalVar) -> list[str]:
    assert var.init is not None
    size = size_of(var.ty)
    align = max(var.align or 1, alignment(var.ty))
    if _is_zero(var.init) and not var.constant:
        section = "\t.bss"
    elif var.constant:
        section = "\t.section\t.rodata"
    else:
        section = "\t.data"
    lines = [section]
    if var.linkage not in ("private", "internal"):
        lines.append(f"\t.globl\t{var.name}")
    lines += [
        f"\t.p2align\t{max(align, 1).bit_length() - 1}",
        f"\t.type\t{var.name}, @object",
        f"\t.size\t{var.name}, {size}",
        f"{var.name}:",
    ]
    body: list[str] = []
    _data(var.ty, var.init, body)
    if not body:
        body.append("\t.zero\t1")
    return lines + body
