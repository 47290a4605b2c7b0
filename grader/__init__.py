"""Who judges: the stage machine, grading, the ledger, metrics and reports.

The package's public face: the server (``ramp_mcp``) imports from here and from the public
subpackages (``grader.ledger``, ``grader.metrics``, ``grader.report``, ``grader.usage``,
``grader.taxonomy``), never from a private module.
"""

from grader._agent_workspace import REFERENCE_MOUNT
from grader._grading import GradeReport, GradingError, StageGrade, grade_workspace, hidden_cases
from grader._handoff import NOT_ACCEPTED, canonical_file
from grader._machine import (
    RunRewardsView,
    RunStatusView,
    StageMachine,
    StageRefusedError,
    StageView,
    SubmissionOutcome,
)
from grader._run_cli import create_run_command
from grader._run_home import RunHome
from grader._run_token import TOKEN_FILE, ensure_token, read_token, token_path
from grader._stage_run import StageRun, StageRunError, run_stage

__all__ = [
    "NOT_ACCEPTED",
    "REFERENCE_MOUNT",
    "TOKEN_FILE",
    "GradeReport",
    "GradingError",
    "RunHome",
    "RunRewardsView",
    "RunStatusView",
    "StageGrade",
    "StageMachine",
    "StageRefusedError",
    "StageRun",
    "StageRunError",
    "StageView",
    "SubmissionOutcome",
    "canonical_file",
    "create_run_command",
    "ensure_token",
    "grade_workspace",
    "hidden_cases",
    "read_token",
    "run_stage",
    "token_path",
]
