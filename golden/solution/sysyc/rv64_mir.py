"""Machine IR for the RV64 back end: RISC-V instructions over virtual registers.

A register operand is an `int` (a virtual register) or a `str` naming a physical register
("zero", "sp"). Each block ends with its terminators: an optional conditional branch
followed by `j`, or `ret`, or `unreachable`; no branch occurs earlier in a block.

Operand layout by kind of op (see `OP_KIND`):

    rrr     op d, u0, u1            rri    op d, u0, imm         rr    op d, u0
    li      li d, imm               lla    lla d, sym+imm
    load    op d, imm(u0)           store  op u0, imm(u1)
    fload   sym d, frame[slot]+imm  fstore sym u0, frame[slot]+imm
    faddr   d = frame[slot]+imm     (frame: the function's own stack frame)
    branch  op u0, u1, sym          j      j sym
    call    d = sym(u...)           ret    ret [u0]
    entry   defines the parameters  dynalloc  d = new stack block of u0 bytes
    stacksave d = sp                stackrestore sp = u0
"""

from __future__ import annotations

Reg = int | str

OP_KIND: dict[str, str] = {}
for _op in [
    "add",
    "addw",
    "sub",
    "subw",
    "mul",
    "mulw",
    "div",
    "divw",
    "divu",
    "divuw",
    "rem",
    "remw",
    "remu",
    "remuw",
    "and",
    "or",
    "xor",
    "sll",
    "sllw",
    "srl",
    "srlw",
    "sra",
    "sraw",
    "slt",
    "sltu",
]:
    OP_KIND[_op] = "rrr"
for _op in [
    "addi",
    "addiw",
    "andi",
    "ori",
    "xori",
    "slli",
    "slliw",
    "srli",
    "srliw",
    "srai",
    "sraiw",
    "slti",
    "sltiu",
]:
    OP_KIND[_op] = "rri"
for _op in ["mv", "neg", "negw", "not", "seqz", "snez", "sext.w"]:
    OP_KIND[_op] = "rr"
for _op in ["lb", "lh", "lw", "ld", "lbu", "lhu", "lwu"]:
    OP_KIND[_op] = "load"
for _op in ["sb", "sh", "sw", "sd"]:
    OP_KIND[_op] = "store"
for _op in ["beq", "bne", "blt", "bge", "bltu", "bgeu"]:
    OP_KIND[_op] = "branch"
for _op in [
    "li",
    "lla",
    "fload",
    "fstore",
    "faddr",
    "j",
    "call",
    "ret",
    "unreachable",
    "entry",
    "dynalloc",
    "stacksave",
    "stackrestore",
]:
    OP_KIND[_op] = _op

INVERSE_BRANCH = {
    "beq": "bne",
    "bne": "beq",
    "blt": "bge",
    "bge": "blt",
    "bltu": "bgeu",
    "bgeu": "bltu",
}


class MInstr:
    __slots__ = ("defs", "imm", "op", "slot", "sym", "uses")

    def __init__(
        self,
        op: str,
        defs: list[int],
        uses: list[Reg],
        imm: int = 0,
        sym: str = "",
        slot: int = -1,
    ) -> None:
        self.op = op
        self.defs = defs
        self.uses = uses
        self.imm = imm
        self.sym = sym
        self.slot = slot

    def __repr__(self) -> str:
        parts = [self.op]
        if self.defs:
            parts.append(f"def={self.defs}")
        if self.uses:
            parts.append(f"use={self.uses}")
        if self.imm:
            parts.append(f"imm={self.imm}")
        if self.sym:
            parts.append(f"sym={self.sym}")
        if self.slot >= 0:
            parts.append(f"slot={self.slot}")
        return f"MInstr({' '.join(parts)})"


class MBlock:
    __slots__ = ("instrs", "label")

    def __init__(self, label: str) -> None:
        self.label = label
        self.instrs: list[MInstr] = []

    def successors(self) -> list[str]:
        targets: list[str] = []
        for instr in reversed(self.instrs[-2:]):
            kind = OP_KIND[instr.op]
            if kind in ("branch", "j"):
                targets.append(instr.sym)
            elif kind not in ("ret", "unreachable"):
                break
        return targets


class FrameSlot:
    """A piece of the stack frame: an alloca's memory or a spilled register."""

    __slots__ = ("align", "size")

    def __init__(self, size: int, align: int) -> None:
        self.size = size
        self.align = align


class MFunction:
    def __init__(self, name: str) -> None:
        self.name = name
        self.blocks: list[MBlock] = []
        self.slots: list[FrameSlot] = []
        self.vreg_count = 0
        self.param_count = 0
        self.has_calls = False
        self.has_dynamic_alloca = False
        self.max_stack_args = 0
        # vreg -> vreg it is copied from/to: a preference to share one register
        self.copy_hints: dict[int, int] = {}

    def new_vreg(self) -> int:
        self.vreg_count += 1
        return self.vreg_count - 1

    def new_slot(self, size: int, align: int) -> int:
        self.slots.append(FrameSlot(size, align))
        return len(self.slots) - 1
