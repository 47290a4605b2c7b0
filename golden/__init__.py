"""What is true: the SysY workload's corpus, runtime, stage contracts and golden artifacts."""

from golden._builder import (
    RUNTIME_DIR,
    CaseArtifacts,
    GoldenBuild,
    GoldenBuildError,
    build_golden,
    golden_key,
)
from golden._cli import golden_group, reference_group
from golden._corpus import (
    CORPUS_DIR,
    Case,
    CaseKind,
    CorpusError,
    Split,
    builtin_corpus,
    load_case_dir,
    split_of,
)
from golden._judge import MAX_OUTPUT_BYTES, Judge, JudgeError
from golden._manifest import MANIFEST_PATH, GoldenManifest, compare, manifest_of
from golden._reference import ARTIFACT_FILES, CASE_MOUNT, INCLUDE_MOUNT, Stage
from golden._solution import SOLUTION_DIR, reference_workspace, solution_files, solution_modules
from golden._stages import (
    CONTRACTS_DIR,
    PASS_THRESHOLD,
    CaseRole,
    Environment,
    StageSpec,
    case_roles,
    stage_specs,
)
from golden.epochs import (
    BUILTIN_EPOCH,
    EpochError,
    current_epoch,
    epoch_cases,
    epoch_group,
)

__all__ = [
    "ARTIFACT_FILES",
    "BUILTIN_EPOCH",
    "CASE_MOUNT",
    "CONTRACTS_DIR",
    "CORPUS_DIR",
    "INCLUDE_MOUNT",
    "MANIFEST_PATH",
    "MAX_OUTPUT_BYTES",
    "PASS_THRESHOLD",
    "RUNTIME_DIR",
    "SOLUTION_DIR",
    "Case",
    "CaseArtifacts",
    "CaseKind",
    "CaseRole",
    "CorpusError",
    "Environment",
    "EpochError",
    "GoldenBuild",
    "GoldenBuildError",
    "GoldenManifest",
    "Judge",
    "JudgeError",
    "Split",
    "Stage",
    "StageSpec",
    "build_golden",
    "builtin_corpus",
    "case_roles",
    "compare",
    "current_epoch",
    "epoch_cases",
    "epoch_group",
    "golden_group",
    "golden_key",
    "load_case_dir",
    "manifest_of",
    "reference_group",
    "reference_workspace",
    "solution_files",
    "solution_modules",
    "split_of",
    "stage_specs",
]
