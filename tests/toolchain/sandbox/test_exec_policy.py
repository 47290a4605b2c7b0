"""The exec policy, on real docker and real bwrap: a program cannot run code it wrote.

One probe (``exec_probe.py``) tries every route (execve of a written file, the ELF loader
on it, dlopen and mmap(PROT_EXEC) of a written library, memfd_create + fexecve, anonymous
or writable executable memory, /proc/self/mem, ptrace, READ_IMPLIES_EXEC) and the honest
paths (binaries, a library, a script, python3 and sh from the read-only snapshot). It runs
three times per backend: under the stage programs' policy, under the emulators' policy
(no W^X), and in an unrestricted sandbox, where every attack must work (so each
assertion below can fail).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import backend_missing, reachable_temp_dir
from toolchain._errors import SandboxError
from toolchain._image import SANDBOX_GID, SANDBOX_UID
from toolchain._manifest import Profile
from toolchain.sandbox import (
    ExecLimits,
    ExecPolicy,
    ExecRequest,
    Mount,
    Outcome,
    SandboxSpec,
    open_sandbox,
)
from toolchain.sandbox._launcher import EXIT_REFUSED, seccomp_program
from toolchain.sandbox._policy import launcher_source, policy_argv

BACKENDS = ["docker", "bwrap"]
PROBE = Path(__file__).with_name("exec_probe.py")
ATTACKS = [
    "exec_tmp",
    "exec_output",
    "loader_tmp",
    "script_tmp",
    "dlopen_tmp",
    "dlopen_output",
    "mmap_exec_tmp",
    "memfd_exec",
    "anon_rwx",
    "anon_rx",
    "mprotect_exec",
    "proc_self_mem",
    "ptrace",
    "read_implies_exec",
]
# Denied for every policy, with or without W^X.
WRITTEN_CODE = "exec_tmp exec_output loader_tmp script_tmp dlopen_tmp dlopen_output"
WRITTEN_CODE += " mmap_exec_tmp memfd_exec proc_self_mem"
HONEST = [
    "snapshot_c",
    "snapshot_cpp",
    "snapshot_script",
    "snapshot_library",
    "python3",
    "shell",
    "anon_rw",
]
SOURCES = {
    "hello.c": '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n',
    "hello.cpp": '#include <iostream>\nint main() { std::cout << "hello++" << std::endl; }\n',
    "lib.c": "int answer(void) { return 42; }\n",
    "script.sh": "#!/bin/sh\necho script\n",
}
BUILD = "clang-19 -O1 hello.c -o hello && clang++-19 -O1 hello.cpp -o hellocpp && "
BUILD += "clang-19 -O1 -shared -fPIC lib.c -o lib.so && chmod 755 script.sh"


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    reason = backend_missing(name) or backend_missing(name, Profile.MINIMAL)
    if reason:
        pytest.skip(f"{name}: {reason}")
    return name


@pytest.fixture(scope="module")
def snapshot() -> Iterator[Path]:
    """A read-only-to-be workspace with compiled programs, built in a development sandbox."""
    path = reachable_temp_dir("ramp-test-execpol-")
    for name, text in SOURCES.items():
        (path / name).write_text(text)
    shutil.copyfile(PROBE, path / PROBE.name)
    spec = SandboxSpec(profile=Profile.DEV, limits=ExecLimits(timeout_s=120))
    with open_sandbox(path, "bwrap" if not backend_missing("bwrap") else "docker", spec) as box:
        built = box.exec(BUILD)
    assert built.outcome is Outcome.OK, built.stderr
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _probe(snapshot: Path, backend: str, policy: ExecPolicy | None) -> dict[str, str]:
    output = reachable_temp_dir("ramp-test-execpol-out-")
    try:
        spec = SandboxSpec(
            profile=Profile.MINIMAL if policy is not None else Profile.DEV,
            workspace_writable=False,
            limits=ExecLimits(timeout_s=60, memory_mb=512),
            mounts=(Mount(source=output, target="/ramp/output", writable=True),),
            exec_policy=policy,
        )
        with open_sandbox(snapshot, backend, spec) as box:
            ran = box.exec(["python3", PROBE.name, "/ramp/output"])
        assert ran.outcome is Outcome.OK, (ran.stdout, ran.stderr)
        results: dict[str, str] = json.loads(ran.stdout)
        return results
    finally:
        shutil.rmtree(output, ignore_errors=True)


_CACHE: dict[tuple[str, str], dict[str, str]] = {}


@pytest.fixture
def probed(snapshot: Path, backend: str) -> dict[str, dict[str, str]]:
    """The probe's results per policy: 'stage' (W^X), 'emulator' (no W^X), 'none'."""
    policies = {
        "stage": ExecPolicy(),
        "emulator": ExecPolicy(deny_exec_memory=False),
        "none": None,
    }
    for name, policy in policies.items():
        if (backend, name) not in _CACHE:
            _CACHE[(backend, name)] = _probe(snapshot, backend, policy)
    return {name: _CACHE[(backend, name)] for name in policies}


def _worked(results: dict[str, str], names: list[str] | str) -> dict[str, str]:
    wanted = names.split() if isinstance(names, str) else names
    return {n: results[n] for n in wanted if results[n].startswith("ran")}


def test_every_attack_works_without_a_policy(
    probed: dict[str, dict[str, str]], backend: str
) -> None:
    results = probed["none"]
    # Docker's default seccomp profile already refuses the READ_IMPLIES_EXEC persona.
    expected = [n for n in ATTACKS if not (backend == "docker" and n == "read_implies_exec")]
    assert _worked(results, expected) == {n: results[n] for n in expected}, results
    assert "NoNewPrivs:1" in results["status"]


def test_written_code_never_runs(probed: dict[str, dict[str, str]]) -> None:
    for policy in ("stage", "emulator"):
        assert _worked(probed[policy], WRITTEN_CODE) == {}, (policy, probed[policy])
    stage = probed["stage"]
    assert "Permission denied" in stage["exec_tmp"]  # Landlock: not on the exec allowlist
    assert "Permission denied" in stage["exec_output"]
    assert "failed to map segment" in stage["dlopen_tmp"]  # the noexec mount
    assert "Operation not permitted" in stage["mmap_exec_tmp"]
    assert "Operation not permitted" in stage["memfd_exec"]  # seccomp


def test_stage_programs_get_no_executable_memory(probed: dict[str, dict[str, str]]) -> None:
    stage = probed["stage"]
    exec_memory = "anon_rwx anon_rx mprotect_exec ptrace read_implies_exec"
    assert _worked(stage, exec_memory) == {}, stage
    assert all("Operation not permitted" in stage[n] for n in exec_memory.split()), stage
    # Emulators translate code at run time: they keep anonymous executable memory.
    emulator = probed["emulator"]
    jit = "anon_rwx anon_rx mprotect_exec"
    assert set(_worked(emulator, jit)) == set(jit.split()), emulator


def test_honest_programs_still_run(probed: dict[str, dict[str, str]]) -> None:
    for policy in ("stage", "emulator", "none"):
        results = probed[policy]
        assert _worked(results, HONEST) == {n: results[n] for n in HONEST}, (policy, results)
        assert results["snapshot_c"] == "ran: hello"
        assert results["snapshot_cpp"] == "ran: hello++"
        assert results["snapshot_library"] == "ran: 42"
        assert results["python3"] == results["shell"] == "ran: 42"
    assert "NoNewPrivs:1" in probed["stage"]["status"]
    assert "Seccomp:2" in probed["stage"]["status"]


_KERNEL_STATE = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
def errno_of(number, *args):
    ctypes.set_errno(0)
    result = libc.syscall(number, *args)
    return "ok" if result >= 0 else os.strerror(ctypes.get_errno())
print("add_key", errno_of(248, b"user", b"ramp-probe", b"x", 1, ctypes.c_long(-2)))
print("keyctl", errno_of(250, 0, ctypes.c_long(-2), 0))
print("unshare", errno_of(272, 0x10000000))
print("mount", errno_of(165, b"none", b"/tmp", b"tmpfs", 0, None))
"""


def test_no_keys_namespaces_or_mounts_under_a_policy(backend: str, workspace: Path) -> None:
    """Keyrings (global serials: a key added to another uid's world-writable keyring is read
    later), new namespaces and mounts (a cgroup hierarchy rooted at the host's) are refused
    to every command under a policy; without one the same calls get further."""
    policy = SandboxSpec(
        profile=Profile.MINIMAL, workspace_writable=False, exec_policy=ExecPolicy()
    )
    with open_sandbox(workspace, backend, policy) as box:
        ran = box.exec(["python3", "-c", _KERNEL_STATE])
    assert ran.outcome is Outcome.OK, ran
    assert ran.stdout.split("\n")[:4] == [
        f"{name} Operation not permitted" for name in ("add_key", "keyctl", "unshare", "mount")
    ], ran.stdout
    if backend == "bwrap":  # docker's own seccomp profile refuses keys without a policy too
        with open_sandbox(workspace, backend, SandboxSpec(profile=Profile.MINIMAL)) as box:
            free = box.exec(["python3", "-c", _KERNEL_STATE])
        assert "add_key ok" in free.stdout, free


def test_launcher_refuses_what_it_cannot_enforce(backend: str, workspace: Path) -> None:
    """A writable place that is not noexec stops the launch: the policy is never weaker."""
    spec = SandboxSpec(profile=Profile.MINIMAL, exec_policy=ExecPolicy(exec_paths=("/usr",)))
    with open_sandbox(workspace, backend, spec) as box:
        argv = ["python3", "-I", "-S", "-c", launcher_source(), "--noexec=/usr", "--", "true"]
        ran = box.exec(argv)
    assert ran.exit_code == EXIT_REFUSED
    assert "/usr is writable but not mounted noexec" in ran.stderr


def test_redirections_need_a_policy(workspace: Path) -> None:
    request = ExecRequest(argv=("cat",), stdin_file="/dev/null")
    with pytest.raises(SandboxError, match="exec_policy"):
        policy_argv(SandboxSpec(), request, remount=False)


def test_policy_allows_only_read_only_places() -> None:
    with pytest.raises(ValueError, match="where commands can write"):
        SandboxSpec(exec_policy=ExecPolicy(exec_paths=("/usr", "/tmp/bin")))
    with pytest.raises(ValueError, match="where commands can write"):
        SandboxSpec(workspace_writable=True, exec_policy=ExecPolicy())
    output = Mount(source=Path("/srv"), target="/ramp/output", writable=True)
    with pytest.raises(ValueError, match="where commands can write"):
        SandboxSpec(
            workspace_writable=False,
            mounts=(output,),
            exec_policy=ExecPolicy(exec_paths=("/ramp/output/x",)),
        )


def test_seccomp_program_checks_the_architecture_first() -> None:
    for deny in (True, False):
        program = seccomp_program(deny_exec_memory=deny)
        assert program[0] == (0x20, 0, 0, 4)  # load seccomp_data.arch
        assert program[1][0] == 0x15 and program[1][3] == 0xC000003E  # jeq AUDIT_ARCH_X86_64
        assert program[program[1][2] + 2] == (0x06, 0, 0, 0x80000000)  # else kill the process
        assert all(0 <= jt <= 255 and 0 <= jf <= 255 for _, jt, jf, _ in program)


def test_no_new_privileges_is_set_on_the_host_side_too() -> None:
    """The launcher sets it itself; Landlock and seccomp need it without CAP_SYS_ADMIN."""
    source = launcher_source()
    assert "_PR_SET_NO_NEW_PRIVS" in source


def test_overhead_per_command(snapshot: Path, backend: str) -> None:
    """What the launcher costs a command (reported; bounded loosely: the machine is shared)."""
    timings: dict[str, float] = {}
    for name, policy in (("plain", None), ("policy", ExecPolicy())):
        spec = SandboxSpec(profile=Profile.MINIMAL, workspace_writable=False, exec_policy=policy)
        with open_sandbox(snapshot, backend, spec) as box:
            box.exec(["true"])
            samples = []
            for _ in range(15):
                started = time.perf_counter()
                assert box.exec(["./hello"]).stdout == "hello\n"
                samples.append(time.perf_counter() - started)
        timings[name] = statistics.median(samples)
    added = timings["policy"] - timings["plain"]
    sys.stderr.write(f"\n{backend}: median {timings} -> the policy adds {added * 1000:.1f} ms\n")
    assert added < 1.0, timings


def test_docker_binds_a_noexec_view_and_leaves_the_directory_alone(workspace: Path) -> None:
    """docker binds writable directories from noexec views, removed at close; the host
    directory itself is untouched (a grader renames outputs out of it meanwhile)."""
    if backend_missing("docker", Profile.MINIMAL):
        pytest.skip("docker: minimal image not available")
    from toolchain.sandbox._noexec import is_noexec, views_root

    output = reachable_temp_dir("ramp-test-execpol-out-")
    aside = reachable_temp_dir("ramp-test-execpol-aside-")
    try:
        os.chown(output, SANDBOX_UID, SANDBOX_GID)
        spec = SandboxSpec(
            profile=Profile.MINIMAL,
            workspace_writable=False,
            mounts=(Mount(source=output, target="/ramp/output", writable=True),),
            exec_policy=ExecPolicy(),
        )
        before = set(views_root().iterdir()) if views_root().is_dir() else set()
        with open_sandbox(workspace, "docker", spec) as box:
            mine = f"{os.getpid()}-"
            views = {v for v in set(views_root().iterdir()) - before if v.name.startswith(mine)}
            assert len(views) == 1 and is_noexec(next(iter(views)))
            ran = box.exec("cp /bin/true /ramp/output/t && /ramp/output/t")
            assert ran.exit_code == 126 and "Permission denied" in ran.stderr, ran
            assert not is_noexec(output)
            (output / "t").rename(aside / "t")  # same mount: no EXDEV
        assert (aside / "t").is_file()
        assert not (views & set(views_root().iterdir()))
        mounted = subprocess.run(["findmnt", "-rno", "TARGET"], capture_output=True, text=True)
        assert not any(str(view) in mounted.stdout for view in views)
    finally:
        shutil.rmtree(output, ignore_errors=True)
        shutil.rmtree(aside, ignore_errors=True)


def test_views_of_a_dead_owner_are_collected() -> None:
    """A process that died holding a noexec view (killed mid-grading) leaves a mount; the
    next sandbox that makes views unmounts it."""
    if os.geteuid() != 0:
        pytest.skip("only root makes noexec views")
    from toolchain.sandbox._noexec import gc_noexec_views, views_root

    source = reachable_temp_dir("ramp-test-execpol-src-")
    try:
        code = (
            "import os, sys; from pathlib import Path; "
            "from toolchain.sandbox._noexec import NoexecViews; "
            f"print(NoexecViews([Path({str(source)!r})]).acquire()[Path({str(source)!r})]); "
            "sys.stdout.flush(); os._exit(0)"
        )
        made = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        view = Path(made.stdout.strip())
        assert view.parent == views_root() and view.is_dir()
        assert (
            str(view)
            in subprocess.run(["findmnt", "-rno", "TARGET"], capture_output=True, text=True).stdout
        )
        assert view in gc_noexec_views()
        assert not view.exists()
    finally:
        shutil.rmtree(source, ignore_errors=True)
