"""The RAMP MCP server: a confined workspace, a development sandbox and the grader, as tools.

``build_server`` makes the server and registers the tools by group (``ramp_mcp._tools*``:
the workspace files, the runs in sandboxes, grading), all with one
:class:`~ramp_mcp._tools.ToolContext`; then the contracts as resources and the ``start``
prompt. Which run a request acts on comes from the server's settings (stdio: one run) or
the request's bearer token (streamable HTTP).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.settings import AuthSettings
from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import MCPServer

from golden import CONTRACTS_DIR, RUNTIME_DIR, Stage
from ramp_mcp._runs import ServerSettings, ServerState
from ramp_mcp._tokens import RunTokenVerifier
from ramp_mcp._tools import ToolContext
from ramp_mcp._tools_grading import register_grading_tools
from ramp_mcp._tools_sandbox import register_sandbox_tools
from ramp_mcp._tools_workspace import register_workspace_tools
from ramp_mcp._usage import UsageMiddleware

__all__ = ["TOOL_NAMES", "build_server"]

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
    server: MCPServer[ServerState] = MCPServer(
        "ramp",
        title="RAMP compiler workspace",
        instructions=INSTRUCTIONS,
        lifespan=_lifespan(state),
        middleware=[UsageMiddleware(state, run_of)],
        **_auth(state, http_url),
    )
    tools = ToolContext(state, run_of)
    register_workspace_tools(server, tools)  # in TOOL_NAMES order: the order tools/list shows
    register_sandbox_tools(server, tools)
    register_grading_tools(server, tools)
    _add_resources(server)
    _add_start_prompt(server)
    return server


def _lifespan(
    state: ServerState,
) -> Callable[[MCPServer[ServerState]], AbstractAsyncContextManager[ServerState]]:
    """The server's lifespan: ``state`` for the tools while it serves, closed after."""

    @asynccontextmanager
    async def lifespan(_server: MCPServer[ServerState]) -> AsyncIterator[ServerState]:
        try:
            yield state
        finally:
            state.close()

    return lifespan


def _auth(state: ServerState, http_url: str | None) -> dict[str, Any]:
    """Over HTTP, every request needs a run's bearer token (checked against the ledger)."""
    if http_url is None:
        return {}
    return {
        "token_verifier": _LazyVerifier(state),
        "auth": AuthSettings(
            issuer_url=http_url,
            resource_server_url=http_url,
            validate_token_resource=False,
        ),
    }


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
    """The texts an agent reads before it starts: the contracts, the language, sylib.h."""

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


def _add_start_prompt(server: MCPServer[ServerState]) -> None:
    """The ``start`` prompt: the instructions and how to proceed (``ramp_mcp.harness``
    hands it to an agent as its task brief)."""

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
