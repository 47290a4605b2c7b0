"""Run INSIDE a sandbox (copied into its workspace): every way a program could run code it
wrote, then the honest ways to run code. Prints one JSON object, attempt -> outcome, where
an outcome starting with "ran" means the attempt worked.

Usage: python3 exec_probe.py OUTPUT_DIR   (a writable directory, e.g. /ramp/output)
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int]
libc.mmap.argtypes += [ctypes.c_long]
libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
libc.syscall.restype = ctypes.c_long
MAP_FAILED = ctypes.c_void_p(-1).value
PROT_RW, PROT_RX, PROT_RWX = 3, 5, 7
MAP_PRIVATE, MAP_ANON = 0x02, 0x22
HERE = Path(__file__).resolve().parent


def errno_text() -> str:
    number = ctypes.get_errno()
    return f"denied: {os.strerror(number)}"


def run(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=20, check=False)
    except OSError as exc:
        return f"denied: {exc.strerror}"
    if done.returncode == 0:
        return "ran: " + done.stdout.strip()
    return f"denied: exit {done.returncode}: {done.stderr.strip()[-200:]}"


def written(directory: str, name: str) -> str:
    """A fresh copy of the workspace file ``name`` written to ``directory``, executable.

    Every attempt gets its own copy: rewriting a library another attempt has loaded would
    crash the probe."""
    target = Path(directory) / f"{len(list(Path(directory).iterdir()))}-{name}"
    shutil.copyfile(HERE / name, target)
    target.chmod(0o755)
    return str(target)


def map_exec(path: str) -> str:
    fd = os.open(path, os.O_RDONLY)
    try:
        address = libc.mmap(None, 4096, PROT_RX, MAP_PRIVATE, fd, 0)
    finally:
        os.close(fd)
    return "ran: mapped" if address != MAP_FAILED else errno_text()


def dlopen(path: str) -> str:
    try:
        library = ctypes.CDLL(path)
    except OSError as exc:
        return f"denied: {exc}"
    return f"ran: {library.answer()}"


def memfd_exec() -> str:
    try:
        fd = os.memfd_create("code", 0)
    except OSError as exc:
        return f"denied: {exc.strerror}"
    os.write(fd, (HERE / "hello").read_bytes())
    return _fexecve(fd)


def _fexecve(fd: int) -> str:
    pid = os.fork()
    if pid == 0:
        try:
            os.dup2(os.open("/dev/null", os.O_WRONLY), 1)
            os.execve(fd, ["hello"], {})  # fexecve
        finally:
            os._exit(99)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    return "ran: fexecve" if code == 0 else f"denied: exit {code}"


def anonymous(prot: int) -> str:
    address = libc.mmap(None, 4096, prot, MAP_ANON, -1, 0)
    return "ran: mapped" if address != MAP_FAILED else errno_text()


def made_executable() -> str:
    address = libc.mmap(None, 4096, PROT_RW, MAP_ANON, -1, 0)
    if address == MAP_FAILED:
        return errno_text()
    ctypes.memset(address, 0xC3, 1)  # ret
    if libc.mprotect(address, 4096, PROT_RX) != 0:
        return errno_text()
    return "ran: " + str(ctypes.CFUNCTYPE(None)(address)())


def proc_mem() -> str:
    try:
        with Path("/proc/self/mem").open("r+b"):
            pass
    except OSError as exc:
        return f"denied: {exc.strerror}"
    return "ran: opened for writing"


def in_child(syscall: int, *args: int) -> str:
    """Make the system call in a forked child: its effect (being traced, a new persona)
    must not change the probe itself."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        result = libc.syscall(syscall, *args)
        os.write(write, (f"{result} {ctypes.get_errno()}").encode())
        os._exit(0)
    os.close(write)
    answer = os.read(read, 100).decode().split()
    os.waitpid(pid, 0)
    if answer and answer[0] != "-1":
        return "ran: allowed"
    return f"denied: {os.strerror(int(answer[1]))}" if answer else "denied: child died"


def ptrace() -> str:
    return in_child(101, 0, 0, 0, 0)  # PTRACE_TRACEME


def read_implies_exec() -> str:
    return in_child(135, 0x0400000)  # personality(READ_IMPLIES_EXEC)


def attempts(out: str) -> dict[str, Callable[[], str]]:
    return {
        "exec_tmp": lambda: run([written("/tmp", "hello")]),
        "exec_output": lambda: run([written(out, "hello")]),
        "loader_tmp": lambda: run(["/lib64/ld-linux-x86-64.so.2", written("/tmp", "hello")]),
        "script_tmp": lambda: run([written("/tmp", "script.sh")]),
        "dlopen_tmp": lambda: dlopen(written("/tmp", "lib.so")),
        "dlopen_output": lambda: dlopen(written(out, "lib.so")),
        "mmap_exec_tmp": lambda: map_exec(written("/tmp", "lib.so")),
        "memfd_exec": memfd_exec,
        "anon_rwx": lambda: anonymous(PROT_RWX),
        "anon_rx": lambda: anonymous(PROT_RX),
        "mprotect_exec": made_executable,
        "proc_self_mem": proc_mem,
        "ptrace": ptrace,
        "read_implies_exec": read_implies_exec,
        # the honest paths
        "snapshot_c": lambda: run([str(HERE / "hello")]),
        "snapshot_cpp": lambda: run([str(HERE / "hellocpp")]),
        "snapshot_script": lambda: run([str(HERE / "script.sh")]),
        "snapshot_library": lambda: dlopen(str(HERE / "lib.so")),
        "python3": lambda: run(["python3", "-c", "print(6 * 7)"]),
        "shell": lambda: run(["sh", "-c", "echo $((6 * 7))"]),
        "anon_rw": lambda: anonymous(PROT_RW),
        "status": lambda: (
            "ran: "
            + " ".join(
                line.replace("\t", "")
                for line in Path("/proc/self/status").read_text().splitlines()
                if line.startswith(("NoNewPrivs", "Seccomp:"))
            )
        ),
    }


def main() -> None:
    results: dict[str, str] = {}
    for name, attempt in attempts(sys.argv[1]).items():
        try:
            results[name] = attempt()
        except OSError as exc:
            results[name] = f"denied: {exc}"
    sys.stdout.write(json.dumps(results))


if __name__ == "__main__":
    main()
