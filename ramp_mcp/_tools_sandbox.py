"""The tools that run something: a command, build.sh, a stage program as grading runs it, RV64.

Each needs budget left and runs on a worker thread holding one of the run's command slots
and the run's grading gate (``ToolContext.commanding``), with a token that kills what it
started once the call ends or the run's stage is submitted for grading.
"""

from __future__ import annotations

import re
import time
from pathlib import Path, PurePosixPath
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

import grader
from golden import Stage
from ramp_mcp._models import BuildResult, CommandResult, Rv64Result, StageRunResult
from ramp_mcp._runs import RunContext, ServerState
from ramp_mcp._tools import StageName, ToolContext, WorkspacePath, mutating, tool_errors
from toolchain import PathOutsideWorkspaceError, WorkspaceError
from toolchain.sandbox import CancelToken, ExecResult, Outcome
from toolchain.workspace import EntryKind, TreeEntry

__all__ = ["register_sandbox_tools"]

_MAX_STREAM_CHARS = 30_000
_BUILD_TIMEOUT_S = 600
_ERROR_LINE = re.compile(r"\berror\b", re.IGNORECASE)
_WARNING_LINE = re.compile(r"\bwarning\b", re.IGNORECASE)


def register_sandbox_tools(server: MCPServer[ServerState], tools: ToolContext) -> None:
    """run_command, build, run_stage, run_rv64, in the order the agent is shown them."""
    _register_command(server, tools)
    _register_build(server, tools)
    _register_run_stage(server, tools)
    _register_rv64(server, tools)


def _register_command(server: MCPServer[ServerState], tools: ToolContext) -> None:
    @server.tool(
        description="Run a shell command (/bin/sh -c) in your development sandbox: the full "
        "toolchain (clang-19, riscv64 gcc, qemu-riscv64, python3, ...), no network, the "
        "workspace writable (512 MB, 100,000 files). The runtime header is at "
        "/ramp/include/sylib.h; revealed reference outputs are in /ramp/reference/ (read-only).",
        annotations=mutating(destructive=True, idempotent=False),
    )
    @tool_errors
    async def run_command(
        ctx: Context[ServerState, Any],
        command: Annotated[str, Field(min_length=1, max_length=100_000, description="shell text")],
        cwd: Annotated[
            str, Field(max_length=4096, description="working directory, relative to the root")
        ] = ".",
        timeout_s: Annotated[
            float,
            Field(gt=0, le=24 * 3600, description="wall-clock limit (capped by the server)"),
        ] = 120,
    ) -> CommandResult:
        run = tools.active(ctx)
        limit = min(timeout_s, tools.settings.max_timeout_s)
        result = await tools.commanding(
            ctx,
            run,
            f"running {command[:60]!r}",
            lambda cancel: run.sandbox().exec(command, cwd=cwd, timeout_s=limit, cancel=cancel),
        )
        reply = _command_result(result)
        notes = run.full_places()
        if result.outcome is Outcome.KILLED and run.gate.grading is not None:
            notes.append(f"killed because stage {run.gate.grading} was submitted for grading")
        if notes:
            reply.detail = "; ".join(filter(None, [reply.detail, *notes]))
        return reply


def _register_build(server: MCPServer[ServerState], tools: ToolContext) -> None:
    @server.tool(
        description="Run ./build.sh in your development sandbox, as grading does (10 minutes); "
        "returns ok, the error lines and the log tail.",
        annotations=mutating(destructive=True, idempotent=False),
    )
    @tool_errors
    async def build(ctx: Context[ServerState, Any]) -> BuildResult:
        run = tools.active(ctx)
        with run.gate.entered():
            _require_build_script(run)
        result = await tools.commanding(
            ctx,
            run,
            "build.sh",
            lambda cancel: run.sandbox().exec(
                ["./build.sh"], timeout_s=_BUILD_TIMEOUT_S, cancel=cancel
            ),
        )
        return _build_result(result, run.full_places())


def _register_run_stage(server: MCPServer[ServerState], tools: ToolContext) -> None:
    @server.tool(
        description="Run your bin/tN exactly as grading does (T0 in the development "
        "environment, T1..T5 minimal; workspace read-only) on a PUBLIC case from cases/ and "
        "score it against the reference, or on your own input_text (no score). Run build first.",
        annotations=mutating(destructive=False, idempotent=True),
    )
    @tool_errors
    async def run_stage(
        ctx: Context[ServerState, Any],
        stage: Annotated[StageName, Field(description="T0..T5")],
        case: Annotated[
            str | None,
            Field(max_length=200, description="a public case name, like those in cases/"),
        ] = None,
        # Typed plain `str` (empty: not given): the SDK parses a string argument that looks
        # like JSON into an object unless its type is exactly `str`, and T3's input is JSON.
        input_text: Annotated[
            str,
            Field(
                max_length=8 << 20, description="your own input for the stage, instead of a case"
            ),
        ] = "",
    ) -> StageRunResult:
        run = tools.active(ctx)
        chosen = Stage(stage)
        if case is not None and chosen is not Stage.T0:
            _require_open(tools, run, chosen)
        ran = await tools.commanding(
            ctx,
            run,
            f"{chosen.value} on {case or 'your input'}",
            lambda _cancel: grader.run_stage(
                run.workspace.root,
                run.backend,
                chosen,
                case,
                input_text if input_text or case is None else None,
                uid=run.uid,
            ),
        )
        return StageRunResult(
            stage=chosen,
            case=case,
            ok=ran.ok,
            score=ran.score,
            diagnosis=ran.diagnosis,
            output_head=ran.output_head,
            output_bytes=ran.output_bytes,
            duration_s=ran.duration_s,
        )


def _require_open(tools: ToolContext, run: RunContext, stage: Stage) -> None:
    """A stage's public inputs (the reference outputs of the stage before) are the agent's
    only once it opens: run_stage on a public case waits for that."""
    states = {s.stage: s.state for s in tools.state.ledger.stage_states(run.run_id)}
    if states.get(stage.value) == "locked":
        raise ToolError(
            f"{stage.value} is locked: its public inputs are revealed when it opens; "
            "until then try it with input_text"
        )


def _register_rv64(server: MCPServer[ServerState], tools: ToolContext) -> None:
    @server.tool(
        description="Assemble and link an RV64 .s file with the SysY runtime "
        "(riscv64-linux-gnu-gcc -static), or take an RV64 executable, and run it on "
        "qemu-riscv64 with the given stdin.",
        annotations=mutating(destructive=False, idempotent=True),
    )
    @tool_errors
    async def run_rv64(
        ctx: Context[ServerState, Any],
        source: WorkspacePath,
        stdin: Annotated[str, Field(max_length=8 << 20, description="standard input")] = "",
    ) -> Rv64Result:
        run = tools.active(ctx)
        with run.gate.entered():
            entry = run.workspace.stat(source)
        rel = _rv64_source(entry)
        return await tools.commanding(
            ctx,
            run,
            f"rv64 {rel.as_posix()}",
            lambda cancel: _run_rv64(run, rel, stdin, cancel),
        )


def _run_rv64(run: RunContext, rel: PurePosixPath, stdin: str, cancel: CancelToken) -> Rv64Result:
    """Link ``rel`` (when it is assembly) in the run's scratch, run it on qemu-riscv64."""
    box = run.sandbox()
    started = time.monotonic()
    program = f"./{rel.as_posix()}"
    if rel.suffix in (".s", ".S"):
        runtime = run.rv64_runtime()
        program = f"/ramp/scratch/prog-{time.monotonic_ns()}"
        linked = box.exec(
            ["riscv64-linux-gnu-gcc", "-static", f"./{rel.as_posix()}", runtime, "-o", program],
            timeout_s=60,
            cancel=cancel,
        )
        if linked.outcome is not Outcome.OK:
            diagnostics, _ = _cut(linked.stderr.strip() or linked.detail, 8000)
            return Rv64Result(
                built=False,
                build_diagnostics=diagnostics,
                outcome=None,
                exit_code=None,
                stdout="",
                stderr="",
                truncated=False,
                duration_s=round(time.monotonic() - started, 3),
            )
    try:
        ran = box.exec(["qemu-riscv64", program], stdin=stdin, timeout_s=60, cancel=cancel)
    finally:
        if program.startswith("/ramp/scratch/"):
            (run.scratch / Path(program).name).unlink(missing_ok=True)
    stdout, cut_out = _cut(ran.stdout)
    stderr, cut_err = _cut(ran.stderr)
    return Rv64Result(
        built=True,
        build_diagnostics="",
        outcome=ran.outcome,
        exit_code=ran.exit_code,
        stdout=stdout,
        stderr=stderr,
        truncated=cut_out or cut_err or ran.stdout_truncated or ran.stderr_truncated,
        duration_s=round(time.monotonic() - started, 3),
    )


def _cut(text: str, limit: int = _MAX_STREAM_CHARS) -> tuple[str, bool]:
    if len(text) <= limit:
        return text, False
    half = limit // 2
    dropped = len(text) - 2 * half
    return f"{text[:half]}\n[ramp: {dropped} characters cut]\n{text[-half:]}", True


def _command_result(result: ExecResult) -> CommandResult:
    stdout, cut_out = _cut(result.stdout)
    stderr, cut_err = _cut(result.stderr)
    return CommandResult(
        outcome=result.outcome,
        exit_code=result.exit_code,
        stdout=stdout,
        stderr=stderr,
        truncated=cut_out or cut_err or result.stdout_truncated or result.stderr_truncated,
        duration_s=round(result.duration_s, 3),
        detail=result.detail,
    )


def _build_result(result: ExecResult, full: list[str]) -> BuildResult:
    """build.sh's reply: ok, its error (then warning) lines and its log's tail; ``full``:
    the capped places that are full, said first."""
    log = result.stdout + ("\n" if result.stdout and result.stderr else "") + result.stderr
    tail = "\n".join(log.splitlines()[-60:])
    diagnostics = _diagnostics(log)
    if result.outcome is not Outcome.OK and not diagnostics:
        diagnostics = [result.detail or f"build.sh ended with {result.outcome.value}"]
    return BuildResult(
        ok=result.outcome is Outcome.OK,
        outcome=result.outcome,
        exit_code=result.exit_code,
        diagnostics=[*full, *diagnostics][:20],
        log_tail=tail,
        duration_s=round(result.duration_s, 3),
        detail="; ".join(filter(None, [result.detail, *full])),
    )


def _diagnostics(log: str) -> list[str]:
    lines = [line.rstrip() for line in log.splitlines() if line.strip()]
    errors = [line for line in lines if _ERROR_LINE.search(line)]
    warnings = [line for line in lines if _WARNING_LINE.search(line) and line not in errors]
    return [line[:300] for line in (errors + warnings)[:20]]


def _rv64_source(entry: TreeEntry) -> PurePosixPath:
    """The workspace path run_rv64 hands to the sandbox: a regular file, plainly named."""
    if entry.kind is not EntryKind.FILE:
        raise ToolError(f"'{entry.path}' is not a file in the workspace (it is a {entry.kind})")
    if "\\" in entry.path:
        raise ToolError(
            f"run_rv64 needs a file name of plain UTF-8 text without backslashes; rename "
            f"'{entry.path}' with move_path first"
        )
    return PurePosixPath(entry.path)


def _require_build_script(run: RunContext) -> None:
    """build.sh must be a regular file in the workspace. Asked of the confined file worker
    (the run's uid, symlinks followed only while they stay inside), never of the host's file
    system as root: a symlink to a host path gets the same answer whether that path exists
    or not."""
    try:
        entry = run.workspace.stat("build.sh")
    except PathOutsideWorkspaceError as exc:
        raise ToolError(f"build.sh cannot be run: {exc}") from exc
    except WorkspaceError as exc:
        raise ToolError(
            f"there is no build.sh at the workspace root ({exc}); write one (see the "
            "workspace contract)"
        ) from exc
    if entry.kind is not EntryKind.FILE:
        raise ToolError(f"build.sh is a {entry.kind}, not a file; make it an executable script")
