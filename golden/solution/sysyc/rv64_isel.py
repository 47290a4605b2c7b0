"""Instruction selection: one IR function to machine IR over virtual registers.

Phi nodes are eliminated here: each CFG edge into a block with phis gets a parallel copy,
placed at the end of the predecessor when it has a single successor and otherwise in a new
block on the (split) edge. Blocks are lowered in reverse postorder, so every value is
lowered before its uses; they are laid out in the order of the input.

Constant-offset getelementptrs and static allocas produce no code at their definition:
they are addresses (register + offset, frame slot + offset, symbol + offset) that fold into
the loads and stores using them and are rematerialised at any other use.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

from .ir import (
    ArrayInit,
    Block,
    Const,
    ConstGEP,
    Function,
    GlobalRef,
    Instr,
    Local,
    Null,
    Undef,
    Value,
    ZeroInit,
)
from .ir_cfg import use_counts
from .rv64_mir import MBlock, MFunction, MInstr, Reg
from .rv64_types import canonical, gep_step, int_width, size_of

LOAD_OPS = {1: "lbu", 8: "lb", 16: "lh", 32: "lw", 64: "ld"}
STORE_OPS = {1: "sb", 8: "sb", 16: "sh", 32: "sw", 64: "sd"}

# icmp predicate -> (branch op, swap operands)
BRANCH_FOR_PRED = {
    "eq": ("beq", False),
    "ne": ("bne", False),
    "slt": ("blt", False),
    "sge": ("bge", False),
    "sgt": ("blt", True),
    "sle": ("bge", True),
    "ult": ("bltu", False),
    "uge": ("bgeu", False),
    "ugt": ("bltu", True),
    "ule": ("bgeu", True),
}

# binary op -> (op for i64, op for i32, immediate form for i64, immediate form for i32)
BINARY_OPS: dict[str, tuple[str, str, str, str]] = {
    "add": ("add", "addw", "addi", "addiw"),
    "sub": ("sub", "subw", "", ""),
    "mul": ("mul", "mulw", "", ""),
    "sdiv": ("div", "divw", "", ""),
    "srem": ("rem", "remw", "", ""),
    "udiv": ("divu", "divuw", "", ""),
    "urem": ("remu", "remuw", "", ""),
    "shl": ("sll", "sllw", "slli", "slliw"),
    "lshr": ("srl", "srlw", "srli", "srliw"),
    "ashr": ("sra", "sraw", "srai", "sraiw"),
    "and": ("and", "and", "andi", "andi"),
    "or": ("or", "or", "ori", "ori"),
    "xor": ("xor", "xor", "xori", "xori"),
}
COMMUTATIVE = frozenset(["add", "mul", "and", "or", "xor"])
# ops whose result is canonical for any width when their operands are
SIGN_PRESERVING = frozenset(["and", "or", "xor", "ashr"])

LIBC_INTRINSICS = {"llvm.memset": "memset", "llvm.memcpy": "memcpy", "llvm.memmove": "memmove"}
IGNORED_INTRINSICS = ("llvm.lifetime.", "llvm.assume", "llvm.dbg.", "llvm.experimental.noalias")

K = TypeVar("K", bound=Hashable)


def fits12(value: int) -> bool:
    return -2048 <= value <= 2047


def sequence_parallel_copy(
    moves: list[tuple[K, K]], make_temp: Callable[[], K]
) -> list[tuple[K, K]]:
    """Order the parallel copy `moves` (dst, src; distinct dsts) as sequential copies.

    A cycle is broken by saving one source in a temporary from `make_temp`.
    """
    pending = {dst: src for dst, src in moves if dst != src}
    readers: dict[K, int] = {}
    for src in pending.values():
        readers[src] = readers.get(src, 0) + 1
    ordered: list[tuple[K, K]] = []
    ready = [dst for dst in pending if readers.get(dst, 0) == 0]
    while pending:
        while ready:
            dst = ready.pop()
            src = pending.pop(dst)
            ordered.append((dst, src))
            readers[src] -= 1
            if readers[src] == 0 and src in pending:
                ready.append(src)
        if pending:
            dst, src = next(iter(pending.items()))
            temp = make_temp()
            ordered.append((temp, src))
            for other, other_src in pending.items():
                if other_src == src:
                    pending[other] = temp
            readers[temp] = readers.pop(src)
            ready.append(src)
    return ordered


def const_gep_offset(source_ty: str, indices: list[int]) -> int:
    offset = indices[0] * size_of(source_ty)
    current = source_ty
    for index in indices[1:]:
        current, step, fixed = gep_step(current, index)
        offset += fixed + index * step
    return offset


def _const_index(value: Value) -> int | None:
    if isinstance(value, Const):
        return canonical(value.value, int_width(value.ty))
    return None


class _FunctionLowering:
    def __init__(self, fn: Function, fn_index: int) -> None:
        self.fn = fn
        self.mf = MFunction(fn.name)
        self.labels = {b.label: f".LBB{fn_index}_{i}" for i, b in enumerate(fn.blocks)}
        self.extra_label_count = 0
        self.fn_index = fn_index
        self.values: dict[str, Reg] = {}
        self.derived: dict[str, tuple[Value, int]] = {}
        self.alloca_slots: dict[str, int] = {}
        self.use_counts = use_counts(fn)
        self.fused_cmps: dict[str, Instr] = {}
        self.phis: dict[str, list[Instr]] = {}
        self.edge_blocks: dict[tuple[str, str], str] = {}
        self.block_groups: dict[str, list[MBlock]] = {}
        self.current: MBlock = MBlock("")
        self.current_ir_label = ""

    # ---- analysis before lowering ------------------------------------------------------

    def _prepare(self) -> None:
        counts = self.use_counts
        defining_block: dict[str, str] = {}
        for block in self.fn.blocks:
            for instr in block.instrs:
                if instr.result is None:
                    continue
                defining_block[instr.result] = block.label
                if instr.op == "phi":
                    self.phis.setdefault(block.label, []).append(instr)
                    self.values[instr.result] = self.mf.new_vreg()
                elif instr.op == "alloca":
                    self._prepare_alloca(instr)
                elif instr.op == "getelementptr":
                    indices = [_const_index(v) for v in instr.operands[1:]]
                    if all(i is not None for i in indices):
                        assert instr.alloc_ty is not None
                        offset = const_gep_offset(
                            instr.alloc_ty, [i for i in indices if i is not None]
                        )
                        self.derived[instr.result] = (instr.operands[0], offset)
        for block in self.fn.blocks:
            last = block.instrs[-1] if block.instrs else None
            if last is None or last.op != "br" or not last.operands:
                continue
            cond = last.operands[0]
            if not isinstance(cond, Local) or counts.get(cond.name) != 1:
                continue
            if defining_block.get(cond.name) != block.label:
                continue
            for instr in block.instrs:
                if instr.result == cond.name and instr.op == "icmp":
                    self.fused_cmps[cond.name] = instr

    def _prepare_alloca(self, instr: Instr) -> None:
        assert instr.alloc_ty is not None and instr.result is not None
        count = 1
        if instr.operands:
            constant = _const_index(instr.operands[0])
            if constant is None:
                self.mf.has_dynamic_alloca = True
                return
            count = constant
        size = max(size_of(instr.alloc_ty) * count, 1)
        align = 16 if size >= 16 else 8 if size >= 8 else 4
        self.alloca_slots[instr.result] = self.mf.new_slot(size, align)

    def _reverse_postorder(self) -> list[Block]:
        by_label = {b.label: b for b in self.fn.blocks}
        seen: set[str] = set()
        order: list[Block] = []
        entry = self.fn.blocks[0]
        stack: list[tuple[Block, list[str]]] = [(entry, self._successors(entry))]
        seen.add(entry.label)
        while stack:
            block, succs = stack[-1]
            if succs:
                label = succs.pop()
                if label not in seen:
                    seen.add(label)
                    nxt = by_label[label]
                    stack.append((nxt, self._successors(nxt)))
            else:
                stack.pop()
                order.append(block)
        order.reverse()
        return order

    @staticmethod
    def _successors(block: Block) -> list[str]:
        last = block.instrs[-1]
        if last.op == "br":
            return list(reversed(last.targets))
        if last.op == "switch":
            return list(reversed(last.targets + [label for _, label in last.cases]))
        return []

    # ---- emission helpers --------------------------------------------------------------

    def emit(
        self,
        op: str,
        defs: list[int],
        uses: list[Reg],
        imm: int = 0,
        sym: str = "",
        slot: int = -1,
    ) -> None:
        self.current.instrs.append(MInstr(op, defs, uses, imm, sym, slot))

    def new_block(self) -> MBlock:
        self.extra_label_count += 1
        block = MBlock(f".LBB{self.fn_index}_x{self.extra_label_count}")
        self.block_groups[self.current_ir_label].append(block)
        return block

    def op_into(self, op: str, dst: int, uses: list[Reg], imm: int = 0) -> int:
        self.emit(op, [dst], uses, imm)
        return dst

    def op_new(self, op: str, uses: list[Reg], imm: int = 0) -> int:
        return self.op_into(op, self.mf.new_vreg(), uses, imm)

    def load_imm(self, dst: int, value: int) -> int:
        self.emit("li", [dst], [], value)
        return dst

    def define(self, instr: Instr) -> int:
        assert instr.result is not None
        vreg = self.mf.new_vreg()
        self.values[instr.result] = vreg
        return vreg

    # ---- values ------------------------------------------------------------------------

    def resolve(self, value: Value) -> tuple[str, Reg | int | str, int]:
        """An address value as ("reg", register, offset) | ("frame", slot, offset) |
        ("sym", name, offset)."""
        if isinstance(value, Local):
            name = value.name
            if name in self.alloca_slots:
                return "frame", self.alloca_slots[name], 0
            if name in self.derived:
                base, offset = self.derived[name]
                kind, where, inner = self.resolve(base)
                return kind, where, inner + offset
            return "reg", self.values[name], 0
        if isinstance(value, GlobalRef):
            return "sym", value.name, 0
        if isinstance(value, ConstGEP):
            indices = [canonical(c.value, int_width(c.ty)) for c in value.indices]
            return "sym", value.base.name, const_gep_offset(value.source_ty, indices)
        if isinstance(value, Const):
            return "reg", "zero", canonical(value.value, int_width(value.ty))
        return "reg", "zero", 0

    def reg(self, value: Value) -> Reg:
        """`value` in a register (constants and addresses are materialised here)."""
        if isinstance(value, Local) and value.name in self.values:
            return self.values[value.name]
        if isinstance(value, Const):
            constant = canonical(value.value, int_width(value.ty))
            if constant == 0:
                return "zero"
            return self.load_imm(self.mf.new_vreg(), constant)
        if isinstance(value, (Undef, Null, ZeroInit, ArrayInit)):
            return "zero"
        return self.materialize(value, self.mf.new_vreg())

    def materialize(self, value: Value, dst: int) -> int:
        """Compute `value` (a constant or an address) into `dst`."""
        if isinstance(value, Const):
            return self.load_imm(dst, canonical(value.value, int_width(value.ty)))
        if isinstance(value, (Undef, Null, ZeroInit, ArrayInit)):
            return self.load_imm(dst, 0)
        kind, where, offset = self.resolve(value)
        if kind == "frame":
            assert isinstance(where, int)
            self.emit("faddr", [dst], [], offset, slot=where)
        elif kind == "sym":
            assert isinstance(where, str)
            self.emit("lla", [dst], [], offset, sym=where)
        else:
            base: Reg = where
            if offset == 0:
                self.op_into("mv", dst, [base])
            elif fits12(offset):
                self.op_into("addi", dst, [base], offset)
            else:
                temp = self.load_imm(self.mf.new_vreg(), offset)
                self.op_into("add", dst, [base, temp])
        return dst

    def address(self, value: Value) -> tuple[Reg, int, int]:
        """A memory operand: (base register, offset, frame slot or -1)."""
        kind, where, offset = self.resolve(value)
        if kind == "frame":
            assert isinstance(where, int)
            return "sp", offset, where
        if kind == "sym":
            assert isinstance(where, str)
            base = self.mf.new_vreg()
            self.emit("lla", [base], [], offset, sym=where)
            return base, 0, -1
        if fits12(offset):
            return where, offset, -1
        temp = self.load_imm(self.mf.new_vreg(), offset)
        return self.op_new("add", [where, temp]), 0, -1

    def const_operand(self, value: Value) -> int | None:
        if isinstance(value, Const):
            return canonical(value.value, int_width(value.ty))
        return None

    # ---- width helpers -----------------------------------------------------------------

    def normalize(self, dst: int, src: Reg, width: int) -> int:
        """dst = src reduced to `width` bits in canonical form."""
        if width >= 64:
            return self.op_into("mv", dst, [src])
        if width == 32:
            return self.op_into("addiw", dst, [src], 0)
        if width == 1:
            return self.op_into("andi", dst, [src], 1)
        temp = self.op_new("slli", [src], 64 - width)
        return self.op_into("srai", dst, [temp], 64 - width)

    def zero_extend(self, dst: int, src: Reg, width: int) -> int:
        """dst = the `width`-bit canonical value in src, zero-extended to 64 bits."""
        if width >= 64:
            return self.op_into("mv", dst, [src])
        if width <= 11:
            return self.op_into("andi", dst, [src], (1 << width) - 1)
        temp = self.op_new("slli", [src], 64 - width)
        return self.op_into("srli", dst, [temp], 64 - width)

    def signed_operand(self, value: Value, width: int) -> Reg:
        """An operand for a signed comparison (i1 true is -1 there)."""
        reg = self.reg(value)
        if width == 1:
            return self.op_new("neg", [reg])
        return reg

    # ---- lowering ----------------------------------------------------------------------

    def lower(self) -> MFunction:
        self._prepare()
        order = self._reverse_postorder()
        for block in order:
            self.current_ir_label = block.label
            self.current = MBlock(self.labels[block.label])
            self.block_groups[block.label] = [self.current]
            if block is self.fn.blocks[0]:
                params: list[int] = []
                for param in self.fn.params:
                    vreg = self.mf.new_vreg()
                    self.values[param.name] = vreg
                    params.append(vreg)
                self.mf.param_count = len(params)
                self.emit("entry", params, [])
            for instr in block.instrs:
                self.lower_instr(instr)
        for block in self.fn.blocks:
            self.mf.blocks.extend(self.block_groups.get(block.label, []))
        return self.mf

    def lower_instr(self, instr: Instr) -> None:
        op = instr.op
        if op in ("phi", "alloca") and (op == "phi" or instr.result in self.alloca_slots):
            return
        if instr.result is not None and op not in ("call", "alloca"):
            if self.use_counts.get(instr.result, 0) == 0:
                return
            if instr.result in self.derived or instr.result in self.fused_cmps:
                return
        handler = getattr(self, "lower_" + op, None)
        if handler is None:
            raise NotImplementedError(f"unsupported instruction {op}")
        handler(instr)

    def lower_binary(self, instr: Instr) -> None:
        op = instr.op
        width = int_width(instr.ty)
        lhs, rhs = instr.operands
        if op in COMMUTATIVE and self.const_operand(lhs) is not None:
            lhs, rhs = rhs, lhs
        wide, word, wide_imm, word_imm = BINARY_OPS[op]
        dst = self.define(instr)
        a = self.reg(lhs)
        constant = self.const_operand(rhs)
        if width in (32, 64):
            mnemonic = word if width == 32 else wide
            mnemonic_imm = word_imm if width == 32 else wide_imm
            if constant is not None and op in ("shl", "lshr", "ashr"):
                self.op_into(mnemonic_imm, dst, [a], constant & (width - 1))
                return
            if constant is not None and op == "sub" and fits12(-constant):
                self.op_into("addiw" if width == 32 else "addi", dst, [a], -constant)
                return
            if constant is not None and mnemonic_imm and fits12(constant):
                self.op_into(mnemonic_imm, dst, [a], constant)
                return
            self.op_into(mnemonic, dst, [a, self.reg(rhs)])
            return
        b = self.reg(rhs)
        if op in ("lshr", "udiv", "urem"):
            a = self.zero_extend(self.mf.new_vreg(), a, width)
            if op != "lshr":
                b = self.zero_extend(self.mf.new_vreg(), b, width)
        if op in SIGN_PRESERVING:
            self.op_into(wide, dst, [a, b])
            return
        self.normalize(dst, self.op_new(wide, [a, b]), width)

    lower_add = lower_sub = lower_mul = lower_sdiv = lower_srem = lower_binary
    lower_udiv = lower_urem = lower_shl = lower_lshr = lower_ashr = lower_binary
    lower_and = lower_or = lower_xor = lower_binary

    def lower_icmp(self, instr: Instr) -> None:
        dst = self.define(instr)
        self.compare_into(dst, instr)

    def compare_into(self, dst: int, instr: Instr) -> None:
        pred = instr.pred
        assert pred is not None
        width = int_width(instr.ty)
        lhs, rhs = instr.operands
        if pred in ("eq", "ne"):
            a = self.reg(lhs)
            constant = self.const_operand(rhs)
            if constant == 0:
                diff: Reg = a
            elif constant is not None and fits12(-constant):
                diff = self.op_new("addi", [a], -constant)
            else:
                diff = self.op_new("xor", [a, self.reg(rhs)])
            self.op_into("seqz" if pred == "eq" else "snez", dst, [diff])
            return
        signed = pred[0] == "s"
        less = "slt" if signed else "sltu"
        if pred in ("sgt", "sle", "ugt", "ule"):
            lhs, rhs = rhs, lhs
        invert = pred in ("sge", "sle", "uge", "ule")
        a = self.signed_operand(lhs, width) if signed else self.reg(lhs)
        constant = self.const_operand(rhs)
        target = self.mf.new_vreg() if invert else dst
        if constant is not None and fits12(constant) and not (signed and width == 1):
            self.op_into(less + "i" if signed else "sltiu", target, [a], constant)
        else:
            b = self.signed_operand(rhs, width) if signed else self.reg(rhs)
            self.op_into(less, target, [a, b])
        if invert:
            self.op_into("xori", dst, [target], 1)

    def lower_select(self, instr: Instr) -> None:
        cond, if_true, if_false = instr.operands
        dst = self.define(instr)
        constant = self.const_operand(cond)
        if constant is not None:
            self.op_into("mv", dst, [self.reg(if_true if constant else if_false)])
            return
        self.select_into(dst, self.reg(cond), self.reg(if_true), self.reg(if_false))

    def select_into(self, dst: int, cond: Reg, if_true: Reg, if_false: Reg) -> None:
        """dst = cond ? if_true : if_false, for cond 0/1, without branches."""
        mask = self.op_new("neg", [cond])
        diff = self.op_new("xor", [if_true, if_false])
        picked = self.op_new("and", [diff, mask])
        self.op_into("xor", dst, [picked, if_false])

    def lower_trunc(self, instr: Instr) -> None:
        dst = self.define(instr)
        self.normalize(dst, self.reg(instr.operands[0]), int_width(instr.ty))

    def lower_zext(self, instr: Instr) -> None:
        source = instr.operands[0]
        dst = self.define(instr)
        self.zero_extend(dst, self.reg(source), int_width(source.ty))

    def lower_sext(self, instr: Instr) -> None:
        source = instr.operands[0]
        if int_width(source.ty) == 1:
            self.op_into("neg", self.define(instr), [self.reg(source)])
        else:
            self.alias(instr)

    def alias(self, instr: Instr) -> None:
        """The result is the operand's register itself."""
        assert instr.result is not None
        reg = self.reg(instr.operands[0])
        if isinstance(reg, int):
            self.values[instr.result] = reg
        else:
            self.op_into("mv", self.define(instr), [reg])

    def lower_freeze(self, instr: Instr) -> None:
        self.alias(instr)

    lower_bitcast = lower_freeze

    def lower_ptrtoint(self, instr: Instr) -> None:
        width = int_width(instr.ty)
        if width >= 64:
            self.alias(instr)
        else:
            self.normalize(self.define(instr), self.reg(instr.operands[0]), width)

    def lower_inttoptr(self, instr: Instr) -> None:
        source = instr.operands[0]
        width = int_width(source.ty)
        if width >= 64:
            self.alias(instr)
        else:
            self.zero_extend(self.define(instr), self.reg(source), width)

    def lower_load(self, instr: Instr) -> None:
        width = 64 if instr.ty == "ptr" else int_width(instr.ty)
        mnemonic = LOAD_OPS.get(width, "ld")
        base, offset, slot = self.address(instr.operands[0])
        dst = self.define(instr)
        if slot >= 0:
            self.emit("fload", [dst], [], offset, sym=mnemonic, slot=slot)
        else:
            self.emit(mnemonic, [dst], [base], offset)
        if width not in LOAD_OPS:
            self.normalize(dst, dst, width)

    def lower_store(self, instr: Instr) -> None:
        value, pointer = instr.operands
        width = 64 if value.ty == "ptr" else int_width(value.ty)
        mnemonic = STORE_OPS.get(width, "sd")
        data = self.reg(value)
        base, offset, slot = self.address(pointer)
        if slot >= 0:
            self.emit("fstore", [], [data], offset, sym=mnemonic, slot=slot)
        else:
            self.emit(mnemonic, [], [data, base], offset)

    def lower_getelementptr(self, instr: Instr) -> None:
        assert instr.alloc_ty is not None
        base = self.reg(instr.operands[0])
        offset = 0
        terms: list[tuple[Reg, int]] = []
        current = instr.alloc_ty
        for position, index in enumerate(instr.operands[1:]):
            constant = self.const_operand(index)
            if position == 0:
                step, fixed, member = size_of(current), 0, current
            else:
                member, step, fixed = gep_step(current, constant)
            offset += fixed
            if constant is not None:
                offset += constant * step
            elif step:
                terms.append((self.reg(index), step))
            current = member
        dst = self.define(instr)
        acc: Reg = base
        for index_reg, step in terms:
            if step == 1:
                scaled: Reg = index_reg
            elif step & (step - 1) == 0:
                scaled = self.op_new("slli", [index_reg], step.bit_length() - 1)
            else:
                scaled = self.op_new("mul", [index_reg, self.load_imm(self.mf.new_vreg(), step)])
            acc = self.op_new("add", [acc, scaled])
        if offset == 0:
            self.op_into("mv", dst, [acc])
        elif fits12(offset):
            self.op_into("addi", dst, [acc], offset)
        else:
            self.op_into("add", dst, [acc, self.load_imm(self.mf.new_vreg(), offset)])

    def lower_alloca(self, instr: Instr) -> None:
        assert instr.alloc_ty is not None
        count = self.reg(instr.operands[0])
        size = self.op_new(
            "mul", [count, self.load_imm(self.mf.new_vreg(), size_of(instr.alloc_ty))]
        )
        self.emit("dynalloc", [self.define(instr)], [size])

    def lower_call(self, instr: Instr) -> None:
        callee = instr.callee
        assert callee is not None
        if callee.startswith("llvm."):
            self.lower_intrinsic(instr, callee)
            return
        self.call(callee, instr.operands, instr)

    def call(self, callee: str, operands: list[Value], instr: Instr) -> None:
        args = [self.reg(a) for a in operands]
        defs: list[int] = []
        if instr.result is not None and instr.ty != "void":
            defs.append(self.define(instr))
        self.emit("call", defs, args, sym=callee)
        self.mf.has_calls = True
        self.mf.max_stack_args = max(self.mf.max_stack_args, len(args) - 8)

    def lower_intrinsic(self, instr: Instr, callee: str) -> None:
        if callee.startswith(IGNORED_INTRINSICS):
            return
        for prefix, libc in LIBC_INTRINSICS.items():
            if callee.startswith(prefix + "."):
                self.call(libc, instr.operands[:3], instr)
                return
        if callee.startswith(("llvm.smax.", "llvm.smin.", "llvm.umax.", "llvm.umin.")):
            kind = callee.split(".")[1]
            width = int_width(instr.ty)
            lhs, rhs = instr.operands
            a = self.signed_operand(lhs, width) if kind[0] == "s" else self.reg(lhs)
            b = self.signed_operand(rhs, width) if kind[0] == "s" else self.reg(rhs)
            less = self.op_new("slt" if kind[0] == "s" else "sltu", [a, b])
            dst = self.define(instr)
            a, b = self.reg(lhs), self.reg(rhs)
            if kind.endswith("max"):
                self.select_into(dst, less, b, a)
            else:
                self.select_into(dst, less, a, b)
            return
        if callee.startswith("llvm.abs."):
            width = int_width(instr.ty)
            value = self.reg(instr.operands[0])
            sign = self.op_new("srai", [value], 63)
            flipped = self.op_new("xor", [value, sign])
            dst = self.define(instr)
            if width == 32:
                self.op_into("subw", dst, [flipped, sign])
            else:
                self.normalize(dst, self.op_new("sub", [flipped, sign]), width)
            return
        if callee.startswith("llvm.stacksave"):
            self.emit("stacksave", [self.define(instr)], [])
            return
        if callee.startswith("llvm.stackrestore"):
            self.emit("stackrestore", [], [self.reg(instr.operands[0])])
            return
        if callee.startswith("llvm.expect."):
            self.alias(instr)
            return
        raise NotImplementedError(f"unsupported intrinsic {callee}")

    # ---- control flow ------------------------------------------------------------------

    def edge_copies(self, target: str) -> None:
        """The parallel copy of `target`'s phis for the edge from the current IR block."""
        phis = self.phis.get(target)
        if not phis:
            return
        pred = self.current_ir_label
        reg_moves: list[tuple[int, Reg]] = []
        const_moves: list[tuple[int, Value]] = []
        for phi in phis:
            assert phi.result is not None
            dst = self.values[phi.result]
            assert isinstance(dst, int)
            source = next((v for v, label in phi.incoming if label == pred), None)
            if source is None:
                continue
            if isinstance(source, Local) and source.name in self.values:
                reg_moves.append((dst, self.values[source.name]))
            elif isinstance(source, Local):
                if self.resolve(source)[0] == "reg":
                    reg_moves.append((dst, self.materialize(source, self.mf.new_vreg())))
                else:
                    const_moves.append((dst, source))
            elif isinstance(source, Undef):
                continue
            else:
                const_moves.append((dst, source))
        moves: list[tuple[Reg, Reg]] = list(reg_moves)
        for dst, src in sequence_parallel_copy(moves, self.mf.new_vreg):
            assert isinstance(dst, int)
            self.emit("mv", [dst], [src])
            if isinstance(src, int):
                self.mf.copy_hints.setdefault(dst, src)
                self.mf.copy_hints.setdefault(src, dst)
        for dst, value in const_moves:
            self.materialize(value, dst)

    def edge_target(self, target: str) -> str:
        """The label to branch to for the edge current IR block -> target."""
        if not self.phis.get(target):
            return self.labels[target]
        key = (self.current_ir_label, target)
        if key in self.edge_blocks:
            return self.edge_blocks[key]
        saved = self.current
        self.current = self.new_block()
        self.edge_copies(target)
        self.emit("j", [], [], sym=self.labels[target])
        label = self.current.label
        self.current = saved
        self.edge_blocks[key] = label
        return label

    def lower_br(self, instr: Instr) -> None:
        if len(instr.targets) == 1 or instr.targets[0] == instr.targets[1]:
            self.jump(instr.targets[0])
            return
        cond = instr.operands[0]
        constant = self.const_operand(cond)
        if constant is not None:
            self.jump(instr.targets[0] if constant else instr.targets[1])
            return
        if_true = self.edge_target(instr.targets[0])
        if_false = self.edge_target(instr.targets[1])
        if isinstance(cond, Local) and cond.name in self.fused_cmps:
            compare = self.fused_cmps[cond.name]
            assert compare.pred is not None
            branch, swap = BRANCH_FOR_PRED[compare.pred]
            lhs, rhs = compare.operands
            if swap:
                lhs, rhs = rhs, lhs
            width = int_width(compare.ty)
            if branch in ("blt", "bge"):
                a, b = self.signed_operand(lhs, width), self.signed_operand(rhs, width)
            else:
                a, b = self.reg(lhs), self.reg(rhs)
            self.emit(branch, [], [a, b], sym=if_true)
        else:
            self.emit("bne", [], [self.reg(cond), "zero"], sym=if_true)
        self.emit("j", [], [], sym=if_false)

    def jump(self, target: str) -> None:
        self.edge_copies(target)
        self.emit("j", [], [], sym=self.labels[target])

    def lower_switch(self, instr: Instr) -> None:
        width = int_width(instr.ty)
        value = self.reg(instr.operands[0])
        default = self.edge_target(instr.targets[0])
        cases = sorted((canonical(c, width), self.edge_target(label)) for c, label in instr.cases)
        self.switch_tree(value, cases, default)

    def switch_tree(self, value: Reg, cases: list[tuple[int, str]], default: str) -> None:
        if len(cases) <= 3:
            for constant, label in cases:
                operand = self.reg(Const("i64", constant))
                self.emit("beq", [], [value, operand], sym=label)
                following = self.new_block()
                self.emit("j", [], [], sym=following.label)
                self.current = following
            self.emit("j", [], [], sym=default)
            return
        middle = len(cases) // 2
        pivot = self.reg(Const("i64", cases[middle][0]))
        upper = self.new_block()
        lower = self.new_block()
        self.emit("blt", [], [value, pivot], sym=lower.label)
        self.emit("j", [], [], sym=upper.label)
        self.current = lower
        self.switch_tree(value, cases[:middle], default)
        self.current = upper
        self.switch_tree(value, cases[middle:], default)

    def lower_ret(self, instr: Instr) -> None:
        uses: list[Reg] = [self.reg(instr.operands[0])] if instr.operands else []
        self.emit("ret", [], uses)

    def lower_unreachable(self, instr: Instr) -> None:
        self.emit("unreachable", [], [])


def lower_function(fn: Function, fn_index: int) -> MFunction:
    """Machine IR for a defined function (`fn.blocks` non-empty)."""
    return _FunctionLowering(fn, fn_index).lower()


__all__ = ["const_gep_offset", "fits12", "lower_function", "sequence_parallel_copy"]
