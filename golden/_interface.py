"""The interface an IR module handed in at T3 or T4 may use, checked before and after llc.

A T3/T4 output is a program built with RAMP's runtime; at T4 its instructions are counted.
It may define its own functions and globals, call the runtime interface (getint ...
_sysy_stoptime), and use LLVM's target-independent intrinsics; nothing else. Two layers:

* the IR text (before anything is built): no module-level or inline assembly, no
  declaration of a function outside the interface, no definition of a runtime name, no
  ifunc, only the allowed ``llvm.*`` intrinsics;
* the object llc made of it (what is actually linked, whatever the text's spelling): no
  undefined symbol but the runtime interface and memcpy/memset/memmove (llc's own lowering
  of the memory intrinsics), no global definition of a reserved name, code only in
  ``.text``, no section posing as the measurement's own, and no Valgrind client request
  (its fixed instruction preamble) anywhere in the file.

Before either, the module must be LLVM IR text (``decode_ir``): the judge assembles exactly
the text it checked with llvm-as, which reads nothing else, so no bitcode file (which
clang would read under any name) can carry what the text check would refuse.

A problem that tries to reach the instrumentation or the timer (assembly, client requests,
redefined runtime symbols) is marked as tampering: the grader raises an integrity finding.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

from golden._elf import ElfFile
from golden.scoring import CaseScore
from golden.scoring._models import make_score

__all__ = [
    "ALLOWED_INTRINSICS",
    "CLIENT_REQUEST_PREAMBLE",
    "MEMORY_FUNCTIONS",
    "RUNTIME_INTERFACE",
    "TAMPER",
    "InterfaceProblem",
    "check_ir_text",
    "check_object",
    "decode_ir",
    "refused_score",
]

RUNTIME_INTERFACE = frozenset(
    {
        "getint",
        "getch",
        "getarray",
        "putint",
        "putch",
        "putarray",
        "_sysy_starttime",
        "_sysy_stoptime",
    }
)
# The measurement runtime's own copies; llc lowers llvm.memcpy/memset/memmove to calls to them.
MEMORY_FUNCTIONS = frozenset({"memcpy", "memset", "memmove"})
RESERVED = RUNTIME_INTERFACE | MEMORY_FUNCTIONS
# The value of CaseScore.details["integrity"] that makes the grader raise a finding.
TAMPER = "measurement-tamper"
# amd64 Valgrind client requests start with these four rotates of %rdi (valgrind.h).
CLIENT_REQUEST_PREAMBLE = bytes.fromhex("48c1c703 48c1c70d 48c1c73d 48c1c733")
MAX_IR_CHARS = 64 << 20
# A bitcode file starts with one of these (the plain form, or the wrapper Darwin uses).
BITCODE_MAGIC = (b"BC\xc0\xde", b"\xde\xc0\x17\x0b")

# Target-independent intrinsic families an optimiser may use (what clang -O2 emits for
# SysY and more); anything else (stack and return addresses, registers, patchpoints,
# trampolines, target-specific intrinsics) could reach code or state outside the module.
_ALLOWED_INTRINSIC_FAMILIES = (
    "memcpy memcpy.inline memmove memset memset.inline lifetime.start lifetime.end stacksave "
    "stackrestore "
    "invariant.start invariant.end launder.invariant.group strip.invariant.group assume "
    "expect expect.with.probability experimental.noalias.scope.decl dbg.declare dbg.value "
    "dbg.assign dbg.label donothing trap debugtrap prefetch objectsize is.constant ssa.copy "
    "smax smin umax umin abs fshl fshr ctpop ctlz cttz bswap bitreverse "
    "sadd.with.overflow uadd.with.overflow ssub.with.overflow usub.with.overflow "
    "smul.with.overflow umul.with.overflow sadd.sat uadd.sat ssub.sat usub.sat sshl.sat "
    "ushl.sat fabs fmuladd sqrt minnum maxnum minimum maximum copysign canonicalize "
    "is.fpclass vector.reduce.add vector.reduce.mul vector.reduce.and vector.reduce.or "
    "vector.reduce.xor vector.reduce.smax vector.reduce.smin vector.reduce.umax "
    "vector.reduce.umin vector.reduce.fadd vector.reduce.fmul vector.reduce.fmax "
    "vector.reduce.fmin masked.load masked.store masked.gather masked.scatter"
)
ALLOWED_INTRINSICS = tuple(_ALLOWED_INTRINSIC_FAMILIES.split())
_INTRINSIC = re.compile(
    r"llvm\.(" + "|".join(re.escape(f) for f in sorted(ALLOWED_INTRINSICS, key=len)[::-1]) + r")"
    r"(\.[\w.]+)?"
)
# One LLVM IR token: a comment, a string (maybe a quoted label), a sigilled name, a word, '='.
_TOKEN = re.compile(
    r';[^\n]*|(?P<string>c?"[^"]*")|(?P<name>[@%!$#](?:"[^"]*"|[-\w.$]+))'
    r"|(?P<word>[A-Za-z_.$][-\w.$]*)(?P<colon>:)?|(?P<equals>=)"
)
_GLOBAL_KINDS = ("global", "constant", "alias", "ifunc")
_ESCAPE = re.compile(r"\\([0-9A-Fa-f]{2}|\\)")


class InterfaceProblem(BaseModel):
    """One reason an IR module is refused; ``tamper`` when it reaches for the measurement."""

    model_config = ConfigDict(frozen=True)

    message: str
    tamper: bool = False


def _unquote(name: str) -> str:
    """The symbol a global name token spells (``@"\\67etint"`` is ``getint``)."""
    body = name[1:]
    if not body.startswith('"'):
        return body
    return _ESCAPE.sub(
        lambda m: "\\" if m.group(1) == "\\" else chr(int(m.group(1), 16)), body[1:-1]
    )


def _tokens(text: str) -> list[tuple[str, str]]:
    """(kind, text) of every token that matters: names and bare words (no comments, strings)."""
    found: list[tuple[str, str]] = []
    for match in _TOKEN.finditer(text):
        if match.group("name"):
            found.append(("name", match.group("name")))
        elif match.group("word") and not match.group("colon"):
            found.append(("word", match.group("word")))
        elif match.group("equals"):
            found.append(("equals", "="))
    return found


def _next_global(tokens: list[tuple[str, str]], start: int) -> str | None:
    for kind, text in tokens[start:]:
        if kind == "name" and text.startswith("@"):
            return _unquote(text)
    return None


def _declared(name: str) -> InterfaceProblem | None:
    if name in RUNTIME_INTERFACE:
        return None
    if name.startswith("llvm."):
        if _INTRINSIC.fullmatch(name):
            return None
        return InterfaceProblem(
            message=f"declares the intrinsic {name}, which is not allowed: only "
            "target-independent arithmetic, memory and hint intrinsics are (see the contract)"
        )
    hint = f" (use llvm.{name} instead)" if name in MEMORY_FUNCTIONS else ""
    return InterfaceProblem(
        message=f"declares @{name}, which is outside the runtime interface{hint}: a program may "
        "call only getint, getch, getarray, putint, putch, putarray, _sysy_starttime and "
        "_sysy_stoptime"
    )


def _defined(name: str, what: str) -> InterfaceProblem | None:
    if name not in RESERVED:
        return None
    return InterfaceProblem(
        message=f"{what} @{name}, a name of the runtime: the runtime's own definition must be "
        "the one that runs",
        tamper=True,
    )


def decode_ir(data: bytes) -> tuple[str, list[InterfaceProblem]]:
    """The IR text of a T3/T4 output, and why it is not LLVM IR text if it is not.

    Bitcode, other binary data (a NUL byte) and bytes that are not UTF-8 are refused: only
    text is checked, and only the checked text is built.
    """
    if data.startswith(BITCODE_MAGIC):
        return "", [_not_text("is LLVM bitcode")]
    if b"\x00" in data:
        return "", [_not_text("contains a NUL byte (binary data)")]
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        return "", [_not_text(f"is not UTF-8 text (byte {exc.start})")]


def _not_text(why: str) -> InterfaceProblem:
    return InterfaceProblem(
        message=f"the output {why}, not LLVM IR text: write the module in the textual .ll form "
        "(the grader assembles it with llvm-as-19, which reads only text)"
    )


def check_ir_text(text: str) -> list[InterfaceProblem]:
    """Every interface problem visible in the IR text (empty when the module may be built)."""
    if len(text) > MAX_IR_CHARS:
        return [InterfaceProblem(message=f"the IR is larger than {MAX_IR_CHARS >> 20} MB")]
    tokens = _tokens(text)
    problems: list[InterfaceProblem] = []
    for index, (kind, word) in enumerate(tokens):
        if kind == "word" and word == "asm":
            problems.append(
                InterfaceProblem(
                    message="uses assembly (module asm or an inline asm call): a program may not "
                    "contain machine code of its own",
                    tamper=True,
                )
            )
        elif kind == "word" and word in ("declare", "define"):
            name = _next_global(tokens, index + 1)
            if name is not None:
                problem = _declared(name) if word == "declare" else _defined(name, "defines")
                if problem:
                    problems.append(problem)
        elif (
            kind == "name"
            and word.startswith("@")
            and tokens[index + 1 : index + 2] == [("equals", "=")]
        ):
            problems.extend(_global_definition(tokens, index))
    return _unique(problems)


def _global_definition(tokens: list[tuple[str, str]], index: int) -> list[InterfaceProblem]:
    """Problems of the top-level ``@name = ...`` at ``index`` (a variable, alias or ifunc)."""
    name = _unquote(tokens[index][1])
    kind = next((text for _, text in tokens[index + 2 : index + 12] if text in _GLOBAL_KINDS), "")
    if kind == "ifunc":
        return [InterfaceProblem(message=f"@{name} is an ifunc: resolvers are not allowed")]
    what = "makes an alias named" if kind == "alias" else "defines a global named"
    problem = _defined(name, what)
    return [problem] if problem else []


def _unique(problems: list[InterfaceProblem]) -> list[InterfaceProblem]:
    seen: set[str] = set()
    kept = []
    for problem in problems:
        if problem.message not in seen:
            seen.add(problem.message)
            kept.append(problem)
    return kept


def check_object(obj: ElfFile) -> list[InterfaceProblem]:
    """Every interface problem of the object file llc made from the module."""
    problems: list[InterfaceProblem] = []
    for symbol in obj.symbols:
        if symbol.undefined and symbol.name and symbol.name not in RESERVED:
            problems.append(
                InterfaceProblem(
                    message=f"the compiled module needs {symbol.name}, which is outside the "
                    "runtime interface (a libcall llc made, or a call you wrote)"
                )
            )
        elif not symbol.undefined and symbol.is_global:
            problem = _defined(symbol.name, "the compiled module defines")
            problems.extend([problem] if problem else [])
    for section in obj.sections:
        if section.name.startswith(".ramp"):
            problems.append(
                InterfaceProblem(
                    message=f"the module has a section named {section.name}, a name the "
                    "measurement reserves",
                    tamper=True,
                )
            )
        elif section.executable and section.name != ".text":
            problems.append(
                InterfaceProblem(
                    message=f"the module puts code in section {section.name}: functions must "
                    "stay in .text (no section or comdat attributes on functions)"
                )
            )
    if CLIENT_REQUEST_PREAMBLE in obj.data:
        problems.append(
            InterfaceProblem(
                message="the compiled module contains a Valgrind client request",
                tamper=True,
            )
        )
    return _unique(problems)


def refused_score(problems: list[InterfaceProblem]) -> CaseScore:
    """Score 0 with every problem in the diagnosis; tampering marks the case for a finding."""
    details: dict[str, float | int | str] = {"interface_problems": len(problems)}
    if any(problem.tamper for problem in problems):
        details["integrity"] = TAMPER
    return make_score(0.0, "refused: " + "; ".join(p.message for p in problems), details)
