"""The RAMP MCP server: a confined workspace, a development sandbox and the grader, as tools."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Literal, TypeVar

import anyio.to_thread
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.settings import AuthSettings
from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from golden import CONTRACTS_DIR, Stage
from golden._builder import RUNTIME_DIR
from grader._machine import RunStatusView, StageRefusedError
from ramp_mcp._gate import GradingInProgressError
from ramp_mcp._models import BuildResult, CommandResult, Rv64Result, StageRunResult, SubmitResult
from ramp_mcp._progress import with_progress
from ramp_mcp._runs import RunContext, ServerSettings, ServerState
from ramp_mcp._stage_try import try_stage
from ramp_mcp._tokens import RunTokenVerifier
from ramp_mcp._usage import UsageMiddleware
from toolchain._errors import PathOutsideWorkspaceError, RampError, WorkspaceError
from toolchain.sandbox import CancelToken, ExecResult, Outcome
from toolchain.workspace import (
    EntryKind,
    FileEdited,
    FileRead,
    FileWritten,
    GlobResult,
    GrepResult,
    PathDeleted,
    PathMoved,
    TreeEntry,
    TreeListing,
)

__all__ = ["TOOL_NAMES", "build_server"]

T = TypeVar("T")

TOOL_NAMES = (
    "list_files",
    "read_file",
    "write_file",
    "edit_file",
    "delete_path",
    "move_path",
    "glob",
    "grep",
    "run_command",
    "build",
    "run_stage",
    "run_rv64",
    "submit_stage",
    "status",
)

INSTRUCTIONS = """\
RAMP: build a compiler for SysY (an int-only C subset) in six dependent stages, T0..T5:
T0 preprocess (SysY -> clang -E text), T1 lex (-> clang -dump-tokens), T2 parse (-> clang
JSON AST), T3 IR generation (-> LLVM IR), T4 optimise (IR -> faster IR), T5 RV64 back end
(IR -> RV64 assembly run on qemu-riscv64).

Workspace contract (ramp://contracts/workspace): an executable build.sh at the workspace
root that, run in the development sandbox, produces bin/t0 .. bin/t5; each is called as
`bin/tN INPUT-FILE OUTPUT-FILE` with the workspace read-only. Only T0 runs with the full
toolchain; T1..T5 run in a minimal environment (C/C++ runtime and python3, no clang/LLVM).

Work with the file tools (list_files, read_file, write_file, edit_file, ...), run commands
and build.sh in your sandbox (run_command, build), test a stage exactly as grading runs it
with run_stage on a public case from cases/, and try RV64 assembly with run_rv64. Stages open
one at a time, in order: submit_stage grades the open stage once on hidden cases (60/100
passes); a failed stage is replaced by reference outputs so you can go on. status shows
where the run stands.

When a stage opens, the reference outputs of the stage before it for the public cases (its
inputs) appear in /ramp/reference/T<k>/: outside your workspace, read-only, at that path in
your sandbox and to the file tools; files over 8 MB are gzip-compressed (NAME.EXT.gz). Your
workspace holds at most 512 MB and 100,000 files and directories (a submission grades all of
it); past that, writes fail with "No space left on device". When the run's time budget is
spent, only reading (files, references, status) still works.
"""

_MAX_STREAM_CHARS = 30_000
_BUILD_TIMEOUT_S = 600
_ERROR_LINE = re.compile(r"\berror\b", re.IGNORECASE)
_WARNING_LINE = re.compile(r"\bwarning\b", re.IGNORECASE)

StageName = Literal["T0", "T1", "T2", "T3", "T4", "T5"]
WorkspacePath = Annotated[
    str,
    Field(
        max_length=4096,
        description="a path relative to the workspace root, '/'-separated, like 'src/main.c'; "
        "in names, a byte that is not UTF-8 is written \\xNN and a backslash \\\\ (as listed)",
    ),
]

_READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)


def _mutating(*, destructive: bool, idempotent: bool) -> ToolAnnotations:
    return ToolAnnotations(
        read_only_hint=False,
        destructive_hint=destructive,
        idempotent_hint=idempotent,
        open_world_hint=False,
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


def _diagnostics(log: str) -> list[str]:
    lines = [line.rstrip() for line in log.splitlines() if line.strip()]
    errors = [line for line in lines if _ERROR_LINE.search(line)]
    warnings = [line for line in lines if _WARNING_LINE.search(line) and line not in errors]
    return [line[:300] for line in (errors + warnings)[:20]]


def _run_of_request(
    settings: ServerSettings,
) -> Callable[[ServerRequestContext[Any, Any]], str | None]:
    def run_of(ctx: ServerRequestContext[Any, Any]) -> str | None:
        if settings.run_id is not None:
            return settings.run_id
        token = get_access_token()
        if token is None:
            scope = getattr(ctx.request, "scope", None)
            user = scope.get("user") if isinstance(scope, dict) else None
            if isinstance(user, AuthenticatedUser):
                token = user.access_token
        return None if token is None else token.client_id

    return run_of


def build_server(
    settings: ServerSettings | None = None, *, http_url: str | None = None
) -> MCPServer[ServerState]:
    """The ``ramp`` server. ``settings.run_id`` serves one run (stdio); with ``http_url`` set
    each request's bearer token names its run (streamable HTTP)."""
    settings = settings or ServerSettings()
    state = ServerState(settings)
    run_of = _run_of_request(settings)

    @asynccontextmanager
    async def lifespan(_server: MCPServer[ServerState]) -> AsyncIterator[ServerState]:
        try:
            yield state
        finally:
            state.close()

    auth: dict[str, Any] = {}
    if http_url is not None:
        auth = {
            "token_verifier": _LazyVerifier(state),
            "auth": AuthSettings(
                issuer_url=http_url,
                resource_server_url=http_url,
                validate_token_resource=False,
            ),
        }
    server: MCPServer[ServerState] = MCPServer(
        "ramp",
        title="RAMP compiler workspace",
        instructions=INSTRUCTIONS,
        lifespan=lifespan,
        middleware=[UsageMiddleware(state, run_of)],
        **auth,
    )

    def current(ctx: Context[ServerState, Any]) -> RunContext:
        run_id = run_of(ctx.request_context)
        if run_id is None:
            raise ToolError(
                "this connection is not bound to a run: start the server with --run RUN, or "
                "connect over HTTP with the run's bearer token (see `ramp mcp-config RUN`)"
            )
        try:
            return state.run(run_id)
        except RampError as exc:
            raise ToolError(str(exc)) from exc

    def guarded(work: Callable[[], T]) -> T:
        try:
            return work()
        except RampError as exc:
            raise ToolError(str(exc)) from exc

    def gated(run: RunContext, work: Callable[[], T]) -> T:
        """``work`` for one of the run's tools but status: refused while one of the run's
        stages is being graded (see ramp_mcp._gate)."""

        def entered() -> T:
            with run.gate.entered():
                return work()

        return guarded(entered)

    def active(ctx: Context[ServerState, Any]) -> RunContext:
        """The run, for a tool that changes the workspace or runs something: refused once
        the run's wall-clock budget is spent."""
        run = current(ctx)
        guarded(lambda: run.require_budget(state.machine))
        return run

    # -- workspace -------------------------------------------------------------------------

    @server.tool(
        description="List files and directories under a workspace path (sizes, kinds), or "
        "under /ramp/reference (the revealed reference outputs, read-only).",
        annotations=_READ_ONLY,
    )
    def list_files(
        ctx: Context[ServerState, Any],
        path: Annotated[
            str, Field(max_length=4096, description="directory relative to the root; '' = root")
        ] = "",
        depth: Annotated[int, Field(ge=1, le=20, description="how many levels to descend")] = 3,
    ) -> TreeListing:
        run = current(ctx)
        return gated(run, lambda: run.files(path).list_tree(path, depth=depth))

    @server.tool(
        description="Read a text file (paged by bytes: use next_offset when truncated). "
        "Binary files come back as a hex preview. /ramp/reference/... reads the revealed "
        "reference outputs.",
        annotations=_READ_ONLY,
    )
    def read_file(
        ctx: Context[ServerState, Any],
        path: WorkspacePath,
        offset: Annotated[int, Field(ge=0, description="byte offset to start at")] = 0,
        limit: Annotated[
            int | None, Field(ge=1, le=256 * 1024, description="most bytes to return")
        ] = None,
    ) -> FileRead:
        run = current(ctx)
        return gated(run, lambda: run.files(path).read(path, offset=offset, limit=limit))

    @server.tool(
        description="Create or replace a file (atomically; parent directories are created). "
        "A new file whose content starts with '#!' is made executable.",
        annotations=_mutating(destructive=True, idempotent=True),
    )
    def write_file(
        ctx: Context[ServerState, Any],
        path: WorkspacePath,
        content: Annotated[str, Field(description="the whole new content, UTF-8 text")],
    ) -> FileWritten:
        run = active(ctx)
        return gated(run, lambda: run.files(path, changing=True).write(path, content))

    @server.tool(
        description="Replace the exact text `old` with `new` in a file: `old` must occur once "
        "unless replace_all is true.",
        annotations=_mutating(destructive=True, idempotent=False),
    )
    def edit_file(
        ctx: Context[ServerState, Any],
        path: WorkspacePath,
        old: Annotated[str, Field(min_length=1, description="exact text to find")],
        new: Annotated[str, Field(description="replacement text")],
        replace_all: Annotated[bool, Field(description="replace every occurrence")] = False,
    ) -> FileEdited:
        run = active(ctx)
        return gated(
            run,
            lambda: run.files(path, changing=True).edit(path, old, new, replace_all=replace_all),
        )

    @server.tool(
        description="Delete a file, or a directory (recursive=true for a non-empty one).",
        annotations=_mutating(destructive=True, idempotent=False),
    )
    def delete_path(
        ctx: Context[ServerState, Any],
        path: WorkspacePath,
        recursive: Annotated[bool, Field(description="delete a directory tree")] = False,
    ) -> PathDeleted:
        run = active(ctx)
        return gated(run, lambda: run.files(path, changing=True).delete(path, recursive=recursive))

    @server.tool(
        description="Move or rename a file or directory inside the workspace.",
        annotations=_mutating(destructive=True, idempotent=False),
    )
    def move_path(
        ctx: Context[ServerState, Any],
        src: WorkspacePath,
        dst: WorkspacePath,
        overwrite: Annotated[bool, Field(description="replace an existing dst")] = False,
    ) -> PathMoved:
        run = active(ctx)

        def move() -> PathMoved:
            run.files(dst, changing=True)
            return run.files(src, changing=True).move(src, dst, overwrite=overwrite)

        return gated(run, move)

    @server.tool(
        description="Find paths matching a glob pattern like 'src/**/*.c' (or "
        "'/ramp/reference/T0/*' for the revealed reference outputs).",
        annotations=_READ_ONLY,
    )
    def glob(
        ctx: Context[ServerState, Any],
        pattern: Annotated[str, Field(min_length=1, max_length=1024, description="glob pattern")],
    ) -> GlobResult:
        run = current(ctx)
        return gated(run, lambda: run.files(pattern).glob(pattern))

    @server.tool(
        description="Search file contents with a regular expression (Python syntax); a path "
        "under /ramp/reference searches the revealed reference outputs.",
        annotations=_READ_ONLY,
    )
    def grep(
        ctx: Context[ServerState, Any],
        pattern: Annotated[str, Field(min_length=1, max_length=1024, description="regex")],
        path: Annotated[
            str, Field(max_length=4096, description="file or directory to search; '' = root")
        ] = "",
        glob: Annotated[
            str | None, Field(max_length=1024, description="only files matching this glob")
        ] = None,
        ignore_case: Annotated[bool, Field(description="case-insensitive match")] = False,
    ) -> GrepResult:
        run = current(ctx)
        return gated(
            run,
            lambda: run.files(path).grep(pattern, path=path, glob=glob, ignore_case=ignore_case),
        )

    # -- sandbox ---------------------------------------------------------------------------

    @server.tool(
        description="Run a shell command (/bin/sh -c) in your development sandbox: the full "
        "toolchain (clang-19, riscv64 gcc, qemu-riscv64, python3, ...), no network, the "
        "workspace writable (512 MB, 100,000 files). The runtime header is at "
        "/ramp/include/sylib.h; revealed reference outputs are in /ramp/reference/ (read-only).",
        annotations=_mutating(destructive=True, idempotent=False),
    )
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
        run = active(ctx)
        limit = min(timeout_s, settings.max_timeout_s)
        result = await _commanding(
            ctx,
            run,
            f"running {command[:60]!r}",
            lambda cancel: run.sandbox().exec(command, cwd=cwd, timeout_s=limit, cancel=cancel),
            settings,
        )
        reply = _command_result(result)
        notes = run.full_places()
        if result.outcome is Outcome.KILLED and run.gate.grading is not None:
            notes.append(f"killed because stage {run.gate.grading} was submitted for grading")
        if notes:
            reply.detail = "; ".join(filter(None, [reply.detail, *notes]))
        return reply

    @server.tool(
        description="Run ./build.sh in your development sandbox, as grading does (10 minutes); "
        "returns ok, the error lines and the log tail.",
        annotations=_mutating(destructive=True, idempotent=False),
    )
    async def build(ctx: Context[ServerState, Any]) -> BuildResult:
        run = active(ctx)
        gated(run, lambda: _require_build_script(run))
        result = await _commanding(
            ctx,
            run,
            "build.sh",
            lambda cancel: run.sandbox().exec(
                ["./build.sh"], timeout_s=_BUILD_TIMEOUT_S, cancel=cancel
            ),
            settings,
        )
        log = result.stdout + ("\n" if result.stdout and result.stderr else "") + result.stderr
        tail = "\n".join(log.splitlines()[-60:])
        diagnostics = _diagnostics(log)
        if result.outcome is not Outcome.OK and not diagnostics:
            diagnostics = [result.detail or f"build.sh ended with {result.outcome.value}"]
        full = run.full_places()
        return BuildResult(
            ok=result.outcome is Outcome.OK,
            outcome=result.outcome,
            exit_code=result.exit_code,
            diagnostics=[*full, *diagnostics][:20],
            log_tail=tail,
            duration_s=round(result.duration_s, 3),
            detail="; ".join(filter(None, [result.detail, *full])),
        )

    @server.tool(
        description="Run your bin/tN exactly as grading does (T0 in the development "
        "environment, T1..T5 minimal; workspace read-only) on a PUBLIC case from cases/ and "
        "score it against the reference, or on your own input_text (no score). Run build first.",
        annotations=_mutating(destructive=False, idempotent=True),
    )
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
        run = active(ctx)
        chosen = Stage(stage)
        if case is not None and chosen is not Stage.T0:
            states = {
                s.stage: s.state for s in guarded(lambda: state.ledger.stage_states(run.run_id))
            }
            if states.get(chosen.value) == "locked":
                raise ToolError(
                    f"{chosen.value} is locked: its public inputs are revealed when it opens; "
                    "until then try it with input_text"
                )
        outcome = await _commanding(
            ctx,
            run,
            f"{chosen.value} on {case or 'your input'}",
            lambda _cancel: try_stage(
                run.workspace.root,
                run.backend,
                chosen,
                case,
                input_text if input_text or case is None else None,
                uid=run.uid,
            ),
            settings,
        )
        return StageRunResult(
            stage=chosen,
            case=case,
            ok=outcome.ok,
            score=outcome.score,
            diagnosis=outcome.diagnosis,
            output_head=outcome.head,
            output_bytes=outcome.size,
            duration_s=outcome.seconds,
        )

    @server.tool(
        description="Assemble and link an RV64 .s file with the SysY runtime "
        "(riscv64-linux-gnu-gcc -static), or take an RV64 executable, and run it on "
        "qemu-riscv64 with the given stdin.",
        annotations=_mutating(destructive=False, idempotent=True),
    )
    async def run_rv64(
        ctx: Context[ServerState, Any],
        source: WorkspacePath,
        stdin: Annotated[str, Field(max_length=8 << 20, description="standard input")] = "",
    ) -> Rv64Result:
        run = active(ctx)
        rel = _rv64_source(gated(run, lambda: run.workspace.stat(source)))

        def work(cancel: CancelToken) -> Rv64Result:
            box = run.sandbox()
            started = time.monotonic()
            program = f"./{rel.as_posix()}"
            if rel.suffix in (".s", ".S"):
                runtime = run.rv64_runtime()
                program = f"/ramp/scratch/prog-{time.monotonic_ns()}"
                linked = box.exec(
                    [
                        "riscv64-linux-gnu-gcc",
                        "-static",
                        f"./{rel.as_posix()}",
                        runtime,
                        "-o",
                        program,
                    ],
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

        return await _commanding(ctx, run, f"rv64 {rel.as_posix()}", work, settings)

    # -- grader ----------------------------------------------------------------------------

    @server.tool(
        description="Submit the open stage for grading on the hidden cases. Each stage is "
        "graded once per attempt, in order T0..T5; 60/100 passes. This takes minutes; "
        "meanwhile your running commands are killed and every tool but status is refused. "
        "Scores are shown as whole numbers (rounded down).",
        annotations=_mutating(destructive=False, idempotent=False),
    )
    async def submit_stage(
        ctx: Context[ServerState, Any],
        stage: Annotated[StageName, Field(description="the open stage, T0..T5")],
    ) -> SubmitResult:
        run = active(ctx)
        chosen = Stage(stage)
        try:
            # Nothing of the run's runs or answers while it is graded (ramp_mcp._gate).
            await anyio.to_thread.run_sync(run.gate.close, chosen)
        except GradingInProgressError as exc:
            raise ToolError(f"refused: {exc}") from exc
        try:
            graded = await _progressing(
                ctx,
                f"grading {chosen.value}",
                lambda: state.machine.submit(run.run_id, chosen),
                settings,
            )
        except StageRefusedError as exc:
            raise ToolError(f"refused: {exc}") from exc
        finally:
            run.reset_sandbox()  # grading killed the run's processes, a container's too
            run.gate.reopen()
        outcome = graded.for_agent()
        notice = None
        reference_dir = outcome.reference_dir
        if reference_dir is not None:
            notice = (
                f"{chosen.value} was resurrected: from now on grading feeds its reference outputs "
                f"to the next stage; the public reference outputs are in {reference_dir}/"
            )
        return SubmitResult(
            stage=outcome.stage,
            attempt=outcome.attempt,
            score=outcome.chained_score,
            isolated_score=outcome.isolated_score,
            passed=outcome.passed,
            resurrected=outcome.resurrected,
            resurrection_notice=notice,
            reference_dir=reference_dir,
            attempts_left=outcome.attempts_left,
            next_open=outcome.next_open,
            feedback=outcome.feedback,
            integrity_findings=outcome.integrity_findings,
        )

    @server.tool(
        description="Where the run stands: each stage's state, attempts and scores, the open "
        "stage and the budget left.",
        annotations=_READ_ONLY,
    )
    def status(ctx: Context[ServerState, Any]) -> RunStatusView:
        run = current(ctx)
        return guarded(lambda: state.machine.status(run.run_id).for_agent())

    _add_resources(server)
    return server


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


async def _commanding(
    ctx: Context[ServerState, Any],
    run: RunContext,
    message: str,
    work: Callable[[CancelToken], T],
    settings: ServerSettings,
) -> T:
    """``work`` on a worker thread holding one of the run's command slots until it really
    ends; given a token that kills its commands. When the call ends first (the client
    cancelled it or went away) the token is cancelled: nothing it started runs on."""
    cancel = CancelToken()

    def held() -> T:
        with run.gate.entered(cancel), run.command_slot(cancel):
            return work(cancel)

    try:
        return await _progressing(ctx, message, held, settings)
    finally:
        cancel.cancel()


async def _progressing(
    ctx: Context[ServerState, Any], message: str, work: Callable[[], T], settings: ServerSettings
) -> T:
    try:
        return await with_progress(ctx, message, work, interval_s=settings.progress_interval_s)
    except StageRefusedError:
        raise
    except RampError as exc:
        raise ToolError(str(exc)) from exc


class _LazyVerifier:
    """The token verifier, made on the first request (the ledger opens lazily)."""

    def __init__(self, state: ServerState) -> None:
        self._state = state
        self._verifier: RunTokenVerifier | None = None

    async def verify_token(self, token: str) -> Any:
        if self._verifier is None:
            self._verifier = RunTokenVerifier(self._state.ledger)
        return await self._verifier.verify_token(token)


def _add_resources(server: MCPServer[ServerState]) -> None:
    @server.resource(
        "ramp://contracts/{stage}",
        name="stage-contract",
        description="The contract of one stage, T0..T5 (markdown).",
        mime_type="text/markdown",
    )
    def stage_contract(stage: str) -> str:
        if stage == "workspace":
            return (CONTRACTS_DIR / "workspace.md").read_text(encoding="utf-8")
        if stage not in {s.value for s in Stage}:
            raise ValueError(f"no contract {stage!r}: use T0..T5 or workspace")
        return (CONTRACTS_DIR / f"{stage}.md").read_text(encoding="utf-8")

    @server.resource(
        "ramp://contracts/workspace",
        name="workspace-contract",
        description="What the workspace must contain and where stage programs run.",
        mime_type="text/markdown",
    )
    def workspace_contract() -> str:
        return (CONTRACTS_DIR / "workspace.md").read_text(encoding="utf-8")

    @server.resource(
        "ramp://language",
        name="sysy-language",
        description="The SysY language reference.",
        mime_type="text/markdown",
    )
    def language() -> str:
        return (CONTRACTS_DIR / "sysy-language.md").read_text(encoding="utf-8")

    @server.resource(
        "ramp://runtime/sylib.h",
        name="sylib.h",
        description="The SysY runtime header (at /ramp/include/sylib.h in the sandboxes).",
        mime_type="text/x-c",
    )
    def sylib_header() -> str:
        return (RUNTIME_DIR / "sylib.h").read_text(encoding="utf-8")

    @server.prompt(name="start", description="Brief an agent on the whole RAMP job.")
    def start() -> str:
        return (
            INSTRUCTIONS + "\nHow to proceed:\n"
            "1. Read ramp://contracts/workspace, then ramp://contracts/T0 .. T5 and "
            "ramp://language (the same texts are in contracts/ in your workspace).\n"
            "2. Write build.sh (executable) so that it produces bin/t0 .. bin/t5; run build.\n"
            "3. Test each stage with run_stage on public cases from cases/ until it scores "
            "well; use run_command for anything else and run_rv64 for RV64 assembly.\n"
            "4. submit_stage the open stage (status tells you which), then move on to the "
            "next; after a stage opens, its inputs for the public cases are in "
            "/ramp/reference/T<k>/ (read-only, outside your workspace).\n"
        )
