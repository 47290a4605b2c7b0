"""Usage import: a 50 MB synthetic Claude Code transcript into a SQLite ledger.

    .venv/bin/python benchmarks/bench_usage_import.py [--mb 50] [--ledger URL]

The transcript follows Claude Code's format: per turn a user line carrying a tool result
(1-6 KB) and an assistant response written as two or three lines that share one message id
(thinking, text, tool use; the output count grows on the last line), plus a synthetic API
error now and then. Each import runs in a child process whose peak RSS is read with wait4;
a 5 MB import is measured too, so "flat memory" shows as the same peak for both sizes.
The importer's totals are checked against the generator's.

Target (issue F5): a 50 MB transcript imports in <= 10 s with flat memory.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

MODEL = "claude-opus-4-7"


def generate(path: Path, megabytes: int, *, dense: bool = False, seed: int = 7) -> dict[str, int]:
    """Write the transcript; return the totals a correct importer must find. ``dense``: short
    tool results and texts, so many more responses per megabyte (a worst case)."""
    rng = random.Random(seed)
    scale = 10 if dense else 1
    target = megabytes << 20
    expected = {"reports": 0, "input": 0, "cache_read": 0, "output": 0, "errors": 0, "lines": 0}
    session = "5f0c8a2e-0000-4000-8000-000000000001"
    turn = 0
    with path.open("w", encoding="utf-8") as out:
        while out.tell() < target:
            turn += 1
            stamp = f"2026-11-25T{10 + turn // 3600 % 10:02d}:{turn // 60 % 60:02d}:{turn % 60:02d}.000Z"
            result = "x" * (rng.randint(1000, 6000) // scale)
            user = {
                "type": "user",
                "sessionId": session,
                "uuid": f"u-{turn}",
                "timestamp": stamp,
                "message": {
                    "role": "user",
                    "content": [
                        {"type": "tool_result", "tool_use_id": f"toolu_{turn}", "content": result}
                    ],
                },
            }
            out.write(json.dumps(user) + "\n")
            expected["lines"] += 1
            if turn % 500 == 0:
                error = {
                    "type": "assistant",
                    "sessionId": session,
                    "uuid": f"e-{turn}",
                    "timestamp": stamp,
                    "isApiErrorMessage": True,
                    "message": {
                        "id": f"err-{turn}",
                        "model": "<synthetic>",
                        "role": "assistant",
                        "content": [{"type": "text", "text": "API Error: 529 overloaded_error"}],
                        "usage": {"input_tokens": 0, "output_tokens": 0},
                    },
                }
                out.write(json.dumps(error) + "\n")
                expected["lines"] += 1
                expected["errors"] += 1
            uncached, cache_read, write = (
                rng.randint(1, 50),
                rng.randint(5_000, 150_000),
                rng.randint(0, 3000),
            )
            final_output = rng.randint(20, 2000)
            blocks = [
                {"type": "thinking", "thinking": "t" * (rng.randint(100, 1500) // scale)},
                {"type": "text", "text": "w" * (rng.randint(50, 800) // scale)},
                {
                    "type": "tool_use",
                    "id": f"toolu_{turn + 1}",
                    "name": "mcp__ramp__build",
                    "input": {},
                },
            ][: rng.randint(2, 3)]
            for index, block in enumerate(blocks):
                last = index == len(blocks) - 1
                line = {
                    "type": "assistant",
                    "sessionId": session,
                    "uuid": f"a-{turn}-{index}",
                    "requestId": f"req_{turn}",
                    "timestamp": stamp,
                    "message": {
                        "id": f"msg_{turn:08d}",
                        "model": MODEL,
                        "role": "assistant",
                        "content": [block],
                        "usage": {
                            "input_tokens": uncached,
                            "cache_creation_input_tokens": write,
                            "cache_read_input_tokens": cache_read,
                            "output_tokens": final_output if last else rng.randint(1, final_output),
                        },
                    },
                }
                out.write(json.dumps(line) + "\n")
                expected["lines"] += 1
            expected["reports"] += 1
            expected["input"] += uncached + cache_read + write
            expected["cache_read"] += cache_read
            expected["output"] += final_output
    return expected


def child(url: str, run_id: str, path: str) -> None:
    from grader.ledger import Ledger
    from grader.usage import import_claude_code

    with Ledger.open(url) as ledger:
        started = time.monotonic()
        report = import_claude_code(ledger, run_id, Path(path))
        seconds = time.monotonic() - started
    print(json.dumps({"seconds": seconds, "report": report.model_dump(mode="json")}))


def measured_import(url: str, run_id: str, path: Path) -> tuple[dict[str, object], int]:
    """Run the import in a child; its output and its peak RSS in KiB."""
    process = subprocess.Popen(
        [sys.executable, __file__, "--child", url, run_id, str(path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"import child failed with {process.returncode}")
    return json.loads(output), usage.ru_maxrss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=50)
    parser.add_argument("--ledger", default=None, help="default: SQLite in a temp directory")
    parser.add_argument(
        "--dense", action="store_true", help="short lines: many more responses per MB"
    )
    parser.add_argument("--child", nargs=3, metavar=("URL", "RUN", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    from grader.ledger import Ledger
    from grader.usage import run_usage

    root = Path(tempfile.mkdtemp(prefix="ramp-bench-usage-", dir="/tmp"))
    url = args.ledger or f"sqlite:///{root / 'ledger.sqlite3'}"
    rows = []
    try:
        for megabytes in (5, args.mb):
            transcript = root / f"transcript-{megabytes}mb.jsonl"
            expected = generate(transcript, megabytes, dense=args.dense)
            with Ledger.open(url) as ledger:
                run = ledger.create_run(
                    agent="bench", model=MODEL, workspace=str(root), sandbox="none", golden_key="-"
                )
            first, rss = measured_import(url, run.id, transcript)
            again, _ = measured_import(url, run.id, transcript)
            with Ledger.open(url) as ledger:
                usage = run_usage(ledger, run.id)
            got = usage.tokens
            exact = (
                got.reports == expected["reports"]
                and got.input == expected["input"]
                and got.cache_read == expected["cache_read"]
                and got.output == expected["output"]
                and usage.errors.get("overloaded", 0) == expected["errors"]
                and again["report"]["records_added"] == 0  # type: ignore[index]
            )
            size = transcript.stat().st_size / (1 << 20)
            rows.append(
                (
                    f"{size:.1f} MB, {expected['lines']:,} lines, {expected['reports']:,} responses",
                    f"{first['seconds']:.2f} s",
                    f"{again['seconds']:.2f} s",
                    f"{rss / 1024:.0f} MiB",
                    "exact" if exact else "MISMATCH",
                )
            )
            transcript.unlink()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    table = Table("transcript", "import", "re-import", "peak RSS", "totals")
    for row in rows:
        table.add_row(*row)
    Console().print(table)
    print("target: <= 10 s for 50 MB, flat memory (same peak RSS for 5 MB and 50 MB)")


if __name__ == "__main__":
    main()
