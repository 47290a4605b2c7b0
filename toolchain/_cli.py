"""Click groups for `ramp toolchain ...` and `ramp sandbox ...` (mounted by the `ramp` CLI)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from toolchain._apt import install_host_packages
from toolchain._capped import gc_capped_dirs
from toolchain._doctor import run_doctor
from toolchain._errors import EngineUnavailableError, RampError
from toolchain._image import BuildMethod, build_toolchain
from toolchain._manifest import Profile
from toolchain._scratch import gc_scratch_dirs
from toolchain.sandbox import ExecLimits, Outcome, SandboxSpec, gc_containers, open_sandbox
from toolchain.sandbox._cgroup import gc_cgroups

__all__ = ["sandbox_group", "toolchain_group"]

_console = Console(stderr=False)


def _fail(exc: RampError) -> None:
    click.echo(f"error: {exc}", err=True)
    sys.exit(2)


@click.group("toolchain")
def toolchain_group() -> None:
    """The pinned toolchain: check it, install it, build the sandbox images."""


@toolchain_group.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
def doctor_command(as_json: bool) -> None:
    """Every tool with its version, the fingerprint, and the fix for anything missing."""
    try:
        report = run_doctor()
    except RampError as exc:
        _fail(exc)
        return
    if as_json:
        click.echo(json.dumps(report.model_dump(mode="json") | {"ok": report.ok}, indent=2))
    else:
        _console.print(f"toolchain fingerprint [bold]{report.fingerprint[:16]}[/bold]")
        for profile, fingerprint in report.profile_fingerprints.items():
            _console.print(f"  {profile:8} {fingerprint[:16]}")
        tools = Table("tool", "version", "pinned", "status")
        for tool in report.tools:
            if not tool.ok:
                status = f"[red]{'missing' if tool.version is None else 'wrong version'}[/red]: {tool.fix}"
            elif tool.matches_pin:
                status = "[green]ok[/green]"
            else:
                status = f"[yellow]ok, differs from the pin[/yellow] ({tool.path})"
            tools.add_row(tool.command, tool.version or "-", tool.expected, status)
        _console.print(tools)
        packages = Table("package", "where", "rule", "pinned", "installed", "status")
        for package in report.packages:
            rule = f"{package.match}{' scoring' if package.scoring else ''}"
            if not package.ok:
                status = "[red]FAILS[/red]" if package.installed else "[red]missing[/red]"
            elif package.drift:
                status = "[yellow]drift (accepted)[/yellow]"
            else:
                status = "[green]ok[/green]"
            packages.add_row(
                package.name, package.where, rule, package.pinned, package.installed or "-", status
            )
        _console.print(packages)
        for package in report.packages:
            if package.drift or not package.ok:
                verdict = "accepted" if package.ok else "[red]fails the doctor[/red]"
                _console.print(
                    f"[bold]{package.name}[/bold] ({package.where}): pinned {package.pinned}, "
                    f"installed {package.installed or '-'}: {verdict}. {package.meaning or ''}",
                    soft_wrap=True,
                )
                if package.fix:
                    _console.print(f"  what to do: {package.fix}", soft_wrap=True)
        if report.grading_fingerprint:
            _console.print(
                f"grading toolchain fingerprint [bold]{report.grading_fingerprint}[/bold] "
                "(what runs record)"
            )
        sandboxes = Table("sandbox", "detail", "status")
        for check in report.sandboxes:
            sandboxes.add_row(
                check.name,
                check.detail,
                "[green]ok[/green]" if check.ok else f"[red]missing[/red]: {check.fix}",
            )
        _console.print(sandboxes)
        _console.print("[green]all good[/green]" if report.ok else "[red]problems found[/red]")
    sys.exit(0 if report.ok else 1)


@toolchain_group.command("install")
@click.option("--exact", is_flag=True, help="pin every Debian revision (name=version)")
@click.option("--dry-run", is_flag=True, help="print the packages, install nothing")
def install_command(exact: bool, dry_run: bool) -> None:
    """Install the host packages from the manifest with apt-get (needs root)."""
    try:
        report = install_host_packages(exact=exact, dry_run=dry_run)
    except RampError as exc:
        _fail(exc)
        return
    click.echo(" ".join(report.packages) if dry_run else report.output_tail)


@toolchain_group.command("image")
@click.option(
    "--method",
    type=click.Choice([m.value for m in BuildMethod]),
    default=BuildMethod.AUTO.value,
    show_default=True,
    help="dockerfile needs a reachable registry; debootstrap needs only Debian's archive",
)
@click.option(
    "--profile",
    "profiles",
    multiple=True,
    type=click.Choice([Profile.DEV.value, Profile.MINIMAL.value]),
    help="build only these profiles (default: dev and minimal)",
)
@click.option("--no-docker", is_flag=True, help="build the root file systems only (for bwrap)")
@click.option("--force", is_flag=True, help="rebuild even if present")
@click.option("--json", "as_json", is_flag=True)
def image_command(
    method: str, profiles: tuple[str, ...], no_docker: bool, force: bool, as_json: bool
) -> None:
    """Build (or reuse) the sandbox root file systems and Docker images."""
    chosen = tuple(Profile(p) for p in profiles) or (Profile.DEV, Profile.MINIMAL)
    try:
        report = build_toolchain(
            chosen, method=BuildMethod(method), docker=not no_docker, force=force
        )
    except RampError as exc:
        _fail(exc)
        return
    if as_json:
        click.echo(report.model_dump_json(indent=2))
        return
    for rootfs in report.rootfs:
        state = "reused" if rootfs.reused else f"built in {rootfs.build_seconds:.0f} s"
        click.echo(f"root file system {rootfs.profile.value}: {rootfs.path} ({state})")
        for line in rootfs.drift:
            click.echo(f"  drift: {line}")
    for image in report.images:
        click.echo(f"image {image.tag} ({'reused' if image.reused else 'imported'})")
    if report.docker_skipped_reason:
        click.echo(f"docker images skipped: {report.docker_skipped_reason}")


@click.group("sandbox")
def sandbox_group() -> None:
    """Run commands in a sandbox, and clean up after crashes."""


@sandbox_group.command("run", context_settings={"ignore_unknown_options": True})
@click.option("--backend", default="auto", show_default=True, help="auto, docker, bwrap or local")
@click.option(
    "--workspace",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="directory mounted at /workspace",
)
@click.option("--profile", type=click.Choice(["dev", "minimal"]), default="dev", show_default=True)
@click.option("--timeout", "timeout_s", type=float, default=60.0, show_default=True)
@click.option("--memory", "memory_mb", type=int, default=2048, show_default=True, help="MB")
@click.option("--pids", type=int, default=256, show_default=True)
@click.option("--read-only", is_flag=True, help="mount the workspace read-only")
@click.option("--unsafe-local", is_flag=True, help="allow the local backend (NO isolation)")
@click.option("--json", "as_json", is_flag=True)
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def run_command(
    backend: str,
    workspace: Path,
    profile: str,
    timeout_s: float,
    memory_mb: int,
    pids: int,
    read_only: bool,
    unsafe_local: bool,
    as_json: bool,
    command: tuple[str, ...],
) -> None:
    """Run one COMMAND in a sandbox and print the outcome (put `--` before the command)."""
    workspace.mkdir(parents=True, exist_ok=True)
    try:
        limits = ExecLimits(timeout_s=timeout_s, memory_mb=memory_mb, pids=pids)
        spec = SandboxSpec(
            profile=Profile(profile), workspace_writable=not read_only, limits=limits
        )
        stdin = b"" if sys.stdin is None or sys.stdin.isatty() else sys.stdin.buffer.read()
        with open_sandbox(workspace, backend, spec, allow_unsafe=unsafe_local) as sandbox:
            result = sandbox.exec(list(command), stdin=stdin)
    except RampError as exc:
        _fail(exc)
        return
    except ValueError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    if as_json:
        click.echo(result.model_dump_json(indent=2))
    else:
        sys.stdout.write(result.stdout)
        sys.stderr.write(result.stderr)
        click.echo(
            f"[{result.backend}] outcome={result.outcome.value} exit={result.exit_code} "
            f"{result.duration_s:.3f}s {result.detail}".rstrip(),
            err=True,
        )
    sys.exit(0 if result.outcome is Outcome.OK else 1)


@sandbox_group.command("gc")
@click.option("--all", "all_owners", is_flag=True, help="also containers of live RAMP processes")
def gc_command(all_owners: bool) -> None:
    """Remove sandbox containers (and control groups) left behind by crashed processes, and
    the scratch directories of dead graders and run_stage calls (with the capped file
    systems in them), and unmount capped workspaces whose run was deleted (freeing their
    loop devices)."""
    groups = gc_cgroups(all_owners=all_owners)
    click.echo(
        f"removed {len(groups)} control group(s)" + (": " + ", ".join(groups) if groups else "")
    )
    scratch = gc_scratch_dirs()
    click.echo(
        f"removed {len(scratch)} scratch director(ies) of dead graders and run_stage calls"
        + (": " + ", ".join(scratch) if scratch else "")
    )
    mounts = gc_capped_dirs()
    click.echo(
        f"unmounted {len(mounts)} capped workspace(s) of deleted runs"
        + (": " + ", ".join(mounts) if mounts else "")
    )
    try:
        removed = gc_containers(all_owners=all_owners)
    except EngineUnavailableError as exc:
        click.echo(f"no Docker engine, no containers to collect ({exc})")
        return
    except RampError as exc:
        _fail(exc)
        return
    click.echo(
        f"removed {len(removed)} container(s)" + (": " + ", ".join(removed) if removed else "")
    )
