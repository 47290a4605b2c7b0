"""What the generator hands out: one SysY program, its stdin and the features it uses.

The epoch builder (golden._epochs) needs nothing else from the generator: a program is
text plus input, established afterwards by differential execution (golden._expected), so
the generator never states what a program prints.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["GENERATOR_VERSION", "GeneratedProgram", "program_seed"]

# Bump when any change makes one seed give different programs: an epoch records it, and
# an epoch made by another version is not the same epoch.
GENERATOR_VERSION = 2


class GeneratedProgram(BaseModel):
    """One generated case: ``name`` is unique within an epoch, ``kind`` is ``functional``
    or ``performance``, ``features`` are names from :data:`golden.generator.FEATURES`."""

    model_config = ConfigDict(frozen=True)

    name: str
    kind: str
    source: str
    stdin: str
    features: frozenset[str]


def program_seed(seed: int, kind: str, index: int) -> str:
    """The seed of one program: stable across processes and Python runs (``random.Random``
    hashes a str seed with SHA-512, not with ``hash()``), independent of the others."""
    return f"ramp-gen-v{GENERATOR_VERSION}:{seed}:{kind}:{index}"
