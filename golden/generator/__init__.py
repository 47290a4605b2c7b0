"""A seeded, deterministic generator of valid, UB-free SysY programs (functional and
performance), from which every epoch's hidden cases are made (golden._epochs)."""

from golden.generator._features import FEATURES
from golden.generator._functional import generate_functional
from golden.generator._performance import generate_performance
from golden.generator._program import GENERATOR_VERSION, GeneratedProgram, program_seed

__all__ = [
    "FEATURES",
    "GENERATOR_VERSION",
    "GeneratedProgram",
    "generate_functional",
    "generate_performance",
    "program_seed",
]
