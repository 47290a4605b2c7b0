"""The workspace tools: list, read, write, edit, delete, move, glob and grep files.

Each goes through the run's confined file worker (``RunContext.files``): the workspace,
or read-only ``/ramp/reference``. Each holds the run's grading gate open while it works,
so none runs while a stage is graded; those that change something need budget left.
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from ramp_mcp._runs import ServerState
from ramp_mcp._tools import READ_ONLY, ToolContext, WorkspacePath, mutating, tool_errors
from toolchain.workspace import (
    FileEdited,
    FileRead,
    FileWritten,
    GlobResult,
    GrepResult,
    PathDeleted,
    PathMoved,
    TreeListing,
)

__all__ = ["register_workspace_tools"]


def register_workspace_tools(server: MCPServer[ServerState], tools: ToolContext) -> None:
    """list_files, read_file, write_file, edit_file, delete_path, move_path, glob, grep, in
    the order the agent is shown them."""
    _register_reading(server, tools)
    _register_writing(server, tools)
    _register_rearranging(server, tools)
    _register_searching(server, tools)


def _register_reading(server: MCPServer[ServerState], tools: ToolContext) -> None:
    @server.tool(
        description="List files and directories under a workspace path (sizes, kinds), or "
        "under /ramp/reference (the revealed reference outputs, read-only).",
        annotations=READ_ONLY,
    )
    @tool_errors
    def list_files(
        ctx: Context[ServerState, Any],
        path: Annotated[
            str, Field(max_length=4096, description="directory relative to the root; '' = root")
        ] = "",
        depth: Annotated[int, Field(ge=1, le=20, description="how many levels to descend")] = 3,
    ) -> TreeListing:
        run = tools.current(ctx)
        with run.gate.entered():
            return run.files(path).list_tree(path, depth=depth)

    @server.tool(
        description="Read a text file (paged by bytes: use next_offset when truncated). "
        "Binary files come back as a hex preview. /ramp/reference/... reads the revealed "
        "reference outputs.",
        annotations=READ_ONLY,
    )
    @tool_errors
    def read_file(
        ctx: Context[ServerState, Any],
        path: WorkspacePath,
        offset: Annotated[int, Field(ge=0, description="byte offset to start at")] = 0,
        limit: Annotated[
            int | None, Field(ge=1, le=256 * 1024, description="most bytes to return")
        ] = None,
    ) -> FileRead:
        run = tools.current(ctx)
        with run.gate.entered():
            return run.files(path).read(path, offset=offset, limit=limit)


def _register_writing(server: MCPServer[ServerState], tools: ToolContext) -> None:
    @server.tool(
        description="Create or replace a file (atomically; parent directories are created). "
        "A new file whose content starts with '#!' is made executable.",
        annotations=mutating(destructive=True, idempotent=True),
    )
    @tool_errors
    def write_file(
        ctx: Context[ServerState, Any],
        path: WorkspacePath,
        content: Annotated[str, Field(description="the whole new content, UTF-8 text")],
    ) -> FileWritten:
        run = tools.active(ctx)
        with run.gate.entered():
            return run.files(path, changing=True).write(path, content)

    @server.tool(
        description="Replace the exact text `old` with `new` in a file: `old` must occur once "
        "unless replace_all is true.",
        annotations=mutating(destructive=True, idempotent=False),
    )
    @tool_errors
    def edit_file(
        ctx: Context[ServerState, Any],
        path: WorkspacePath,
        old: Annotated[str, Field(min_length=1, description="exact text to find")],
        new: Annotated[str, Field(description="replacement text")],
        replace_all: Annotated[bool, Field(description="replace every occurrence")] = False,
    ) -> FileEdited:
        run = tools.active(ctx)
        with run.gate.entered():
            return run.files(path, changing=True).edit(path, old, new, replace_all=replace_all)


def _register_rearranging(server: MCPServer[ServerState], tools: ToolContext) -> None:
    @server.tool(
        description="Delete a file, or a directory (recursive=true for a non-empty one).",
        annotations=mutating(destructive=True, idempotent=False),
    )
    @tool_errors
    def delete_path(
        ctx: Context[ServerState, Any],
        path: WorkspacePath,
        recursive: Annotated[bool, Field(description="delete a directory tree")] = False,
    ) -> PathDeleted:
        run = tools.active(ctx)
        with run.gate.entered():
            return run.files(path, changing=True).delete(path, recursive=recursive)

    @server.tool(
        description="Move or rename a file or directory inside the workspace.",
        annotations=mutating(destructive=True, idempotent=False),
    )
    @tool_errors
    def move_path(
        ctx: Context[ServerState, Any],
        src: WorkspacePath,
        dst: WorkspacePath,
        overwrite: Annotated[bool, Field(description="replace an existing dst")] = False,
    ) -> PathMoved:
        run = tools.active(ctx)
        with run.gate.entered():
            run.files(dst, changing=True)
            return run.files(src, changing=True).move(src, dst, overwrite=overwrite)


def _register_searching(server: MCPServer[ServerState], tools: ToolContext) -> None:
    @server.tool(
        description="Find paths matching a glob pattern like 'src/**/*.c' (or "
        "'/ramp/reference/T0/*' for the revealed reference outputs).",
        annotations=READ_ONLY,
    )
    @tool_errors
    def glob(
        ctx: Context[ServerState, Any],
        pattern: Annotated[str, Field(min_length=1, max_length=1024, description="glob pattern")],
    ) -> GlobResult:
        run = tools.current(ctx)
        with run.gate.entered():
            return run.files(pattern).glob(pattern)

    @server.tool(
        description="Search file contents with a regular expression (Python syntax); a path "
        "under /ramp/reference searches the revealed reference outputs.",
        annotations=READ_ONLY,
    )
    @tool_errors
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
        run = tools.current(ctx)
        with run.gate.entered():
            return run.files(path).grep(pattern, path=path, glob=glob, ignore_case=ignore_case)
