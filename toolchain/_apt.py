"""`ramp toolchain install`: the host packages from the manifest, by apt."""

from __future__ import annotations

import os

from pydantic import BaseModel

from toolchain._errors import ToolchainError
from toolchain._hostcmd import run_host_command
from toolchain._manifest import Profile, load_manifest

__all__ = ["InstallReport", "install_host_packages"]


class InstallReport(BaseModel):
    packages: list[str]
    pinned: bool
    output_tail: str


def install_host_packages(*, exact: bool = False, dry_run: bool = False) -> InstallReport:
    """apt-get install the host profile. ``exact`` pins every Debian version (``name=ver``);
    otherwise apt takes the suite's current version and `doctor` reports any drift."""
    manifest = load_manifest()
    packages = manifest.packages_for(Profile.HOST)
    names = [f"{p.name}={p.version}" if exact else p.name for p in packages]
    if dry_run:
        return InstallReport(packages=names, pinned=exact, output_tail="")
    if os.geteuid() != 0:
        raise ToolchainError(
            "installing host packages needs root; run `sudo ramp toolchain install` "
            "or: apt-get install -y " + " ".join(names)
        )
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND": "noninteractive"}
    update = run_host_command(["apt-get", "update", "-q"], timeout_s=600, env=env)
    if not update.ok:
        raise ToolchainError(f"apt-get update failed:\n{update.output[-2000:]}")
    install = run_host_command(
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", *names],
        timeout_s=3600,
        env=env,
    )
    if not install.ok:
        raise ToolchainError(
            f"apt-get install failed (exit {install.returncode}):\n{install.output[-3000:]}"
        )
    return InstallReport(
        packages=names, pinned=exact, output_tail="\n".join(install.output.splitlines()[-5:])
    )
