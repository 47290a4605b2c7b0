"""One behavioural suite, run against every isolating backend (real docker, real bwrap).

Each hostile command must be stopped or refused with the right outcome, leave no process
behind, and leave the sandbox usable for the next command.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import backend_missing, processes_with_marker
from toolchain._manifest import Profile
from toolchain.sandbox import (
    TRUNCATION_MARKER,
    ExecLimits,
    Outcome,
    Sandbox,
    SandboxSpec,
    open_sandbox,
)

BACKENDS = ["docker", "bwrap"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    reason = backend_missing(name)
    if reason:
        pytest.skip(f"{name}: {reason}")
    return name


@pytest.fixture
def sandbox(backend: str, workspace: Path) -> Iterator[Sandbox]:
    spec = SandboxSpec(
        profile=Profile.DEV, limits=ExecLimits(timeout_s=30, memory_mb=512, pids=128)
    )
    with open_sandbox(workspace, backend, spec) as box:
        yield box


def assert_usable(box: Sandbox) -> None:
    result = box.exec(["echo", "still here"])
    assert result.outcome is Outcome.OK, result
    assert result.stdout == "still here\n"


def assert_no_survivors(marker: str) -> None:
    deadline = time.monotonic() + 5
    while processes_with_marker(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_with_marker(marker) == []


def test_argv_stdin_env_cwd(sandbox: Sandbox, workspace: Path) -> None:
    (workspace / "sub").mkdir()
    result = sandbox.exec(
        'cat; echo "$GREETING"; pwd; id -u',
        stdin=b"from stdin\n",
        env={"GREETING": "hello"},
        cwd="sub",
    )
    assert result.outcome is Outcome.OK, result
    assert result.stdout == "from stdin\nhello\n/workspace/sub\n1000\n"
    assert result.duration_s > 0


def test_a_cwd_through_descriptor_links_stays_inside(sandbox: Sandbox, workspace: Path) -> None:
    """ "Leaky vessels": a cwd naming a workspace link to /proc/self/fd/N. bwrap changed
    directory while holding a descriptor of the host's root (fd 3), so the command started
    on the host and listed /var/lib/ramp; it now enters the directory itself."""
    marker = f"ramp-leak-{time.monotonic_ns()}"
    host_dir = Path(tempfile.mkdtemp(prefix=marker, dir="/tmp"))
    try:
        for n in range(3, 21):
            (workspace / f"fd{n}").symlink_to(f"/proc/self/fd/{n}")
        for n in range(3, 21):
            result = sandbox.exec(f"pwd; ls -a {'../' * 12}tmp", cwd=f"fd{n}")
            assert marker not in result.stdout, (n, result)
    finally:
        shutil.rmtree(host_dir)


def test_nonzero_exit_is_reported(sandbox: Sandbox) -> None:
    result = sandbox.exec("echo oops >&2; exit 7")
    assert result.outcome is Outcome.NONZERO
    assert result.exit_code == 7
    assert result.stderr == "oops\n"


def test_workspace_is_shared_with_the_host(sandbox: Sandbox, workspace: Path) -> None:
    (workspace / "in.txt").write_text("host wrote this")
    result = sandbox.exec("cat in.txt > out.txt")
    assert result.outcome is Outcome.OK, result
    assert (workspace / "out.txt").read_text() == "host wrote this"


def test_toolchain_is_inside(sandbox: Sandbox) -> None:
    result = sandbox.exec("clang-19 --version && qemu-riscv64 --version && python3 --version")
    assert result.outcome is Outcome.OK, result
    assert "clang version 19.1.7" in result.stdout


def test_tmp_is_writable_and_executable(sandbox: Sandbox) -> None:
    # Stage programs see a read-only workspace; scratch work (and running it) is in /tmp.
    result = sandbox.exec("printf '#!/bin/sh\\necho ran\\n' > /tmp/s && chmod +x /tmp/s && /tmp/s")
    assert result.outcome is Outcome.OK, result
    assert result.stdout == "ran\n"


def test_root_file_system_is_read_only(sandbox: Sandbox) -> None:
    result = sandbox.exec("touch /usr/bin/planted")
    assert result.outcome is Outcome.NONZERO
    assert "Read-only" in result.stderr or "Permission denied" in result.stderr


def test_sleep_forever_times_out_and_dies(sandbox: Sandbox, marker: str) -> None:
    result = sandbox.exec("sleep 100000", env={marker: "1"}, timeout_s=1.5)
    assert result.outcome is Outcome.TIMEOUT
    assert result.duration_s < 10
    assert_no_survivors(marker)
    assert_usable(sandbox)


def test_detached_background_process_does_not_survive(sandbox: Sandbox, marker: str) -> None:
    result = sandbox.exec("setsid sleep 100000 > /dev/null 2>&1 & echo started", env={marker: "1"})
    assert result.outcome is Outcome.OK
    assert_no_survivors(marker)
    assert_usable(sandbox)


def test_fork_bomb_is_contained(sandbox: Sandbox, marker: str) -> None:
    result = sandbox.exec(
        ["bash", "-c", "bomb() { bomb | bomb & }; bomb; sleep 100000"],
        env={marker: "1"},
        limits=ExecLimits(timeout_s=5, pids=64, memory_mb=512),
    )
    assert result.outcome is Outcome.TIMEOUT
    assert_no_survivors(marker)
    assert_usable(sandbox)


def test_eight_gib_allocation_is_out_of_memory(sandbox: Sandbox, marker: str) -> None:
    # Touch the pages: an untouched bytearray would not count against the limit.
    program = "b = bytearray(8 << 30)\nfor i in range(0, len(b), 4096): b[i] = 1"
    result = sandbox.exec(
        ["python3", "-c", program],
        env={marker: "1"},
        limits=ExecLimits(timeout_s=60, memory_mb=256),
    )
    assert result.outcome is Outcome.OUT_OF_MEMORY, result
    assert_no_survivors(marker)
    assert_usable(sandbox)


def test_one_gigabyte_to_stdout_hits_the_output_limit(sandbox: Sandbox, marker: str) -> None:
    result = sandbox.exec(
        "head -c 1000000000 /dev/zero | tr '\\0' x",
        env={marker: "1"},
        limits=ExecLimits(timeout_s=60, output_bytes=64 * 1024),
    )
    assert result.outcome is Outcome.OUTPUT_LIMIT
    assert result.stdout_truncated
    assert result.stdout.startswith("x" * (64 * 1024))
    assert "ramp: output truncated after 65536 bytes" in result.stdout
    assert TRUNCATION_MARKER.split("{")[0] in result.stdout
    assert_no_survivors(marker)
    assert_usable(sandbox)


def test_ten_gigabytes_to_disk_is_stopped(sandbox: Sandbox, workspace: Path) -> None:
    result = sandbox.exec(
        ["dd", "if=/dev/zero", "of=big.bin", "bs=1M", "count=10240"],
        limits=ExecLimits(timeout_s=120, file_size_mb=64),
    )
    assert result.outcome in {Outcome.KILLED, Outcome.NONZERO}, result
    if result.outcome is Outcome.KILLED:
        assert result.signal == "SIGXFSZ"
    assert (workspace / "big.bin").stat().st_size <= 64 << 20
    assert_usable(sandbox)


def _connect_program(host: str, port: int) -> list[str]:
    code = (
        "import socket, sys\n"
        f"try:\n    socket.create_connection(({host!r}, {port}), timeout=3)\n"
        "except OSError as e:\n    print('refused', e); sys.exit(3)\n"
        "print('connected')"
    )
    return ["python3", "-c", code]


def test_no_network_to_the_host_loopback(sandbox: Sandbox) -> None:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    accepted: list[socket.socket] = []
    server.settimeout(8)
    thread = threading.Thread(target=lambda: _accept(server, accepted), daemon=True)
    thread.start()
    try:
        result = sandbox.exec(_connect_program("127.0.0.1", port), timeout_s=20)
    finally:
        server.close()
    assert result.outcome is Outcome.NONZERO, result
    assert result.stdout.startswith("refused")
    assert accepted == []
    assert_usable(sandbox)


def _accept(server: socket.socket, accepted: list[socket.socket]) -> None:
    try:
        connection, _ = server.accept()
        accepted.append(connection)
    except OSError:
        pass


def test_no_network_to_the_outside(sandbox: Sandbox) -> None:
    result = sandbox.exec(_connect_program("1.1.1.1", 53), timeout_s=20)
    assert result.outcome is Outcome.NONZERO, result
    assert result.stdout.startswith("refused")
    assert_usable(sandbox)


def test_rv64_compile_and_run_on_qemu(sandbox: Sandbox, workspace: Path) -> None:
    (workspace / "hello.c").write_text(
        '#include <stdio.h>\nint main(void){int s=0;for(int i=1;i<=10;i++)s+=i;printf("%d\\n",s);return s%7;}\n'
    )
    result = sandbox.exec(
        "clang-19 --target=riscv64-unknown-linux-gnu -march=rv64gc -mabi=lp64d -O2 "
        "-fno-addrsig -S hello.c -o hello.s && riscv64-linux-gnu-gcc -static hello.s -o hello "
        "&& qemu-riscv64 ./hello"
    )
    assert result.outcome is Outcome.NONZERO, result
    assert result.exit_code == 55 % 7
    assert result.stdout == "55\n"


def test_concurrent_commands_in_one_sandbox(sandbox: Sandbox) -> None:
    # Regression: descriptors of one command must never be closed by another's clean-up.
    from concurrent.futures import ThreadPoolExecutor

    def run(index: int) -> tuple[int, str]:
        result = sandbox.exec(f"cat; echo {index}", stdin=f"in{index}\n")
        return index, result.stdout if result.outcome is Outcome.OK else repr(result)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(run, range(24)))
    assert results == [(i, f"in{i}\n{i}\n") for i in range(24)]


def test_concurrent_commands_share_the_sandbox_limits(sandbox: Sandbox, marker: str) -> None:
    """Six commands starting 40 processes each hold no more than the sandbox's 128 together,
    as a container's commands do (bwrap: every command's group is inside the sandbox's)."""
    peak = [0]
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], len(processes_with_marker(marker)))
            time.sleep(0.05)

    def run(_index: int) -> Outcome:
        script = "for i in $(seq 40); do sleep 3 & done; wait"
        return sandbox.exec(script, env={marker: "1"}, timeout_s=20).outcome

    from concurrent.futures import ThreadPoolExecutor

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with ThreadPoolExecutor(max_workers=6) as pool:
            outcomes = list(pool.map(run, range(6)))
    finally:
        done.set()
        watcher.join()
    assert 40 <= peak[0] <= 128, (peak[0], outcomes)
    assert_no_survivors(marker)
    assert_usable(sandbox)


def test_cancelling_kills_the_command(sandbox: Sandbox, marker: str) -> None:
    from toolchain.sandbox import CancelToken, CommandCancelledError

    cancel = CancelToken()
    results = []
    started = time.monotonic()
    runner = threading.Thread(
        target=lambda: results.append(
            sandbox.exec("sleep 1000 & sleep 1000", env={marker: "1"}, cancel=cancel)
        )
    )
    runner.start()
    time.sleep(1.5)
    assert processes_with_marker(marker)
    cancel.cancel()
    runner.join(timeout=20)
    assert results and results[0].outcome is Outcome.KILLED, results
    assert "cancelled" in results[0].detail
    assert time.monotonic() - started < 15
    assert_no_survivors(marker)
    with pytest.raises(CommandCancelledError):
        sandbox.exec(["true"], cancel=cancel)
    assert_usable(sandbox)


def test_extra_mounts_are_read_only_under_ramp(
    backend: str, workspace: Path, tmp_path: Path
) -> None:
    from toolchain.sandbox import Mount

    shared = Path(tempfile.mkdtemp(prefix="ramp-test-mount-", dir="/tmp"))
    shared.chmod(0o755)
    (shared / "data.txt").write_text("mounted")
    (shared / "data.txt").chmod(0o644)
    spec = SandboxSpec(mounts=(Mount(source=shared, target="/ramp/case"),))
    try:
        with open_sandbox(workspace, backend, spec) as box:
            read = box.exec("cat /ramp/case/data.txt")
            write = box.exec("echo x > /ramp/case/new.txt")
    finally:
        shutil.rmtree(shared, ignore_errors=True)
    assert read.outcome is Outcome.OK and read.stdout == "mounted"
    assert write.outcome is Outcome.NONZERO


def test_minimal_profile_has_no_clang(backend: str, workspace: Path) -> None:
    reason = backend_missing(backend, Profile.MINIMAL)
    if reason:
        pytest.skip(reason)
    spec = SandboxSpec(profile=Profile.MINIMAL, workspace_writable=False)
    (workspace / "prog.py").write_text("print(sum(range(5)))\n")
    with open_sandbox(workspace, backend, spec) as box:
        ran = box.exec(["python3", "prog.py"])
        assert ran.outcome is Outcome.OK and ran.stdout == "10\n"
        probe = box.exec(
            "ls /usr/bin | grep -E '^(clang|llc|opt|lld|ld.lld)' ; ls /usr/lib | grep -i llvm; "
            "touch /workspace/x"
        )
        assert probe.stdout == ""
        assert probe.outcome is Outcome.NONZERO  # read-only workspace


def test_closed_sandbox_refuses(backend: str, workspace: Path) -> None:
    from toolchain._errors import SandboxClosedError

    box = open_sandbox(workspace, backend)
    box.close()
    box.close()
    with pytest.raises(SandboxClosedError):
        box.exec(["true"])
