"""Expected stdout and exit code of a SysY case, established several ways and checked for UB.

A case's expectation is what the program does when compiled natively by clang (x86-64)
at -O0 and at -O2, AND when compiled for RV64 and run under qemu-riscv64: all three must
agree byte for byte, so no case depends on an optimisation level or on the target. Two
more builds must then reproduce the same run cleanly: one with UndefinedBehaviorSanitizer
and AddressSanitizer, one with MemorySanitizer (it cannot share a build with ASan), so no
case overflows, indexes out of bounds or reads a value never written. Run on the host
with the pinned toolchain:

    python -m golden._expected golden/corpus/functional/some_case.sy [...]

writes ``NAME.out`` (stdout) and ``NAME.exit`` (exit code) next to each source.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from pydantic import BaseModel

from toolchain import RampError

__all__ = ["Expectation", "ExpectationError", "establish"]

RUNTIME_DIR = Path(__file__).with_name("runtime")
_RV64 = ["--target=riscv64-unknown-linux-gnu", "-march=rv64gc", "-mabi=lp64d", "-fno-addrsig"]
_RV64_LINK = ["-static", "-fuse-ld=lld"]
_RUN_TIMEOUT_S = 120
# Builds whose runs must agree exactly: (name, clang flags, runs under qemu).
_BUILDS: tuple[tuple[str, tuple[str, ...], bool], ...] = (
    ("native -O0", ("-O0",), False),
    ("native -O2", ("-O2",), False),
    ("RV64 -O2", (*_RV64, "-O2", *_RV64_LINK), True),
)
_SANITIZED: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("UBSan+ASan", ("-O1", "-g", "-fsanitize=undefined,address")),
    ("MSan", ("-O1", "-g", "-fsanitize=memory", "-fsanitize-memory-track-origins")),
)


class ExpectationError(RampError):
    """The builds disagree, a build failed, or the sanitizers found undefined behaviour."""


class Expectation(BaseModel):
    stdout: bytes
    exit_code: int


def _run(argv: list[str], stdin: bytes, what: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(argv, input=stdin, capture_output=True, timeout=_RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        raise ExpectationError(
            f"{what} ran longer than {_RUN_TIMEOUT_S} s: make the case's work or input smaller"
        ) from exc


def _compile(source: Path, flags: tuple[str, ...], output: Path, what: str) -> None:
    """One clang build of ``source`` with the runtime pre-included and linked."""
    argv = [
        "clang-19",
        *flags,
        "-x",
        "c",
        "-std=gnu17",
        "-include",
        str(RUNTIME_DIR / "sylib.h"),
        str(source),
        "-x",
        "none",
        str(RUNTIME_DIR / "sylib.c"),
        "-o",
        str(output),
    ]
    # clang's temporary objects go beside the output (a private directory), not to /tmp
    # where other users could read a hidden program's code.
    env = {**os.environ, "TMPDIR": str(output.parent)}
    done = subprocess.run(argv, capture_output=True, timeout=300, env=env)
    if done.returncode != 0:
        raise ExpectationError(
            f"the {what} build failed (fix the program so clang accepts it):\n"
            + done.stderr.decode(errors="replace")[-3000:]
        )


def _agreeing_run(source: Path, stdin: bytes, work: Path) -> Expectation:
    """Stdout and exit code every build of ``_BUILDS`` agrees on."""
    first: tuple[str, Expectation] | None = None
    for index, (what, flags, on_qemu) in enumerate(_BUILDS):
        binary = work / f"build{index}"
        _compile(source, flags, binary, what)
        done = _run(["qemu-riscv64", str(binary)] if on_qemu else [str(binary)], stdin, what)
        got = Expectation(stdout=done.stdout, exit_code=done.returncode)
        if first is None:
            first = (what, got)
        elif got != first[1]:
            raise ExpectationError(
                f"{first[0]} and {what} disagree: exit {first[1].exit_code} vs {got.exit_code}, "
                f"stdout {len(first[1].stdout)} vs {len(got.stdout)} bytes "
                "(the program depends on the optimisation level or target: undefined behaviour)"
            )
    assert first is not None
    return first[1]


def _check_sanitized(source: Path, stdin: bytes, work: Path, expected: Expectation) -> None:
    for index, (what, flags) in enumerate(_SANITIZED):
        binary = work / f"checked{index}"
        _compile(source, (*flags, "-fno-sanitize-recover=all"), binary, what)
        done = _run([str(binary)], stdin, f"the {what} build")
        if (done.stdout, done.returncode) != (expected.stdout, expected.exit_code):
            report = done.stderr.decode(errors="replace")[-3000:]
            raise ExpectationError(
                f"undefined behaviour or memory error found by {what} (fix the program):\n{report}"
            )


def establish(source: Path, stdin: bytes, *, sanitize: bool = True) -> Expectation:
    """What ``source`` prints and returns with ``stdin``, once every build agrees on it."""
    with tempfile.TemporaryDirectory(prefix="ramp-expect-") as scratch:
        work = Path(scratch)
        expected = _agreeing_run(source, stdin, work)
        if sanitize:
            _check_sanitized(source, stdin, work, expected)
    return expected


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("sources", nargs="+", type=Path)
    parser.add_argument("--no-sanitize", action="store_true")
    parser.add_argument(
        "--check", action="store_true", help="compare with the committed files, write nothing"
    )
    args = parser.parse_args()
    failed = 0
    for source in args.sources:
        stdin_file = source.with_suffix(".in")
        stdin = stdin_file.read_bytes() if stdin_file.exists() else b""
        try:
            expected = establish(source, stdin, sanitize=not args.no_sanitize)
        except ExpectationError as exc:
            failed += 1
            print(f"FAIL {source}: {exc}", file=sys.stderr)
            continue
        if args.check:
            committed = (
                source.with_suffix(".out").read_bytes(),
                int(source.with_suffix(".exit").read_text().strip()),
            )
            if committed != (expected.stdout, expected.exit_code):
                failed += 1
                print(f"FAIL {source}: differs from the committed .out/.exit", file=sys.stderr)
                continue
            print(f"ok   {source}: matches the committed expectation")
            continue
        source.with_suffix(".out").write_bytes(expected.stdout)
        source.with_suffix(".exit").write_text(f"{expected.exit_code}\n")
        print(f"ok   {source}: exit {expected.exit_code}, {len(expected.stdout)} bytes of stdout")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
