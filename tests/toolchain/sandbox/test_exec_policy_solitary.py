"""The judge's run-step policy on real docker and real bwrap: one static program, alone.

A statically linked probe (``solitary_probe.c``) makes one system call per run. Under the
policy the judge gives T3 programs (only the command's own file executable, statically
linked, no code mapping, only its own files writable, solitary) every call that could start
a process, reach another, or replace a file kills it with SIGSYS, the files of other
commands cannot be written or removed, and no code can be mapped; the same calls all work
without the policy (so every assertion can fail), and the honest calls still work with it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import backend_missing, reachable_temp_dir
from toolchain._manifest import Profile
from toolchain.sandbox import (
    ExecLimits,
    ExecPolicy,
    ExecResult,
    Mount,
    Outcome,
    Sandbox,
    SandboxSpec,
    open_sandbox,
)

PROBE = Path(__file__).with_name("solitary_probe.c")
POLICY = ExecPolicy(
    exec_paths=("/workspace",),
    exec_command_only=True,
    static_command=True,
    own_files_only=True,
    solitary=True,
)
SIGSYS_EXIT = 128 + 31
# action, argument: each kills a solitary program, and works without the policy
KILLING = [
    ("fork", ""),
    ("clone", ""),
    ("killother", ""),
    ("chmod", "/tmp/own"),
    ("mkfifo", "/tmp/fifo"),
    ("symlink", "/tmp/link"),
    ("rename", "/tmp/own"),
    ("socket", ""),
    ("fsize", ""),
    ("seccomp", ""),
]


@pytest.fixture(scope="module")
def snapshot() -> Iterator[Path]:
    """The probe, built static and dynamic in a development sandbox (read-only later)."""
    path = reachable_temp_dir("ramp-test-solitary-")
    shutil.copyfile(PROBE, path / PROBE.name)
    build = f"clang-19 -O1 -static {PROBE.name} -o probe && clang-19 -O1 {PROBE.name} -o probe.dyn"
    backend = "bwrap" if not backend_missing("bwrap") else "docker"
    with open_sandbox(path, backend, SandboxSpec(profile=Profile.DEV)) as box:
        built = box.exec(build)
    assert built.outcome is Outcome.OK, built.stderr
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(params=["docker", "bwrap"], scope="module")
def boxes(request: pytest.FixtureRequest, snapshot: Path) -> Iterator[tuple[Sandbox, Path]]:
    """A run sandbox under the policy and its writable output directory (host side)."""
    backend: str = request.param
    if reason := backend_missing(backend, Profile.MINIMAL):
        pytest.skip(f"{backend}: {reason}")
    output = reachable_temp_dir("ramp-test-solitary-out-")
    (output / "other.txt").write_text("another command's output\n")
    try:
        spec = SandboxSpec(
            profile=Profile.MINIMAL,
            workspace_writable=False,
            limits=ExecLimits(timeout_s=30, memory_mb=512),
            mounts=(Mount(source=output, target="/ramp/out", writable=True),),
            exec_policy=POLICY,
        )
        with open_sandbox(snapshot, backend, spec) as box:
            yield box, output
    finally:
        shutil.rmtree(output, ignore_errors=True)


def _probe(box: Sandbox, *args: str, **options: object) -> ExecResult:
    return box.exec(["./probe", *[a for a in args if a]], clear_env=True, **options)  # type: ignore[arg-type]


def test_every_forbidden_call_works_without_the_policy(snapshot: Path) -> None:
    backend = "bwrap" if not backend_missing("bwrap") else "docker"
    with open_sandbox(snapshot, backend, SandboxSpec(profile=Profile.DEV)) as box:
        for action, argument in KILLING:
            ran = box.exec(f"touch /tmp/own && ./probe {action} {argument}".strip())
            assert ran.outcome is Outcome.OK, (action, ran)
            result = int(ran.stdout.split()[-1])
            assert result >= 0, (action, ran.stdout)


@pytest.mark.parametrize(("action", "argument"), KILLING)
def test_forbidden_calls_kill_a_solitary_program(
    boxes: tuple[Sandbox, Path], action: str, argument: str
) -> None:
    box, _ = boxes
    ran = _probe(box, action, argument)
    assert ran.exit_code == SIGSYS_EXIT and ran.stdout == "", (action, ran)


def test_honest_calls_still_work(boxes: tuple[Sandbox, Path]) -> None:
    box, output = boxes
    assert _probe(box, "killself").stdout == "killself 0\n"
    assert _probe(box, "tmpfile", "/tmp/scratch").stdout == "tmpfile 0\n"
    ran = _probe(box, "write", "/ramp/out/mine", create_files=["/ramp/out/mine"])
    assert ran.stdout == "write 7\n", ran
    assert (output / "mine").read_text() == "forged\n"
    (output / "mine").unlink()


def test_only_its_own_files_are_written(boxes: tuple[Sandbox, Path]) -> None:
    """Another command's output can be neither written nor removed nor made anew."""
    box, output = boxes
    assert _probe(box, "write", "/ramp/out/other.txt").stdout == "write -13\n"
    assert _probe(box, "unlink", "/ramp/out/other.txt").stdout == "unlink -13\n"
    assert _probe(box, "write", "/ramp/out/new.txt").stdout == "write -13\n"
    assert (output / "other.txt").read_text() == "another command's output\n"
    assert not (output / "new.txt").exists()


def test_a_static_program_runs_nothing_else_and_maps_no_code(boxes: tuple[Sandbox, Path]) -> None:
    box, _ = boxes
    assert _probe(box, "mapcode", "/usr/bin/python3").stdout == "mapcode -1\n"
    assert _probe(box, "exec", "/usr/bin/python3").stdout == "exec -13\n"
    assert _probe(box, "exec", "/lib64/ld-linux-x86-64.so.2").stdout == "exec -13\n"
    assert _probe(box, "exec", "/workspace/probe.dyn").stdout == "exec -13\n"


def test_dynamic_programs_are_not_started(boxes: tuple[Sandbox, Path]) -> None:
    box, _ = boxes
    ran = box.exec(["./probe.dyn", "killself"])
    assert ran.exit_code == 126 and "dynamically linked" in ran.stderr, ran
    shell = box.exec("echo started")  # not even beneath the allowlist: EACCES at execve
    assert shell.exit_code == 126 and "Permission denied" in shell.stderr, shell


def test_environment_and_redirections_are_the_requests(boxes: tuple[Sandbox, Path]) -> None:
    box, output = boxes
    assert _probe(box, "env", env={"ONLY": "this"}).stdout == "ONLY=this\n"
    ran = _probe(box, "nonsense", stderr_file="/ramp/out/err")
    assert ran.exit_code == 2 and ran.stderr == "", ran
    assert (output / "err").read_text() == "unknown action nonsense\n"
    (output / "err").unlink()


def test_a_file_to_create_must_be_new(boxes: tuple[Sandbox, Path]) -> None:
    """The launcher makes the files it is given (never through a symlink, never one that
    is there already): what the command may write is what the launcher made."""
    box, output = boxes
    ran = _probe(box, "killself", create_files=["/ramp/out/other.txt"])
    assert ran.exit_code == 126 and "File exists" in ran.stderr, ran
    assert (output / "other.txt").read_text() == "another command's output\n"
