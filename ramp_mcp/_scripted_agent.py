"""A scripted agent that does the whole job through the MCP server, as a real MCP client.

It starts from an empty workspace and, stage by stage, writes the reference solution's files
that stage needs (found by following the solution's imports), builds, tries the stage on a
public case with ``run_stage``, runs an RV64 program with ``run_rv64`` at T5, and submits.
With ``break_stage`` it writes a deliberately wrong program for that stage instead, to show
resurrection: the stage fails, its golden artifacts replace it, and the next stages are still
graded. It uses nothing but MCP tool calls, so it exercises exactly what an LLM agent would.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from mcp import Client
from pydantic import BaseModel, Field

from golden import SOLUTION_DIR, Stage, solution_files
from grader import REFERENCE_MOUNT

__all__ = [
    "BROKEN_PROGRAM",
    "DEGRADED_PROGRAM",
    "ScriptedAgentError",
    "ScriptedAgentPlan",
    "ScriptedAgentResult",
    "StageStep",
    "run_scripted_agent",
    "stage_files",
]

# Writes an empty output for any input: it builds and runs, and scores 0.
BROKEN_PROGRAM = '#!/bin/sh\n# Deliberately wrong (scripted agent, break_stage).\n: > "$2"\n'

# Runs the real stage program, then spoils the output of about one input in four (chosen by
# the input's hash, so the same inputs every time): the stage passes but hands the next
# stage some wrong inputs, which shows as propagation loss (chained below isolated).
DEGRADED_PROGRAM = """#!/usr/bin/env python3
# Deliberately imperfect (scripted agent, degrade_stage): wraps the real program.
import hashlib, os, subprocess, sys
real = os.path.join(os.path.dirname(os.path.abspath(__file__)), "{real}")
status = subprocess.call([real, *sys.argv[1:]])
if status == 0 and hashlib.sha256(open(sys.argv[1], "rb").read()).digest()[0] % 4 == 0:
    open(sys.argv[2], "w").close()
sys.exit(status)
"""


class ScriptedAgentError(Exception):
    """A tool call the script relies on failed: the message names the call and its error."""


class ScriptedAgentPlan(BaseModel):
    stages: list[Stage] = list(Stage)
    break_stage: Stage | None = None
    degrade_stage: Stage | None = None
    solution: Path = SOLUTION_DIR
    build_ballast_mb: int = Field(
        default=0,
        ge=0,
        description="MB of build output (1 MB object files in build/) the agent keeps in its "
        "workspace throughout, as a real compiler's build directory would be",
    )


class StageStep(BaseModel):
    stage: Stage
    files_written: int
    build_ok: bool
    local_case: str | None
    local_score: float | None
    rv64_matches: bool | None = None
    broken_on_purpose: bool = False
    degraded_on_purpose: bool = False
    submitted: dict[str, Any]


class ScriptedAgentResult(BaseModel):
    steps: list[StageStep]
    tool_calls: int


def _imports_of(module: Path, package: str) -> set[str]:
    """The modules of ``package`` that ``module`` imports (absolute or relative)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith(package + "."))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = f"{package}.{base}" if base else package
            if base == package:
                found.update(f"{package}.{a.name}" for a in node.names)
            elif base.startswith(package + "."):
                found.add(base)
    return found


def stage_files(stage: Stage, solution: Path = SOLUTION_DIR) -> list[str]:
    """The solution files stage ``stage`` needs: its launcher and its import closure."""
    launcher = f"bin/{stage.value.lower()}"
    needed = {launcher}
    package_dir = next(
        (p.parent for p in solution_files(solution) if p.name == "__init__.py"), None
    )
    if package_dir is None:
        return sorted(needed)
    package = package_dir.as_posix().replace("/", ".")
    entry = f"{package}.{stage.value.lower()}"
    pending = [entry, package]
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        path = Path(*name.split("."))
        candidate = path / "__init__.py" if (solution / path).is_dir() else path.with_suffix(".py")
        if not (solution / candidate).is_file():
            continue
        needed.add(candidate.as_posix())
        pending.extend(_imports_of(solution / candidate, package))
    return sorted(p for p in needed if (solution / p).is_file())


class _Session:
    def __init__(self, client: Client) -> None:
        self.client = client
        self.calls = 0

    async def call(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        result = await self.client.call_tool(tool, arguments)
        if result.is_error or result.structured_content is None:
            text = " ".join(getattr(c, "text", "") for c in result.content)
            raise ScriptedAgentError(f"{tool}({sorted(arguments)}) failed: {text}")
        return dict(result.structured_content)

    async def read_text(self, path: str) -> str:
        """A whole text file, following read_file's pages."""
        parts: list[str] = []
        offset = 0
        while True:
            page = await self.call("read_file", {"path": path, "offset": offset})
            parts.append(page["content"] or "")
            offset = page["offset"] + page["bytes_returned"]
            if page["bytes_returned"] == 0 or offset >= page["size"]:
                return "".join(parts)


async def _first_public_case(session: _Session) -> str:
    listing = await session.call("glob", {"pattern": "cases/*.sy"})
    paths = sorted(str(p) for p in listing["matches"])
    if not paths:
        raise ScriptedAgentError("the workspace has no public cases under cases/")
    return Path(paths[0]).stem


async def _rv64_round_trip(session: _Session, case: str) -> bool:
    """T5 by hand, as an agent would check it: compile a public input (the revealed T4
    reference, read-only outside the workspace; gzip-compressed when large), run it on qemu."""
    source = f"{REFERENCE_MOUNT}/T4/{case}"
    compiled = await session.call(
        "run_command",
        {
            "command": f"mkdir -p out && src=$(ls {source}.* | head -n 1) && "
            f'case "$src" in *.gz) zcat "$src" > out/{case}.ll && src=out/{case}.ll;; esac && '
            f'bin/t5 "$src" out/{case}.s'
        },
    )
    if compiled.get("exit_code") != 0:
        if "No such file" in str(compiled.get("stderr")):
            raise ScriptedAgentError(f"{REFERENCE_MOUNT}/T4 has no input for {case}")
        return False
    stdin = ""
    listing = await session.call("glob", {"pattern": f"cases/{case}.in"})
    if listing["matches"]:
        stdin = await session.read_text(f"cases/{case}.in")
    ran = await session.call("run_rv64", {"source": f"out/{case}.s", "stdin": stdin})
    expected = await session.read_text(f"cases/{case}.out")
    return bool(ran.get("built")) and ran.get("stdout") == expected


async def run_scripted_agent(client: Client, plan: ScriptedAgentPlan) -> ScriptedAgentResult:
    """Do the stages of ``plan`` through ``client``'s tools; return what happened."""
    session = _Session(client)
    written: set[str] = set()
    steps: list[StageStep] = []
    await session.call("status", {})
    case = await _first_public_case(session)
    if plan.build_ballast_mb:
        ballast = await session.call(
            "run_command",
            {
                "command": f"mkdir -p build && for i in $(seq {plan.build_ballast_mb}); do "
                "head -c 1048576 /dev/urandom > build/obj$i.o || exit 1; done",
                "timeout_s": 600,
            },
        )
        if ballast.get("exit_code") != 0:
            raise ScriptedAgentError(f"writing the build ballast failed: {ballast}")
    for stage in plan.stages:
        broken = stage == plan.break_stage
        degraded = stage == plan.degrade_stage
        name = stage.value.lower()
        wanted = ["build.sh", *stage_files(stage, plan.solution)]
        count = 0
        for relative in wanted:
            launcher = relative == f"bin/{name}"
            if relative in written and not launcher:
                continue
            content = (plan.solution / relative).read_text(encoding="utf-8")
            if broken and launcher:
                content = BROKEN_PROGRAM
            elif degraded and launcher:
                await session.call("write_file", {"path": f"bin/{name}.real", "content": content})
                content = DEGRADED_PROGRAM.format(real=f"{name}.real")
            await session.call("write_file", {"path": relative, "content": content})
            written.add(relative)
            count += 1
        built = await session.call("build", {})
        tried = await session.call("run_stage", {"stage": stage.value, "case": case})
        rv64 = await _rv64_round_trip(session, case) if stage is Stage.T5 and not broken else None
        submitted = await session.call("submit_stage", {"stage": stage.value})
        steps.append(
            StageStep(
                stage=stage,
                files_written=count,
                build_ok=bool(built.get("ok")),
                local_case=case,
                local_score=tried.get("score"),
                rv64_matches=rv64,
                broken_on_purpose=broken,
                degraded_on_purpose=degraded,
                submitted=submitted,
            )
        )
        if submitted.get("next_open") is None:
            break
    await session.call("status", {})
    return ScriptedAgentResult(steps=steps, tool_calls=session.calls)
