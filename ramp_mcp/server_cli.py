"""`ramp-mcp`: serve one run over stdio, or every run over streamable HTTP."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import traceback

import click

from grader.ledger import Ledger, LedgerError, RunNotFoundError
from ramp_mcp._runs import ServerSettings
from ramp_mcp._server import build_server

__all__ = ["main"]


@click.command()
@click.version_option(package_name="ramp")
@click.option("--run", "run_id", default=None, help="serve this run over stdio")
@click.option("--http", "use_http", is_flag=True, help="serve every run over streamable HTTP")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True)
@click.option(
    "--ledger",
    "ledger_url",
    envvar="RAMP_LEDGER_URL",
    help="SQLAlchemy URL (default: SQLite in RAMP_HOME)",
)
@click.option(
    "--max-timeout-s",
    type=click.FloatRange(min=1),
    default=600,
    show_default=True,
    help="cap on run_command timeouts",
)
def main(
    run_id: str | None,
    use_http: bool,
    host: str,
    port: int,
    ledger_url: str | None,
    max_timeout_s: float,
) -> None:
    """Serve a RAMP run's workspace to an agent over MCP (stdio or streamable HTTP).

    `ramp-mcp --run RUN` serves one run over stdio. `ramp-mcp --http` serves every run over
    HTTP at http://HOST:PORT/mcp; each request names its run with the run's bearer token
    (`ramp mcp-config RUN` prints it).
    """
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="ramp-mcp: %(message)s")
    if use_http == (run_id is not None):
        raise click.UsageError("give exactly one of --run RUN (stdio) or --http")
    try:
        with Ledger.open(ledger_url) as ledger:
            if run_id is not None:
                ledger.get_run(run_id)
    except RunNotFoundError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except LedgerError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(3)
    settings = ServerSettings(ledger_url=ledger_url, run_id=run_id, max_timeout_s=max_timeout_s)
    code = 1
    try:
        if run_id is not None:
            build_server(settings).run()
        else:
            server = build_server(settings, http_url=f"http://{host}:{port}/mcp")
            server.run(transport="streamable-http", host=host, port=port)
        code = 0
    finally:
        _exit_now(code)


def _exit_now(code: int) -> None:
    """End the process once the server has stopped: its client gone (EOF or a broken pipe),
    or a signal.

    A tool call cancelled by the shutdown leaves its work in a worker thread (a build, a
    command): waiting for that thread at interpreter exit would keep the server, and the
    sandboxed command, alive until the command ends. Ending the process here ends them:
    bwrap dies with its parent (--die-with-parent), and its pid namespace with it.
    """
    failure = sys.exc_info()[1]
    if failure is not None:
        traceback.print_exception(failure)
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)
