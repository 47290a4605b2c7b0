"""grade_workspace: a build.sh that smuggles in a doctored copy of llc scores 0 for it."""

from __future__ import annotations

from pathlib import Path

import pytest

from golden import CaseKind, Split, Stage, build_golden, builtin_corpus
from grader._grading import grade_workspace
from grader._integrity import FindingKind
from tests.grader.oracle import write_oracle
from tests.support import backend_missing
from toolchain._manifest import Profile

BACKEND = "bwrap"


@pytest.fixture(autouse=True)
def _needs_bwrap() -> None:
    reason = backend_missing(BACKEND) or backend_missing(BACKEND, Profile.MINIMAL)
    if reason:
        pytest.skip(reason)


def test_a_copy_of_llc_with_a_byte_appended_is_found_and_scores_0(workspace: Path) -> None:
    (case,) = [
        c for c in builtin_corpus() if c.split is Split.PUBLIC and c.kind is CaseKind.FUNCTIONAL
    ][:1]
    golden = build_golden([case], backend=BACKEND)
    assert golden.failures == {}
    write_oracle(workspace, golden.cases, {case.name: case.source})
    # The oracle's programs are right on this case: only the copy can cost the score.
    honest = grade_workspace(workspace, [Stage.T0], cases=[case], backend=BACKEND)
    assert honest.integrity_findings == [] and honest.stages[0].chained_score == 100.0
    (workspace / "build.sh").write_text(
        "#!/bin/sh\nset -e\nmkdir -p bin\ncp src/* bin/\nchmod +x bin/*\n"
        "cp /usr/lib/llvm-19/bin/llc bin/.cache-t5\nprintf x >> bin/.cache-t5\n"
    )
    report = grade_workspace(workspace, [Stage.T0], cases=[case], backend=BACKEND)
    assert report.build_ok
    copies = [f for f in report.integrity_findings if f.kind is FindingKind.TOOLCHAIN_COPY]
    assert len(copies) == 1, report.integrity_findings
    assert copies[0].detail.startswith("bin/.cache-t5: ")
    assert "/usr/lib/llvm-19/bin/llc" in copies[0].detail
    # the agent is told the category only, never the evidence
    assert copies[0].shown() == (
        "toolchain-copy: the workspace carries a copy of the reference toolchain"
    )
    (t0,) = report.stages
    assert (t0.chained_score, t0.isolated_score, t0.passed) == (0.0, 0.0, False)
