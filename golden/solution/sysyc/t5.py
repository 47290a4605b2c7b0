"""Stage T5: textual LLVM IR to RV64 assembly (GNU as, riscv64-linux-gnu, LP64D)."""

from __future__ import annotations

import gc

from ._cli import run_stage
from .ir import Module, parse_module
from .rv64_emit import emit_function, emit_global
from .rv64_isel import lower_function
from .rv64_regalloc import allocate


def compile_module(module: Module) -> str:
    lines: list[str] = ["\t.option\tnopic"]
    for var in module.globals:
        if var.init is not None:
            lines += emit_global(var)
    for index, fn in enumerate(module.functions):
        if not fn.blocks:
            continue
        mf = lower_function(fn, index)
        lines += emit_function(mf, allocate(mf))
    lines.append("")
    return "\n".join(lines)


def translate(text: str) -> str:
    return compile_module(parse_module(text))


def main(argv: list[str]) -> int:
    # The IR and machine IR are hundreds of thousands of small acyclic objects: the cyclic
    # collector would rescan them again and again for nothing.
    gc.disable()
    return run_stage(argv, translate, "t5")
