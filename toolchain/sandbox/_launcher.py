"""The exec-policy launcher: runs INSIDE a sandbox, locks the process down, then execs the command.

A sandbox whose spec carries an :class:`~toolchain.sandbox.ExecPolicy` starts every
command as ``python3 -I -S -c <this file's source> <options> -- <command...>``. This file
therefore uses the standard library only and must run on the Python 3 of both images.
Before ``execve`` of the command it, in order:

1. (bwrap) enters a nested user and mount namespace, maps its own uid and gid, and
   remounts every read-write mount ``noexec`` (bwrap has no noexec option; docker gets
   ``noexec`` from its tmpfs option and from host binds that already carry it);
2. checks that every place the command may write is on a ``noexec`` mount, so no file it
   writes can be mapped executable (``dlopen``, ``mmap(PROT_EXEC)``, the ELF loader);
3. makes the files it was asked to create and opens the redirections it was given (the
   command then needs no shell), and checks the command is statically linked if asked;
4. restricts itself with Landlock: files may be executed only beneath the allowlist (or
   only the command's own file), and written only beneath the writable places (so not
   ``/proc/self/mem``), or only /tmp and the created files, with no file made, removed,
   linked or renamed anywhere but a regular one in /tmp;
5. installs a seccomp filter: no ``memfd_create``, no foreign-ABI system calls and, unless
   the command is an emulator that compiles code at run time, no executable memory that is
   anonymous or writable (for a static program: no executable mapping at all), no
   ``mprotect(PROT_EXEC)``, no ``ptrace``, no ``READ_IMPLIES_EXEC`` personality; no
   ``execve`` made from the code of the given fixed-address executables (valgrind's tool
   makes its guest's system calls, so a measured program can start nothing); and, for a
   solitary command, death by SIGSYS for every call that would start a process or thread,
   reach another process, or change files, mounts or the restrictions themselves.

Every restriction is inherited by everything the command starts. Anything that cannot be
put in place stops the launch (exit status 126) with a message on stderr: the policy is
never silently weaker.
"""

from __future__ import annotations

import ctypes
import errno
import os
import struct
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["EXIT_REFUSED", "SOLITARY_KILLED", "code_ranges", "main", "seccomp_program"]

EXIT_REFUSED = 126
_PREFIX = "ramp-exec-policy"

# -- Linux constants (x86_64) -----------------------------------------------------------------
_SYS = {
    "ptrace": 101,
    "mmap": 9,
    "mprotect": 10,
    "shmat": 30,
    "personality": 135,
    "remap_file_pages": 216,
    "process_vm_writev": 311,
    "memfd_create": 319,
    "pkey_mprotect": 329,
    "memfd_secret": 447,
    "execve": 59,
    "execveat": 322,
    "landlock_create_ruleset": 444,
    "landlock_add_rule": 445,
    "landlock_restrict_self": 446,
    # checked for a solitary command
    "kill": 62,
    "tkill": 200,
    "tgkill": 234,
    "prctl": 157,
    "setrlimit": 160,
    "prlimit64": 302,
    "fcntl": 72,
    # refused to a solitary command (it dies of SIGSYS)
    "fork": 57,
    "vfork": 58,
    "clone": 56,
    "clone3": 435,
    "process_vm_readv": 310,
    "kcmp": 312,
    "pidfd_open": 434,
    "pidfd_send_signal": 424,
    "pidfd_getfd": 438,
    "rt_sigqueueinfo": 129,
    "rt_tgsigqueueinfo": 297,
    "socket": 41,
    "socketpair": 53,
    "io_setup": 206,
    "io_uring_setup": 425,
    "io_uring_enter": 426,
    "io_uring_register": 427,
    "seccomp": 317,
    "chmod": 90,
    "fchmod": 91,
    "fchmodat": 268,
    "fchmodat2": 452,
    "chown": 92,
    "fchown": 93,
    "lchown": 94,
    "fchownat": 260,
    "mknod": 133,
    "mknodat": 259,
    "link": 86,
    "linkat": 265,
    "symlink": 88,
    "symlinkat": 266,
    "rename": 82,
    "renameat": 264,
    "renameat2": 316,
    "mkdir": 83,
    "mkdirat": 258,
    "rmdir": 84,
    "add_key": 248,
    "request_key": 249,
    "keyctl": 250,
    "unshare": 272,
    "setns": 308,
    "mount": 165,
    "umount2": 166,
    "pivot_root": 155,
    "chroot": 161,
    "open_tree": 428,
    "move_mount": 429,
    "fsopen": 430,
    "fsconfig": 431,
    "fsmount": 432,
    "fspick": 433,
    "mount_setattr": 442,
    "userfaultfd": 323,
    "perf_event_open": 298,
    "bpf": 321,
}
# What a solitary command may never call (it dies of SIGSYS). unlink stays: valgrind removes
# its own files in /tmp, and Landlock keeps every other file from being removed.
_KILLED = """fork vfork clone clone3 ptrace process_vm_readv process_vm_writev kcmp pidfd_open
    pidfd_send_signal pidfd_getfd rt_sigqueueinfo rt_tgsigqueueinfo socket socketpair io_setup
    io_uring_setup io_uring_enter io_uring_register seccomp landlock_create_ruleset
    landlock_add_rule landlock_restrict_self chmod fchmod fchmodat fchmodat2 chown fchown lchown
    fchownat mknod mknodat link linkat symlink symlinkat rename renameat renameat2 mkdir mkdirat
    rmdir unshare setns mount umount2 pivot_root chroot open_tree move_mount fsopen fsconfig
    fsmount fspick mount_setattr userfaultfd perf_event_open bpf"""
SOLITARY_KILLED = tuple(_KILLED.split())
# What no command under a policy may call (refused): new namespaces and mounts. Inside a
# user namespace of its own a program could mount a cgroup hierarchy rooted at the host's
# (other runs' counters), proc or an overlay; the launcher's own remount is done by then.
_NO_MOUNTS = [
    "unshare",
    "setns",
    "mount",
    "umount2",
    "pivot_root",
    "open_tree",
    "move_mount",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
]
# Nor the kernel's keyrings: key serial numbers are global, so a program could add keys to
# a keyring another uid (the agent's own sandbox) made writable to all, and be read later.
_NO_KEYS = ["add_key", "request_key", "keyctl"]
_AUDIT_ARCH_X86_64 = 0xC000003E
_X32_SYSCALL_BIT = 0x40000000
_PROT_WRITE, _PROT_EXEC = 0x2, 0x4
_MAP_ANONYMOUS = 0x20
_SHM_EXEC = 0o100000
_READ_IMPLIES_EXEC = 0x0400000
_PERSONALITY_QUERY = 0xFFFFFFFF
_EPERM = 1
_RLIMIT_FSIZE = 1
_F_SETLEASE = 1024

_SECCOMP_RET_KILL_PROCESS = 0x80000000
_SECCOMP_RET_ERRNO = 0x00050000
_SECCOMP_RET_ALLOW = 0x7FFF0000
_BPF_LD_W_ABS = 0x20
_BPF_JEQ_K = 0x15
_BPF_JGE_K = 0x35
_BPF_JSET_K = 0x45
_BPF_RET_K = 0x06
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2

_LANDLOCK_CREATE_RULESET_VERSION = 1
_LANDLOCK_RULE_PATH_BENEATH = 1
_ACCESS_EXECUTE = 1 << 0
_ACCESS_WRITE_FILE = 1 << 1
_ACCESS_REMOVE_FILE = 1 << 5
_ACCESS_MAKE_REG = 1 << 8
_ACCESS_MAKE_AND_REMOVE = sum(1 << bit for bit in range(4, 13))  # REMOVE_DIR .. MAKE_SYM
_ACCESS_REFER = 1 << 13  # Landlock ABI 2
_FILE_ACCESS = _ACCESS_EXECUTE | _ACCESS_WRITE_FILE | (1 << 2) | (1 << 14) | (1 << 15)
_PT_INTERP, _PT_GNU_STACK, _PF_X = 3, 0x6474E551, 1
_EM_X86_64 = 62

_CLONE_NEWNS = 0x00020000
_CLONE_NEWUSER = 0x10000000
_MS = {
    "ro": 0x1,
    "nosuid": 0x2,
    "nodev": 0x4,
    "noexec": 0x8,
    "nosymfollow": 0x100,
    "noatime": 0x400,
    "nodiratime": 0x800,
    "relatime": 0x200000,
    "strictatime": 0x1000000,
}
_MS_REMOUNT = 0x20
_MS_BIND = 0x1000

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_libc.prctl.argtypes = [ctypes.c_int, *[ctypes.c_ulong] * 4]
_libc.mount.argtypes = [
    ctypes.c_char_p,
    ctypes.c_char_p,
    ctypes.c_char_p,
    ctypes.c_ulong,
    ctypes.c_void_p,
]


class _Refused(Exception):
    """A restriction the policy asks for could not be put in place.

    Not a RampError: this file runs alone inside the sandbox and cannot import RAMP; the
    host sees the refusal as exit status 126 and the message on stderr.
    """


def _check(result: int, what: str) -> int:
    if result < 0:
        number = ctypes.get_errno()
        raise _Refused(f"{what} failed: {os.strerror(number)} (errno {number})")
    return result


# -- seccomp ------------------------------------------------------------------------------------

Instruction = tuple[int, int, int, int]
# Before assembly a jump target is a label (str) or None for "the next instruction".
_Symbolic = tuple[int, str | None, str | None, int] | str


def _ld(offset: int) -> _Symbolic:
    return (_BPF_LD_W_ABS, None, None, offset)


def _arg(index: int) -> _Symbolic:
    """Load the low 32 bits of system call argument ``index`` (seccomp_data.args, LE).

    Every argument checked here is an int in the kernel (prot, flags, shmflg, persona),
    or has its flag bits in the low word, so the high word cannot hide a flag.
    """
    return _ld(16 + 8 * index)


def _if(code: int, k: int, true: str | None, false: str | None = None) -> _Symbolic:
    return (code, true, false, k)


def _ret(value: int) -> _Symbolic:
    return (_BPF_RET_K, None, None, value)


def seccomp_program(
    *,
    deny_exec_memory: bool,
    no_exec_from: Sequence[tuple[int, int]] = (),
    static: bool = False,
    solitary_pid: int | None = None,
) -> list[Instruction]:
    """The classic-BPF filter as (code, jt, jf, k) instructions; see the module docstring.

    The architecture is checked first (anything but x86_64 is killed: a 32-bit call would
    carry other numbers), then x32 numbers are refused, then each watched call either is
    refused outright or jumps to a short check of its arguments. ``no_exec_from`` holds
    code address ranges (below 4 GiB) from which execve/execveat are refused; ``static``
    refuses every executable mapping (with ``deny_exec_memory``); ``solitary_pid`` (the
    command's pid, kept across execve) kills the process for the calls in
    ``SOLITARY_KILLED`` and for signals or limits aimed at any other process.
    """
    denied = ["memfd_create", "memfd_secret", *_NO_MOUNTS, *_NO_KEYS]
    watched: list[tuple[tuple[str, ...], str, list[_Symbolic]]] = []
    if deny_exec_memory:
        denied += ["ptrace", "process_vm_writev", "remap_file_pages"]
        watched += _exec_memory_checks(static=static)
    if no_exec_from:
        watched.append((("execve", "execveat"), "execve", _caller_outside(no_exec_from)))
    killed: list[str] = []
    if solitary_pid is not None:
        watched += _solitary_checks(solitary_pid)
        killed = [name for name in SOLITARY_KILLED if name not in denied]
    items: list[_Symbolic] = [
        _ld(4),
        _if(_BPF_JEQ_K, _AUDIT_ARCH_X86_64, None, "kill"),
        _ld(0),
        _if(_BPF_JGE_K, _X32_SYSCALL_BIT, "deny"),
        *(_if(_BPF_JEQ_K, _SYS[name], "deny") for name in denied),
        *(_if(_BPF_JEQ_K, _SYS[n], f"check:{label}") for names, label, _ in watched for n in names),
        *(_if(_BPF_JEQ_K, _SYS[name], "kill") for name in killed),
        _ret(_SECCOMP_RET_ALLOW),
    ]
    for _, label, body in watched:
        items += [f"check:{label}", *body]
    items += [
        "allow",
        _ret(_SECCOMP_RET_ALLOW),
        "deny",
        _ret(_SECCOMP_RET_ERRNO | _EPERM),
        "kill",
        _ret(_SECCOMP_RET_KILL_PROCESS),
    ]
    return _assemble(items)


def _exec_memory_checks(*, static: bool) -> list[tuple[tuple[str, ...], str, list[_Symbolic]]]:
    """W^X: no memory that is executable and writable or anonymous (``static``: no
    executable mapping at all), no way to turn memory executable later."""
    exec_prot = [_arg(2), _if(_BPF_JSET_K, _PROT_EXEC, "deny", "allow")]
    # executable and (writable or anonymous): memory that code could be written to
    mmap = [
        _arg(2),
        _if(_BPF_JSET_K, _PROT_EXEC, None, "allow"),
        _if(_BPF_JSET_K, _PROT_WRITE, "deny"),
        _arg(3),
        _if(_BPF_JSET_K, _MAP_ANONYMOUS, "deny", "allow"),
    ]
    return [
        (("mmap",), "mmap", exec_prot if static else mmap),
        (("mprotect", "pkey_mprotect"), "mprotect", exec_prot),
        (("shmat",), "shmat", [_arg(2), _if(_BPF_JSET_K, _SHM_EXEC, "deny", "allow")]),
        (
            ("personality",),
            "personality",
            [
                _arg(0),
                _if(_BPF_JEQ_K, _PERSONALITY_QUERY, "allow"),
                _if(_BPF_JSET_K, _READ_IMPLIES_EXEC, "deny", "allow"),
            ],
        ),
    ]


def _solitary_checks(pid: int) -> list[tuple[tuple[str, ...], str, list[_Symbolic]]]:
    """Signals only to itself; no new seccomp filter; no lower file-size limit (a dump cut
    short), on no other process's limits; no file lease (which would stall an open)."""
    prlimit = [
        _arg(0),
        _if(_BPF_JEQ_K, 0, "prlimit:own"),
        _if(_BPF_JEQ_K, pid, None, "kill"),
        "prlimit:own",
        _arg(1),
        _if(_BPF_JEQ_K, _RLIMIT_FSIZE, None, "allow"),
        _arg(2),  # the new limit: a pointer, both words must be 0 (a query)
        _if(_BPF_JEQ_K, 0, None, "kill"),
        _ld(16 + 8 * 2 + 4),
        _if(_BPF_JEQ_K, 0, "allow", "kill"),
    ]
    return [
        (("kill", "tkill", "tgkill"), "signal", [_arg(0), _if(_BPF_JEQ_K, pid, "allow", "kill")]),
        (("prctl",), "prctl", [_arg(0), _if(_BPF_JEQ_K, _PR_SET_SECCOMP, "kill", "allow")]),
        (("setrlimit",), "setrlimit", [_arg(0), _if(_BPF_JEQ_K, _RLIMIT_FSIZE, "kill", "allow")]),
        (("prlimit64",), "prlimit64", prlimit),
        (("fcntl",), "fcntl", [_arg(1), _if(_BPF_JEQ_K, _F_SETLEASE, "kill", "allow")]),
    ]


def _caller_outside(ranges: Sequence[tuple[int, int]]) -> list[_Symbolic]:
    """Allow the call unless the instruction pointer lies in one of ``ranges``."""
    body: list[_Symbolic] = [
        _ld(12),  # seccomp_data.instruction_pointer, high word
        _if(_BPF_JEQ_K, 0, None, "allow"),
        _ld(8),  # low word
    ]
    for index, (low, high) in enumerate(ranges):
        after = f"range{index + 1}"
        body += [
            _if(_BPF_JGE_K, low, None, after),
            _if(_BPF_JGE_K, high, after, "deny"),
            after,
        ]
    return [*body, _ret(_SECCOMP_RET_ALLOW)]


# (p_type, p_flags, p_vaddr, p_memsz) of one program header
_Segment = tuple[int, int, int, int]


def _program_headers(path: str) -> tuple[int, int, list[_Segment]]:
    """(e_type, e_machine, segments) of a 64-bit little-endian ELF file."""
    with open(path, "rb") as handle:  # noqa: PTH123 - pathlib would slow every start-up
        header = handle.read(64)
        if len(header) < 64 or header[:5] != b"\x7fELF\x02" or header[5] != 1:
            raise _Refused(f"{path} is not a 64-bit little-endian ELF file")
        e_type, e_machine = struct.unpack_from("<HH", header, 16)
        phoff = struct.unpack_from("<Q", header, 32)[0]
        phentsize, phnum = struct.unpack_from("<HH", header, 54)
        handle.seek(phoff)
        table = handle.read(phentsize * phnum)
    if phentsize < 56 or len(table) < phentsize * phnum:
        raise _Refused(f"{path} has a truncated program header table")
    segments = []
    for index in range(phnum):
        p_type, p_flags, _, vaddr, _, _, memsz = struct.unpack_from(
            "<IIQQQQQ", table, index * phentsize
        )
        segments.append((p_type, p_flags, vaddr, memsz))
    return e_type, e_machine, segments


def code_ranges(path: str) -> list[tuple[int, int]]:
    """The executable segments of a fixed-address ELF executable (valgrind's tools).

    Only an ET_EXEC file is accepted: its code is where the headers say, whatever ASLR does.
    """
    e_type, _, segments = _program_headers(path)
    if e_type != 2:
        raise _Refused(f"{path} is position-independent; its code has no fixed address")
    ranges = []
    for p_type, p_flags, vaddr, memsz in segments:
        if p_type == 1 and p_flags & _PF_X:  # PT_LOAD
            if vaddr + memsz >= 1 << 32:
                raise _Refused(f"{path} has code above 4 GiB, which this filter cannot hold")
            ranges.append((vaddr, vaddr + memsz))
    if not ranges:
        raise _Refused(f"{path} has no executable segment")
    return ranges


def _require_static(path: str) -> None:
    """A statically linked x86-64 executable whose stack is not executable.

    The kernel maps such a program whole at execve; it then needs no executable mapping of
    its own, so the seccomp filter can refuse them all (no ELF loader, the system's or one
    the program carries, can map code).
    """
    e_type, e_machine, segments = _program_headers(path)
    if e_type not in (2, 3) or e_machine != _EM_X86_64:
        raise _Refused(f"{path} is not an x86-64 executable")
    for p_type, p_flags, _, _ in segments:
        if p_type == _PT_INTERP:
            raise _Refused(
                f"{path} is dynamically linked (it names an ELF interpreter); this policy runs "
                "only statically linked programs: link it with -static"
            )
        if p_type == _PT_GNU_STACK and p_flags & _PF_X:
            raise _Refused(f"{path} asks for an executable stack, which this policy refuses")


def _assemble(items: Sequence[_Symbolic]) -> list[Instruction]:
    """Resolve labels into the relative jump offsets classic BPF takes (0..255)."""
    labels: dict[str, int] = {}
    count = 0
    for item in items:
        if isinstance(item, str):
            labels[item] = count
        else:
            count += 1
    program: list[Instruction] = []
    for item in items:
        if isinstance(item, str):
            continue
        code, true, false, k = item
        at = len(program)

        def offset(label: str | None, at: int = at) -> int:
            if label is None:
                return 0
            distance = labels[label] - at - 1
            if not 0 <= distance <= 255:
                raise _Refused(f"seccomp jump to {label} out of range ({distance})")
            return distance

        program.append((code, offset(true), offset(false), k))
    return program


def _install_seccomp(program: Sequence[Instruction]) -> None:
    packed = b"".join(struct.pack("=HBBI", *instruction) for instruction in program)
    buffer = ctypes.create_string_buffer(packed, len(packed))
    fprog = struct.pack("=HxxxxxxQ", len(program), ctypes.addressof(buffer))
    holder = ctypes.create_string_buffer(fprog, len(fprog))
    _check(_libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")
    _check(
        _libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.addressof(holder), 0, 0),
        "installing the seccomp filter",
    )


# -- Landlock -----------------------------------------------------------------------------------


def _landlock(exec_paths: Sequence[str], write_paths: Sequence[str], *, sealed: bool) -> None:
    """Execute only beneath ``exec_paths``; write only beneath ``write_paths``; ``sealed``:
    make, remove, link or rename nothing but regular files in /tmp."""
    abi = _libc.syscall(_SYS["landlock_create_ruleset"], None, 0, _LANDLOCK_CREATE_RULESET_VERSION)
    if abi < 1:
        raise _Refused(
            "this kernel has no Landlock (needs Linux 5.13+ with landlock in the lsm= list)"
        )
    handled = _ACCESS_EXECUTE | _ACCESS_WRITE_FILE
    if sealed:
        # ABI 1 refuses every rename and link across directories by itself
        handled |= _ACCESS_MAKE_AND_REMOVE | (_ACCESS_REFER if abi >= 2 else 0)
    attr = ctypes.create_string_buffer(struct.pack("=Q", handled), 8)
    ruleset = _check(
        _libc.syscall(_SYS["landlock_create_ruleset"], attr, 8, 0), "landlock_create_ruleset"
    )
    try:
        rights: dict[str, int] = {}
        for path in exec_paths:
            rights[path] = rights.get(path, 0) | _ACCESS_EXECUTE
        for path in write_paths:
            rights[path] = rights.get(path, 0) | _ACCESS_WRITE_FILE
        if sealed:
            rights["/tmp"] = rights.get("/tmp", 0) | _ACCESS_MAKE_REG | _ACCESS_REMOVE_FILE
        for path, access in rights.items():
            _allow_beneath(ruleset, path, access)
        _check(_libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")
        _check(_libc.syscall(_SYS["landlock_restrict_self"], ruleset, 0), "landlock_restrict_self")
    finally:
        os.close(ruleset)


def _allow_beneath(ruleset: int, path: str, access: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except FileNotFoundError:
        return  # nothing there to allow (an optional system directory)
    try:
        if not os.path.isdir(path):  # noqa: PTH112 - pathlib would slow every start-up
            access &= _FILE_ACCESS
        rule = ctypes.create_string_buffer(struct.pack("=Qi", access, fd), 12)
        _check(
            _libc.syscall(_SYS["landlock_add_rule"], ruleset, _LANDLOCK_RULE_PATH_BENEATH, rule, 0),
            f"allowing {path} in the Landlock ruleset",
        )
    finally:
        os.close(fd)


# -- mounts -------------------------------------------------------------------------------------


def _unescape(field: str) -> str:
    """mountinfo escapes space, tab, newline and backslash as \\ooo."""
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and field[i + 1 : i + 4].isdigit() and i + 4 <= len(field):
            out.append(chr(int(field[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def _writable_mounts() -> list[tuple[str, int]]:
    """(mount point, its per-mount flags) of every read-write mount, outermost first."""
    found: list[tuple[str, int]] = []
    with open("/proc/self/mountinfo", encoding="utf-8") as handle:  # noqa: PTH123 - see _write
        for line in handle:
            fields = line.split()
            target, options = _unescape(fields[4]), fields[5].split(",")
            if "rw" not in options:
                continue
            flags = 0
            for option in options:
                flags |= _MS.get(option, 0)
            found.append((target, flags))
    return found


def _write(path: str, text: str) -> None:
    """Plain open(): importing pathlib would add milliseconds to every command's start."""
    with open(path, "w", encoding="ascii") as handle:  # noqa: PTH123
        handle.write(text)


def _private_noexec_namespace(keep_exec: Sequence[str]) -> None:
    """A nested user+mount namespace in which every read-write mount is noexec.

    Mount points in ``keep_exec`` are left as they are (valgrind maps its client from /tmp).

    The uid and gid stay what they were; the capabilities the new namespace grants are lost
    at the command's execve (its uid is not 0 there), and Landlock forbids any later mount
    change, so the command can neither clear the flag nor unmount to uncover anything.
    """
    uid, gid = os.getuid(), os.getgid()
    _check(_libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNS), "unshare(CLONE_NEWUSER|CLONE_NEWNS)")
    for name, text in (
        ("setgroups", "deny"),
        ("uid_map", f"{uid} {uid} 1"),
        ("gid_map", f"{gid} {gid} 1"),
    ):
        _write(f"/proc/self/{name}", text)
    for target, flags in _writable_mounts():
        if flags & _MS["noexec"] or target in keep_exec:
            continue
        result = _libc.mount(
            None, target.encode(), None, _MS_REMOUNT | _MS_BIND | flags | _MS["noexec"], None
        )
        if result < 0 and ctypes.get_errno() != errno.ENOENT:  # ENOENT: hidden by another
            _check(result, f"remounting {target} noexec")


def _require_noexec(paths: Sequence[str]) -> None:
    for path in paths:
        try:
            flags = os.statvfs(path).f_flag
        except FileNotFoundError:
            continue
        if not flags & os.ST_NOEXEC:
            raise _Refused(
                f"{path} is writable but not mounted noexec, so a file written there could be "
                "mapped executable; the sandbox must mount it noexec"
            )


# -- launch -------------------------------------------------------------------------------------


_FLAGS = (
    "remount-noexec",
    "deny-exec-memory",
    "exec-command-only",
    "static-command",
    "own-files-only",
    "solitary",
    "clear-env",
)


class Policy:
    """The restrictions to apply, parsed from the launcher's options (see :func:`parse`)."""

    def __init__(self) -> None:
        names = ("exec", "write", "noexec", "keep-exec", "no-exec-from", "create", "setenv")
        self.lists: dict[str, list[str]] = {k: [] for k in names}
        self.flags: set[str] = set()
        self.files: dict[str, str] = {}  # stdin, stdout, stderr -> path

    def __getattr__(self, name: str) -> bool:
        """``policy.deny_exec_memory`` and the like: whether the flag was given."""
        flag = name.replace("_", "-")
        if flag not in _FLAGS:
            raise AttributeError(name)
        return flag in self.flags


def parse(argv: Sequence[str]) -> tuple[Policy, list[str]]:
    """Read ``--exec=P --write=P --noexec=P --keep-exec=P --no-exec-from=ELF --create=P
    --setenv=K=V --stdin=P --stdout=P --stderr=P`` and the flags in ``_FLAGS``, then
    ``-- COMMAND...``.

    Plain options: json or argparse would cost every command milliseconds of start-up.
    """
    policy = Policy()
    for at, argument in enumerate(argv):
        if argument == "--":
            command = list(argv[at + 1 :])
            if not command:
                raise _Refused("no command given after --")
            return policy, command
        option, has_value, value = argument.removeprefix("--").partition("=")
        if option in _FLAGS and not has_value:
            policy.flags.add(option)
        elif option in policy.lists and value:
            policy.lists[option].append(value)
        elif option in ("stdin", "stdout", "stderr") and value:
            policy.files[option] = value
        else:
            raise _Refused(f"unknown or incomplete option {argument!r}")
    raise _Refused("no -- before the command")


_WRITE_NEW = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW


def _open_files(policy: Policy) -> None:
    """Make the files to create (new, never through a symlink), then redirect 0, 1, 2."""
    for path in policy.lists["create"]:
        os.close(os.open(path, _WRITE_NEW | os.O_EXCL | os.O_CLOEXEC, 0o644))
    for name, target, flags in (("stdin", 0, os.O_RDONLY), ("stdout", 1, _WRITE_NEW)):
        if name in policy.files:
            _redirect(policy.files[name], target, flags)
    if "stderr" in policy.files:
        _report[0] = os.dup(2)  # the launcher's own messages keep the caller's stderr
        _redirect(policy.files["stderr"], 2, _WRITE_NEW)


def _redirect(path: str, target: int, flags: int) -> None:
    fd = os.open(path, flags | os.O_CLOEXEC, 0o644)
    os.dup2(fd, target)
    os.close(fd)


def _environment(policy: Policy) -> dict[str, str]:
    if not policy.clear_env:
        return dict(os.environ)
    return {k: v for k, _, v in (item.partition("=") for item in policy.lists["setenv"])}


def _resolve(name: str, env: dict[str, str]) -> str:
    """The file ``execve`` will run for ``name``, found on PATH as execvp would."""
    if "/" in name:
        return os.path.abspath(name)  # noqa: PTH100 - pathlib would slow every start-up
    for directory in env.get("PATH", os.defpath).split(os.pathsep):
        candidate = os.path.join(directory or ".", name)  # noqa: PTH118
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):  # noqa: PTH113
            return os.path.abspath(candidate)  # noqa: PTH100
    raise FileNotFoundError(errno.ENOENT, "No such file or directory", name)


def _beneath(program: str, paths: Sequence[str]) -> bool:
    real = os.path.realpath(program)
    for path in paths:
        base = os.path.realpath(path)
        if real == base or real.startswith(base.rstrip("/") + "/"):
            return True
    return False


def _exec_rules(policy: Policy, program: str) -> list[str]:
    """What Landlock lets be executed: the allowlist, or only the command's own file (or
    nothing, when that is not beneath the allowlist: its execve then fails with EACCES)."""
    allowed = policy.lists["exec"]
    if not policy.exec_command_only:
        return allowed
    return [program] if _beneath(program, allowed) else []


def apply(policy: Policy, command: Sequence[str]) -> tuple[str, dict[str, str]]:
    """Put every restriction of ``policy`` on this process (see the module docstring);
    the program to execute for ``command`` and the environment to give it."""
    env = _environment(policy)
    program = _resolve(command[0], env)
    if policy.remount_noexec:
        _private_noexec_namespace(policy.lists["keep-exec"])
    _require_noexec(policy.lists["noexec"])
    _open_files(policy)
    executable = _exec_rules(policy, program)
    if policy.static_command and _beneath(program, executable):
        _require_static(program)  # (what may not run at all needs no look)
    sealed = policy.own_files_only
    writes = ["/tmp", *policy.lists["create"]] if sealed else policy.lists["write"]
    _landlock(executable, writes, sealed=sealed)
    ranges = [r for path in policy.lists["no-exec-from"] for r in code_ranges(path)]
    program_filter = seccomp_program(
        deny_exec_memory=policy.deny_exec_memory,
        no_exec_from=ranges,
        static=policy.static_command,
        solitary_pid=os.getpid() if policy.solitary else None,
    )
    _install_seccomp(program_filter)
    return program, env


_report = [2]  # where the launcher's own messages go (the caller's stderr)


def _say(message: str) -> None:
    os.write(_report[0], f"{_PREFIX}: {message}\n".encode(errors="replace"))


def main(argv: Sequence[str]) -> int:
    try:
        policy, command = parse(argv[1:])
        program, env = apply(policy, command)
    except FileNotFoundError as exc:
        _say(f"cannot execute {exc.filename}: {exc.strerror}")
        return 127
    except (_Refused, OSError) as exc:
        _say(f"the command was not started: {exc}")
        return EXIT_REFUSED
    try:
        os.execve(program, command, env)
    except OSError as exc:
        _say(f"cannot execute {command[0]}: {exc.strerror}")
        return 127 if exc.errno == errno.ENOENT else EXIT_REFUSED
    return EXIT_REFUSED  # not reached: execve replaced the process


if __name__ == "__main__":
    sys.exit(main(sys.argv))
