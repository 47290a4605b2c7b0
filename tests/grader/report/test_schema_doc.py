"""docs/report-schema.md is generated from the models and must match them."""

from __future__ import annotations

import json
import re
from pathlib import Path

from grader.report import campaign_schema, leaderboard_schema, report_schema, schema_markdown

DOC = Path(__file__).resolve().parents[3] / "docs" / "report-schema.md"


def test_the_documented_schema_is_the_models_schema() -> None:
    assert DOC.read_text(encoding="utf-8") == schema_markdown(), (
        "docs/report-schema.md is stale: regenerate it with "
        "`.venv/bin/python -m grader.report docs/report-schema.md`"
    )


def test_the_document_holds_every_schema_as_json() -> None:
    blocks = re.findall(r"```json\n(.*?)\n```", DOC.read_text(encoding="utf-8"), re.S)
    assert [json.loads(b) for b in blocks] == [
        json.loads(json.dumps(report_schema())),
        json.loads(json.dumps(leaderboard_schema())),
        json.loads(json.dumps(campaign_schema())),
    ]
    assert set(report_schema()["properties"]) == {"schema_version", "generated_at", "runs"}
    assert {"campaign", "rows", "comparisons"} <= set(campaign_schema()["properties"])
