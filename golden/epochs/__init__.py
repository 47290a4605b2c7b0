"""Epochs: versioned hidden case sets, generated from a seed and fixed mechanically.

``0`` is the built-in corpus. Any other epoch is made by :func:`make_epoch` from the
generator (golden.generator), kept in ``ramp_home()/epochs/ID`` (root-only, outside the
repository) and graded on by ``ramp-grade grade --epoch ID`` and ``ramp run create
--epoch ID``; a run records its epoch.
"""

from golden.epochs._cli import epoch_group
from golden.epochs._make import Progress, make_epoch
from golden.epochs._models import (
    BUILTIN_EPOCH,
    EpochCase,
    EpochCaseRecord,
    EpochError,
    EpochManifest,
    EpochSummary,
    EpochVerdict,
    EpochView,
    Rejection,
)
from golden.epochs._store import (
    coverage_of,
    current_epoch,
    epoch_cases,
    epoch_dir,
    epoch_id,
    epoch_manifest,
    epochs_root,
    list_epochs,
    show_epoch,
    use_epoch,
)
from golden.epochs._verify import verify_epoch

__all__ = [
    "BUILTIN_EPOCH",
    "EpochCase",
    "EpochCaseRecord",
    "EpochError",
    "EpochManifest",
    "EpochSummary",
    "EpochVerdict",
    "EpochView",
    "Progress",
    "Rejection",
    "coverage_of",
    "current_epoch",
    "epoch_cases",
    "epoch_dir",
    "epoch_group",
    "epoch_id",
    "epoch_manifest",
    "epochs_root",
    "list_epochs",
    "make_epoch",
    "show_epoch",
    "use_epoch",
    "verify_epoch",
]
