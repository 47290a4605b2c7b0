"""Disguised copies of real toolchain files, and honest programs built for comparison.

Shared by the integrity tests and ``benchmarks/bench_codeprints.py``. Copies are made with
the real binutils (strip, objcopy, ar) from real files of the development root file system;
honest programs are our own sources in ``honest/``, compiled by the real compilers: g++ and
clang++-19 in the development sandbox, rustc and go on the host when they are installed.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from toolchain._image import require_rootfs
from toolchain._manifest import Profile
from toolchain.sandbox import ExecLimits, Outcome, SandboxSpec, open_sandbox

HONEST = Path(__file__).resolve().parent / "honest"

# Toolchain files a cheat would copy, by short name: path in the dev root file system.
TOOLS = {
    "clang": "usr/lib/llvm-19/bin/clang",
    "llc": "usr/lib/llvm-19/bin/llc",
    "opt": "usr/lib/llvm-19/bin/opt",
    "libLLVM": "usr/lib/x86_64-linux-gnu/libLLVM.so.19.1",
    "libclang-cpp": "usr/lib/x86_64-linux-gnu/libclang-cpp.so.19.1",
    "cc1": "usr/lib/gcc/x86_64-linux-gnu/12/cc1",
    "as": "usr/bin/x86_64-linux-gnu-as",
    "ld": "usr/bin/x86_64-linux-gnu-ld.bfd",
    "lld": "usr/lib/llvm-19/bin/lld",
    "riscv64 as": "usr/bin/riscv64-linux-gnu-as",
    "riscv64 cc1": "usr/lib/gcc-cross/riscv64-linux-gnu/12/cc1",
}

# An ELF trailer for the self-extracting variant: what a shell script would carry.
_EXTRACTOR = b'#!/bin/sh\ntail -c +200 "$0" > /tmp/.t && chmod +x /tmp/.t && exec /tmp/.t "$@"\n'


def tool_path(name: str) -> Path:
    """The real file behind a short name of ``TOOLS``."""
    return require_rootfs(Profile.DEV).path / TOOLS[name]


def _run(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True)


def _copy(src: Path, out: Path) -> None:
    shutil.copyfile(src, out)


def _appended(src: Path, out: Path) -> None:
    shutil.copyfile(src, out)
    with out.open("ab") as handle:
        handle.write(b"\n")


def _truncated(share: float) -> Callable[[Path, Path], None]:
    def make(src: Path, out: Path) -> None:
        with src.open("rb") as handle:
            out.write_bytes(handle.read(int(src.stat().st_size * share)))

    return make


def _embedded(src: Path, out: Path) -> None:
    noise = random.Random(src.name)
    with out.open("wb") as handle:
        handle.write(_EXTRACTOR + bytes(noise.randrange(256) for _ in range(4099)))
        with src.open("rb") as original:
            shutil.copyfileobj(original, handle)
        handle.write(bytes(noise.randrange(256) for _ in range(777)))


def _xored(src: Path, out: Path) -> None:
    data = np.fromfile(src, dtype=np.uint8)
    key = np.resize(np.arange(1, 256, dtype=np.uint8), len(data))
    (data ^ key).tofile(out)


# name -> how to make it from a real file. The last one is meant NOT to be detected.
VARIANTS: dict[str, Callable[[Path, Path], None]] = {
    "renamed": _copy,
    "one byte appended": _appended,
    "truncated to 50%": _truncated(0.5),
    "truncated to 10%": _truncated(0.1),
    "strip --strip-all": lambda s, o: _run("strip", "--strip-all", "-o", str(o), str(s)),
    "build-id removed": lambda s, o: _run(
        "objcopy", "--remove-section", ".note.gnu.build-id", str(s), str(o)
    ),
    "sections renamed": lambda s, o: _run(
        "objcopy",
        "--rename-section",
        ".text=.ramp_a",
        "--rename-section",
        ".rodata=.ramp_b",
        "--rename-section",
        ".plt=.ramp_c",
        str(s),
        str(o),
    ),
    "packed in an ar archive": lambda s, o: _run("ar", "rcS", str(o), str(s)),
    "embedded at an offset": _embedded,
    "bytes xor-ed": _xored,
}
UNDETECTABLE = {"bytes xor-ed"}


def make_variant(tool: str, variant: str, directory: Path) -> Path:
    """``tool``'s file disguised as ``variant``, written into ``directory``."""
    label = f"{tool}-{variant}".replace(" ", "-").replace("%", "pct")
    out = directory / f"{label}.bin"
    VARIANTS[variant](tool_path(tool), out)
    return out


# Our C++ front end, compiled the ways an agent would build its own compiler.
CPP_BUILDS = {
    "g++ -O2": "g++ -std=c++20 -O2 -o {out} sysy_front.cpp",
    "clang++-19 -O2": "clang++-19 -std=c++20 -O2 -o {out} sysy_front.cpp",
    "g++ -O2 -static": "g++ -std=c++20 -O2 -static -o {out} sysy_front.cpp",
    "clang++-19 -O2 -static": "clang++-19 -std=c++20 -O2 -static -o {out} sysy_front.cpp",
    "g++ -O0 -g": "g++ -std=c++20 -O0 -g -o {out} sysy_front.cpp",
}


def build_cpp(
    directory: Path, ways: Iterable[str] = CPP_BUILDS, backend: str = "bwrap"
) -> dict[str, Path]:
    """sysy_front.cpp built in the development sandbox in the ``CPP_BUILDS`` ``ways``."""
    shutil.copy(HONEST / "sysy_front.cpp", directory)
    directory.chmod(0o777)
    spec = SandboxSpec(profile=Profile.DEV, limits=ExecLimits(timeout_s=600, memory_mb=4096))
    built: dict[str, Path] = {}
    with open_sandbox(directory, backend, spec) as box:
        for index, label in enumerate(ways):
            out = f"front-{index}"
            result = box.exec(["sh", "-c", CPP_BUILDS[label].format(out=out)])
            assert result.outcome is Outcome.OK, (label, result.stderr[-2000:])
            built[label] = directory / out
    return built


def build_rust(directory: Path) -> Path | None:
    """sysy_calc.rs built with the host's rustc -O (None when rustc is not installed)."""
    if shutil.which("rustc") is None:
        return None
    out = directory / "calc-rust"
    _run("rustc", "-O", "--edition", "2021", "-o", str(out), str(HONEST / "sysy_calc.rs"))
    return out


def build_go(directory: Path) -> Path | None:
    """sysy_words.go built with the host's go (None when go is not installed)."""
    if shutil.which("go") is None:
        return None
    out = directory / "words-go"
    env = {**os.environ, "GO111MODULE": "off", "GOCACHE": str(directory / ".gocache")}
    env |= {"GOFLAGS": "", "GOPATH": str(directory / ".gopath")}
    subprocess.run(
        ["go", "build", "-o", str(out), str(HONEST / "sysy_words.go")],
        check=True,
        capture_output=True,
        env=env,
    )
    shutil.rmtree(directory / ".gocache", ignore_errors=True)
    shutil.rmtree(directory / ".gopath", ignore_errors=True)
    return out
