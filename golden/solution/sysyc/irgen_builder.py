"""Builds the text of one LLVM function in clang -O0's shape.

Values and block labels are `Slot`s: clang numbers them %0, %1, ... in the order they
appear in the text, which is only known once the function is complete (allocas are
hoisted to the entry block), so the numbers are given when the function is printed.
"""

from __future__ import annotations

__all__ = ["Block", "FunctionBuilder", "Operand", "Part", "Slot", "operand_text"]


class Slot:
    """An unnamed value or block label; printed as %N."""

    __slots__ = ("number",)

    def __init__(self) -> None:
        self.number = -1


Part = str | Slot
# An i32 operand is an int constant or a Slot; a pointer is a Slot or a global's "@name".
Operand = int | Slot | str
Instruction = tuple[Slot | None, tuple[Part, ...]]


def operand_text(value: Operand) -> Part:
    return str(value) if isinstance(value, int) else value


class Block:
    __slots__ = ("instructions", "label")

    def __init__(self) -> None:
        self.label = Slot()
        self.instructions: list[Instruction] = []


class FunctionBuilder:
    """Instructions go to the current block; allocas always to the entry block's head."""

    def __init__(self, name: str, return_type: str, param_types: list[str]) -> None:
        self.name = name
        self.return_type = return_type
        self.params = [(ty, Slot()) for ty in param_types]
        self.allocas: list[Instruction] = []
        self.blocks: list[Block] = []
        self.current: Block | None = None
        self.start_block(Block())

    @property
    def reachable(self) -> bool:
        """Whether code emitted now could run (false right after a terminator)."""
        return self.current is not None

    def start_block(self, block: Block) -> None:
        self.blocks.append(block)
        self.current = block

    def emit(self, *parts: Part) -> Slot:
        """Append an instruction that defines a value; returns the value."""
        result = Slot()
        assert self.current is not None, "emitting into no block"
        self.current.instructions.append((result, parts))
        return result

    def emit_void(self, *parts: Part) -> None:
        assert self.current is not None, "emitting into no block"
        self.current.instructions.append((None, parts))

    def terminate(self, *parts: Part) -> None:
        """Append a terminator; code after it is unreachable until the next block."""
        self.emit_void(*parts)
        self.current = None

    def branch(self, target: Block) -> None:
        self.terminate("br label ", target.label)

    def alloca(self, llvm_type: str, align: int) -> Slot:
        result = Slot()
        self.allocas.append((result, (f"alloca {llvm_type}, align {align}",)))
        return result

    def render(self, prefix: str) -> str:
        """The whole `define` (prefix: text between `define` and the return type)."""
        counter = 0
        for _, slot in self.params:
            slot.number = counter
            counter += 1
        entry = self.blocks[0]
        entry.label.number = counter
        counter += 1
        for result, _ in self.allocas:
            assert result is not None
            result.number = counter
            counter += 1
        for index, block in enumerate(self.blocks):
            if index:
                block.label.number = counter
                counter += 1
            for result, _ in block.instructions:
                if result is not None:
                    result.number = counter
                    counter += 1
        params = ", ".join(f"{ty} noundef %{slot.number}" for ty, slot in self.params)
        lines = [f"define {prefix}{self.return_type} @{self.name}({params}) {{"]
        for index, block in enumerate(self.blocks):
            if index:
                lines.append(f"\n{block.label.number}:")
            if index == 0:
                lines.extend(_render(instruction) for instruction in self.allocas)
            lines.extend(_render(instruction) for instruction in block.instructions)
        lines.append("}")
        return "\n".join(lines)


def _render(instruction: Instruction) -> str:
    result, parts = instruction
    text = "".join(part if isinstance(part, str) else f"%{part.number}" for part in parts)
    if result is None:
        return f"  {text}"
    return f"  %{result.number} = {text}"
