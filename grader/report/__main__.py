"""``python -m grader.report docs/report-schema.md``: regenerate the schema document."""

from __future__ import annotations

import sys

from grader.report._schema import main

main(sys.argv[1:])
