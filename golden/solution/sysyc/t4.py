"""Stage T4: optimise LLVM IR (clang -O0 style) into equivalent, faster IR."""

from __future__ import annotations

from sysyc._cli import run_stage
from sysyc.ir import Function, GlobalVar, Module, parse_module, print_module
from sysyc.ir_alias import ModRef
from sysyc.opt_cfg import simplify_cfg
from sysyc.opt_condprop import propagate_conditions
from sysyc.opt_dce import eliminate_dead_code
from sysyc.opt_fold import simplify_instructions
from sysyc.opt_gvn import fold_constant_loads, value_numbering
from sysyc.opt_indvars import widen_induction_variables
from sysyc.opt_inline import inline_module
from sysyc.opt_licm import hoist_loop_invariants
from sysyc.opt_mem2reg import promote_allocas
from sysyc.opt_nonneg import unsign_divisions
from sysyc.opt_rotate import rotate_loops
from sysyc.opt_tailrec import eliminate_tail_recursion
from sysyc.opt_unroll_full import unroll_loops
from sysyc.opt_unroll_runtime import unroll_by_two


def _cleanup(func: Function) -> None:
    """Fold, remove dead code and tidy the CFG until the CFG stops changing (instruction
    folding reaches its own fixpoint inside simplify_instructions)."""
    for _ in range(4):
        simplify_instructions(func)
        eliminate_dead_code(func)
        if not simplify_cfg(func):
            break


def _per_function_early(func: Function, constant_globals: dict[str, GlobalVar]) -> None:
    """SSA construction and the clean-ups that make functions small before inlining."""
    simplify_cfg(func)
    promote_allocas(func)
    _cleanup(func)
    if fold_constant_loads(func, constant_globals):
        _cleanup(func)
    if eliminate_tail_recursion(func):
        _cleanup(func)


def _after_inlining(func: Function) -> None:
    promote_allocas(func)  # scalars of inlined callees
    _cleanup(func)


def _per_function_loops(func: Function, modref: ModRef, module: Module) -> None:
    """Loop shaping, redundancy elimination and loop optimisations, in dependency order."""
    if rotate_loops(func):
        _cleanup(func)
    if propagate_conditions(func):
        _cleanup(func)
    if unroll_loops(func):
        _cleanup(func)
    for _ in range(3):
        if not value_numbering(func, modref, module):
            break
        _cleanup(func)
    if hoist_loop_invariants(func, modref, module):
        _cleanup(func)
        if value_numbering(func, modref, module):
            _cleanup(func)
    if widen_induction_variables(func):
        _cleanup(func)
        hoist_loop_invariants(func, modref, module)
        value_numbering(func, modref, module)
        _cleanup(func)
    if unsign_divisions(func):
        _cleanup(func)
    if unroll_by_two(func):
        _cleanup(func)


def optimise_module(module: Module) -> None:
    constant_globals = {g.name: g for g in module.globals if g.constant}
    defined = [f for f in module.functions if f.blocks]
    for func in defined:
        _per_function_early(func, constant_globals)
    inline_module(module, _after_inlining)
    modref = ModRef(module)
    for func in defined:
        _per_function_loops(func, modref, module)


def optimise_text(text: str) -> str:
    """Parse, optimise and print one module."""
    module = parse_module(text)
    optimise_module(module)
    return print_module(module)


def main(argv: list[str]) -> int:
    return run_stage(argv, optimise_text, "t4")
