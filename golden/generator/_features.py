"""The language features the generator covers, by name: each generated program lists the
ones it uses (``GeneratedProgram.features``), and the coverage table of an epoch counts the
share of programs per feature (``ramp golden epoch new --json``: ``coverage``)."""

from __future__ import annotations

__all__ = ["FEATURES"]

FEATURES: tuple[str, ...] = (
    # declarations
    "global_scalar",  # a global int, with or without an initialiser
    "global_array",  # a global array
    "global_init",  # a global initialised by a constant expression naming other constants
    "const_scalar",  # const int (global or local)
    "const_array",  # const int array, read with a computed index
    "local_array",  # an array declared in a block
    "multi_dim_array",  # an array of rank >= 2
    "array_init_nested",  # = {{..}, {..}}
    "array_init_flat",  # a rank >= 2 array initialised by a flat list
    "array_init_partial",  # fewer initialisers than elements (the rest is zero)
    "array_init_empty",  # = {}
    "const_dims",  # a dimension that names a constant
    "multi_declarator",  # int a = 1, b[2], c;
    "shadowing",  # an inner block declares a name of an outer scope
    # functions
    "function_call",  # a call to a function of the program
    "void_function",
    "recursion",
    "array_param",  # an array passed to a parameter int a[] or int a[][N]
    "array_row_param",  # a row m[i] of a multi-dimensional array passed on
    # statements
    "if_else",
    "nested_loops",  # a while inside a while
    "break",
    "continue",
    "early_return",  # a return that is not a function's last statement
    "empty_statement",
    # expressions
    "short_circuit_and",
    "short_circuit_or",
    "side_effect_in_condition",  # a call with a side effect inside && / ||
    "logical_not",  # ! in a condition or as a value
    "comparison",  # < > <= >= == != in conditions
    "division_modulo",  # / and % with a provably non-zero divisor
    "negative_division",  # / or % whose dividend may be negative
    "unary_minus",
    "hex_octal_literal",
    # runtime
    "getint",
    "getch",
    "getarray",
    "putint",
    "putch",
    "putarray",
    "exit_code",  # main returns a value other than 0
    "comments",
    # performance programs
    "hot_loop",  # a loop whose trip count is set by the work parameter
    "timer",  # starttime() / stoptime() around the measured part
)
