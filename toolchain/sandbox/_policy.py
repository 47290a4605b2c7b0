"""Starting commands under an exec policy: the launcher's argv, for both backends.

The launcher (``_launcher.py``) runs inside the sandbox as the command's last step before
``execve``; this module only tells it, as options, what the spec allows. The backends
differ in one point: bwrap cannot mount anything ``noexec`` itself, so its launcher does
it in a nested namespace (``remount_noexec``); docker mounts ``/tmp`` noexec and binds
host directories that are already noexec (``_noexec.py``), and its launcher only checks.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from toolchain._errors import SandboxError
from toolchain.sandbox._models import ExecRequest, SandboxSpec

__all__ = ["LAUNCHER_PYTHON", "launcher_source", "policy_argv"]

LAUNCHER_PYTHON = "/usr/bin/python3"


@cache
def launcher_source() -> str:
    """The launcher's text; passed with ``-c``, so no file has to be placed in the sandbox."""
    return Path(__file__).with_name("_launcher.py").read_text(encoding="utf-8")


def _needs_launcher(request: ExecRequest) -> bool:
    files = (request.stdin_file, request.stdout_file, request.stderr_file)
    return any(f is not None for f in files) or bool(request.create_files) or request.clear_env


def policy_argv(spec: SandboxSpec, request: ExecRequest, *, remount: bool) -> tuple[str, ...]:
    """The argv that runs ``request`` under ``spec``'s exec policy (or as it is, without one)."""
    policy = spec.exec_policy
    if policy is None:
        if _needs_launcher(request):
            raise SandboxError(
                "stdin_file/stdout_file/stderr_file, create_files and clear_env work through "
                "the exec-policy launcher; give the sandbox an exec_policy, or redirect in a "
                "shell command"
            )
        return request.command()
    keep_exec = ["/tmp"] if policy.exec_tmp else []
    writable = list(spec.writable_paths())
    if remount:
        noexec = [p for p in writable if p not in keep_exec]
    else:
        # docker: /dev is the engine's, root-owned; the one place there a command can write
        # is /dev/shm, which the engine mounts noexec.
        noexec = [p for p in writable if p not in keep_exec and p != "/dev"] + ["/dev/shm"]
    options = [f"--exec={p}" for p in policy.exec_paths]
    options += [f"--write={p}" for p in writable]
    options += [f"--noexec={p}" for p in noexec]
    options += [f"--keep-exec={p}" for p in keep_exec]
    options += [f"--no-exec-from={p}" for p in policy.no_exec_from]
    flags = {
        "remount-noexec": remount,
        "deny-exec-memory": policy.deny_exec_memory,
        "exec-command-only": policy.exec_command_only,
        "static-command": policy.static_command,
        "own-files-only": policy.own_files_only,
        "solitary": policy.solitary,
        "clear-env": request.clear_env,
    }
    options += [f"--{flag}" for flag, wanted in flags.items() if wanted]
    for name in ("stdin", "stdout", "stderr"):
        path = getattr(request, f"{name}_file")
        if path is not None:
            options.append(f"--{name}={path}")
    options += [f"--create={p}" for p in request.create_files]
    if request.clear_env:
        options += [f"--setenv={k}={v}" for k, v in request.env.items()]
    return (
        LAUNCHER_PYTHON,
        "-I",
        "-S",
        "-c",
        launcher_source(),
        *options,
        "--",
        *request.command(),
    )
