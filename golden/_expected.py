"""Expected stdout and exit code of a SysY case, established two ways and checked for UB.

A case's expectation is what the program does when compiled natively by clang (x86-64)
AND when compiled for RV64 and run under qemu-riscv64: both must agree byte for byte.
A third build with UndefinedBehaviorSanitizer and AddressSanitizer must run clean, so no
case depends on undefined behaviour. Run on the host with the pinned toolchain:

    python -m golden._expected golden/corpus/functional/some_case.sy [...]

writes ``NAME.out`` (stdout) and ``NAME.exit`` (exit code) next to each source.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from pydantic import BaseModel

__all__ = ["Expectation", "ExpectationError", "establish"]

RUNTIME_DIR = Path(__file__).with_name("runtime")
_RV64 = ["--target=riscv64-unknown-linux-gnu", "-march=rv64gc", "-mabi=lp64d", "-fno-addrsig"]
_RUN_TIMEOUT_S = 120


class ExpectationError(Exception):
    """The builds disagree, a build failed, or the sanitizers found undefined behaviour."""


class Expectation(BaseModel):
    stdout: bytes
    exit_code: int


def _run(argv: list[str], stdin: bytes, what: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(argv, input=stdin, capture_output=True, timeout=_RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        raise ExpectationError(f"{what} ran longer than {_RUN_TIMEOUT_S} s") from exc


def _compile(argv: list[str], what: str) -> None:
    done = subprocess.run(argv, capture_output=True, timeout=300)
    if done.returncode != 0:
        raise ExpectationError(f"{what} failed:\n{done.stderr.decode(errors='replace')[-3000:]}")


def establish(source: Path, stdin: bytes, *, sanitize: bool = True) -> Expectation:
    header = ["-x", "c", "-std=gnu17", "-include", str(RUNTIME_DIR / "sylib.h")]
    runtime = ["-x", "none", str(RUNTIME_DIR / "sylib.c")]
    with tempfile.TemporaryDirectory(prefix="ramp-expect-") as scratch:
        work = Path(scratch)
        native, rv64, checked = work / "native", work / "rv64", work / "checked"
        _compile(
            ["clang-19", "-O1", *header, str(source), *runtime, "-o", str(native)], "native build"
        )
        _compile(
            [
                "clang-19",
                *_RV64,
                "-O1",
                "-static",
                "-fuse-ld=lld",
                *header,
                str(source),
                *runtime,
                "-o",
                str(rv64),
            ],
            "RV64 build",
        )
        first = _run([str(native)], stdin, "the native build")
        second = _run(["qemu-riscv64", str(rv64)], stdin, "the RV64 build under qemu")
        if (first.stdout, first.returncode) != (second.stdout, second.returncode):
            raise ExpectationError(
                f"native and RV64 disagree: exit {first.returncode} vs {second.returncode}, "
                f"stdout {len(first.stdout)} vs {len(second.stdout)} bytes"
            )
        if sanitize:
            _compile(
                [
                    "clang-19",
                    "-O1",
                    "-g",
                    "-fsanitize=undefined,address",
                    "-fno-sanitize-recover=all",
                    *header,
                    str(source),
                    *runtime,
                    "-o",
                    str(checked),
                ],
                "sanitizer build",
            )
            third = _run([str(checked)], stdin, "the sanitizer build")
            if (third.stdout, third.returncode) != (first.stdout, first.returncode):
                report = third.stderr.decode(errors="replace")[-3000:]
                raise ExpectationError(f"undefined behaviour or memory error:\n{report}")
    return Expectation(stdout=first.stdout, exit_code=first.returncode)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("sources", nargs="+", type=Path)
    parser.add_argument("--no-sanitize", action="store_true")
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
        source.with_suffix(".out").write_bytes(expected.stdout)
        source.with_suffix(".exit").write_text(f"{expected.exit_code}\n")
        print(f"ok   {source}: exit {expected.exit_code}, {len(expected.stdout)} bytes of stdout")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
