"""Machine-readable stage definitions; the agent-facing text is ``contracts/<stage>.md``."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from golden._corpus import Case, CaseKind
from golden._reference import ARTIFACT_FILES, Stage

__all__ = [
    "CONTRACTS_DIR",
    "PASS_THRESHOLD",
    "CaseRole",
    "Environment",
    "StageFormat",
    "StageLimits",
    "StageSpec",
    "case_roles",
    "stage_specs",
]

CONTRACTS_DIR = Path(__file__).with_name("contracts")
PASS_THRESHOLD = 60.0


class Environment(StrEnum):
    """Where a stage program runs when graded (and in the local test tool)."""

    DEVELOPMENT = "dev"
    MINIMAL = "minimal"


class CaseRole(StrEnum):
    """What a case is to a stage: scored on the stage's measure, or only checked."""

    SCORED = "scored"
    # Checked only: a correct output is left out of the stage's mean, a wrong one counts
    # as a 0 in it (golden.scoring.counts_in_mean).
    CHECKED = "checked"


class StageFormat(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    suffix: str
    description: str


class StageLimits(BaseModel):
    """Per case. ``program`` is the agent's stage program; the rest are the grader's steps."""

    model_config = ConfigDict(frozen=True)

    program_timeout_s: float
    program_memory_mb: int = 2048
    compile_timeout_s: float | None = None
    run_timeout_s: float | None = None
    measure_timeout_s: float | None = None


class StageSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: Stage
    title: str
    summary: str
    input: StageFormat
    output: StageFormat
    environment: Environment
    limits: StageLimits
    scoring: str
    pass_threshold: float = PASS_THRESHOLD
    weight: int = Field(description="the paper's mean-reward weight")
    contract: Path
    graded_kinds: tuple[CaseKind, ...] = Field(
        default=(CaseKind.FUNCTIONAL, CaseKind.PERFORMANCE, CaseKind.STRESS),
        description="which kinds of case the stage is scored on",
    )
    checked_kinds: tuple[CaseKind, ...] = Field(
        default=(),
        description="which kinds of case the stage only checks for correct behaviour",
    )

    def contract_text(self) -> str:
        return self.contract.read_text(encoding="utf-8")


_SOURCE = StageFormat(name="SysY source", suffix=".sy", description="contest style, no #include")
_PREPROCESSED = StageFormat(
    name="preprocessed text", suffix=".i", description="clang -E output with line markers"
)
_TOKENS = StageFormat(
    name="token dump", suffix=".tokens", description="clang -cc1 -dump-tokens lines"
)
_AST = StageFormat(
    name="JSON AST", suffix=".json", description="clang -cc1 -ast-dump=json, TranslationUnitDecl"
)
_IR_O0 = StageFormat(name="LLVM IR", suffix=".ll", description="textual IR, clang -O0 dialect")
_IR_OPT = StageFormat(name="optimised LLVM IR", suffix=".ll", description="textual IR")
_ASM = StageFormat(name="RV64 assembly", suffix=".s", description="GNU as, riscv64-linux-gnu")


def case_roles(stage: Stage, cases: Iterable[Case]) -> dict[str, CaseRole]:
    """The cases of ``cases`` that ``stage`` judges, and how.

    A case set without any of the stage's scored kinds (a user's directory of functional
    cases, say) is scored on all of its cases rather than on none.
    """
    spec = stage_specs()[stage]
    chosen = list(cases)
    if not any(case.kind in spec.graded_kinds for case in chosen):
        return {case.name: CaseRole.SCORED for case in chosen}
    roles = {case.name: CaseRole.CHECKED for case in chosen if case.kind in spec.checked_kinds}
    roles |= {case.name: CaseRole.SCORED for case in chosen if case.kind in spec.graded_kinds}
    return roles


@cache
def stage_specs() -> dict[Stage, StageSpec]:
    specs = [
        StageSpec(
            id=Stage.T0,
            title="Preprocess",
            summary="Preprocess a SysY source exactly as clang -E with the runtime header pre-included.",
            input=_SOURCE,
            output=_PREPROCESSED,
            environment=Environment.DEVELOPMENT,
            limits=StageLimits(program_timeout_s=10),
            scoring="100 for an exact match; otherwise the share of equal lines, capped at 59",
            weight=1,
            contract=CONTRACTS_DIR / "T0.md",
        ),
        StageSpec(
            id=Stage.T1,
            title="Lexer",
            summary="Turn preprocessed text into clang's -dump-tokens format.",
            input=_PREPROCESSED,
            output=_TOKENS,
            environment=Environment.MINIMAL,
            limits=StageLimits(program_timeout_s=10),
            scoring="token count must match; 100*(0.6K+0.3L+0.1F)/N",
            weight=2,
            contract=CONTRACTS_DIR / "T1.md",
        ),
        StageSpec(
            id=Stage.T2,
            title="Parser",
            summary="Turn a token dump into clang's JSON AST.",
            input=_TOKENS,
            output=_AST,
            environment=Environment.MINIMAL,
            limits=StageLimits(program_timeout_s=10),
            scoring="100*(0.6*L1 + 0.4*L2)/N over reference nodes; L1 includes the operator",
            weight=2,
            contract=CONTRACTS_DIR / "T2.md",
        ),
        StageSpec(
            id=Stage.T3,
            title="IR generation",
            summary="Turn the JSON AST into textual LLVM IR that behaves like the program.",
            input=_AST,
            output=_IR_O0,
            environment=Environment.MINIMAL,
            limits=StageLimits(program_timeout_s=10, compile_timeout_s=60, run_timeout_s=10),
            scoring="100 when stdout, exit code and timer calls match, else 0",
            weight=3,
            contract=CONTRACTS_DIR / "T3.md",
        ),
        StageSpec(
            id=Stage.T4,
            title="Optimiser",
            summary="Rewrite -O0 IR into equivalent, faster IR.",
            input=_IR_O0,
            output=_IR_OPT,
            environment=Environment.MINIMAL,
            limits=StageLimits(
                program_timeout_s=20, compile_timeout_s=60, run_timeout_s=10, measure_timeout_s=120
            ),
            scoring="correct output, then 100*clip(log(B/I)/log(B/R), 0, 1) in callgrind "
            "instructions (B: the unchanged input, R: clang -O2); a wrong functional case is a 0",
            weight=3,
            contract=CONTRACTS_DIR / "T4.md",
            # Functional programs do too little work to measure, but a T4 output must not
            # break them: they are checked, and each wrong one counts as a 0 in the mean.
            graded_kinds=(CaseKind.PERFORMANCE,),
            checked_kinds=(CaseKind.FUNCTIONAL, CaseKind.STRESS),
        ),
        StageSpec(
            id=Stage.T5,
            title="RV64 back end",
            summary="Turn LLVM IR into RV64 assembly that runs on qemu-riscv64.",
            input=_IR_OPT,
            output=_ASM,
            environment=Environment.MINIMAL,
            limits=StageLimits(program_timeout_s=10, compile_timeout_s=60, run_timeout_s=20),
            scoring="100 when stdout, exit code and timer calls match on qemu, else 0",
            weight=4,
            contract=CONTRACTS_DIR / "T5.md",
        ),
    ]
    missing = [s.id for s in specs if not s.contract.is_file()]
    if missing:
        raise FileNotFoundError(f"stage contracts missing for {missing} in {CONTRACTS_DIR}")
    if {s.id for s in specs} != set(ARTIFACT_FILES):
        raise ValueError("every stage needs a spec and an artifact file")
    return {s.id: s for s in specs}
