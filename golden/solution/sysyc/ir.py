"""Textual LLVM IR: the in-memory model shared by T4 (optimiser) and T5 (RV64 back end).

The model covers the dialect the chain produces: clang -O0 IR (T3's output), clang -O2 IR
with the vectorisers off (T4's reference output) and our own T3/T4 output.

Types are canonical strings: "void", "i1", "i8", "i32", "i64", "ptr", "[4 x [5 x i32]]",
"label". Attributes, metadata (`!tbaa`), alignment, `dso_local`, `#0` groups, `tail`,
`nsw`/`nuw`/`exact`/`inbounds`/`disjoint`/`nneg` flags are parsed and dropped unless the
model keeps them below (printing the module back must give IR LLVM 19 accepts).

`parse_module(text) -> Module` and `print_module(Module) -> str` live at the end of this
module.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# ---- values (operands) ----------------------------------------------------------------


@dataclass(frozen=True)
class Const:
    """An integer constant of an integer type; i1 true/false are 1/0."""

    ty: str
    value: int


@dataclass(frozen=True)
class Undef:
    """`undef` or `poison` of a type (`kind` says which)."""

    ty: str
    kind: str = "undef"


@dataclass(frozen=True)
class Null:
    """`null` pointer."""

    ty: str = "ptr"


@dataclass(frozen=True)
class ZeroInit:
    """`zeroinitializer` of an aggregate type (only in global initialisers)."""

    ty: str


@dataclass(frozen=True)
class Local:
    """`%name` (name without the sigil; numbered values keep their number as text)."""

    ty: str
    name: str


@dataclass(frozen=True)
class GlobalRef:
    """`@name`: a global variable or function, as a pointer."""

    name: str
    ty: str = "ptr"


@dataclass(frozen=True)
class ConstGEP:
    """Constant expression `getelementptr [inbounds] (SRC_TY, ptr @g, IDX_TY i, ...)`."""

    source_ty: str
    base: GlobalRef
    indices: tuple[Const, ...]
    inbounds: bool = True
    ty: str = "ptr"


@dataclass(frozen=True)
class ArrayInit:
    """`[T v, T v, ...]` aggregate initialiser of a global (elements may nest).

    Also used for a struct initialiser `<{ T v, ... }>` / `{ T v, ... }` (clang emits packed
    structs for partly zero arrays): then `ty` starts with `<{` or `{`, and the elements are
    the fields in order.
    """

    ty: str
    elements: tuple[Value, ...]


Value = Const | Undef | Null | ZeroInit | Local | GlobalRef | ConstGEP | ArrayInit


# ---- instructions -----------------------------------------------------------------------


@dataclass
class Instr:
    """One instruction. `result` is the defined name (without `%`) or None.

    op                 fields used
    add sub mul sdiv srem udiv urem shl lshr ashr and or xor
                       ty, operands=[a, b], flags (e.g. {"nsw"})
    icmp               ty (operand type), pred ("eq".."sle"), operands=[a, b]; result is i1
    select             ty (value type), operands=[cond, a, b]
    trunc zext sext ptrtoint inttoptr bitcast freeze
                       ty (result type), operands=[x] (x.ty is the source type)
    alloca             ty=ptr, alloc_ty (allocated type), operands=[] or [count]
    load               ty (loaded type), operands=[ptr]
    store              ty (stored type), operands=[value, ptr]; result None
    getelementptr      ty=ptr, alloc_ty=source element type, operands=[base, idx...],
                       flags {"inbounds"} if present
    call               ty (return type), callee (name without @), operands=[args...],
                       varargs True when called as `(...)`
    phi                ty, incoming=[(value, block_label), ...]
    br                 operands=[] and targets=[label] | operands=[cond], targets=[t, f]
    switch             ty, operands=[x], targets=[default], cases=[(int, label), ...]
    ret                ty ("void" or the value type), operands=[] or [x]
    unreachable        no fields
    """

    op: str
    result: str | None = None
    ty: str = "void"
    operands: list[Value] = field(default_factory=list)
    pred: str | None = None
    alloc_ty: str | None = None
    callee: str | None = None
    varargs: bool = False
    incoming: list[tuple[Value, str]] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    cases: list[tuple[int, str]] = field(default_factory=list)
    flags: frozenset[str] = frozenset()


@dataclass
class Block:
    label: str
    instrs: list[Instr] = field(default_factory=list)


@dataclass
class Param:
    ty: str
    name: str


@dataclass
class Function:
    name: str
    ret_ty: str
    params: list[Param]
    blocks: list[Block] = field(default_factory=list)  # empty: a declaration
    varargs: bool = False


@dataclass
class GlobalVar:
    name: str
    ty: str
    init: Value | None  # None: external declaration
    constant: bool = False
    align: int | None = None
    linkage: str = ""  # "" (dso_local definition), "private", "internal", ...


@dataclass
class Module:
    globals: list[GlobalVar] = field(default_factory=list)
    functions: list[Function] = field(default_factory=list)
    datalayout: str | None = None  # `target datalayout = "..."`, kept for printing
    triple: str | None = None  # `target triple = "..."`


# ---- parsing ----------------------------------------------------------------------------

import functools  # noqa: E402
import re  # noqa: E402

_TOKEN_RE = re.compile(
    r"""
      %(?:[-a-zA-Z$._0-9]+|"[^"]*")
    | @(?:[-a-zA-Z$._0-9]+|"[^"]*")
    | !(?:[-a-zA-Z$._0-9]+)?
    | \#[0-9]+
    | c"[^"]*"
    | "[^"]*"
    | -?[0-9]+
    | [a-zA-Z_.][-a-zA-Z$._0-9]*
    | \.\.\.
    | <\{ | \}> | [\[\](){}<>,=*:]
    | \S
    """,
    re.VERBOSE,
)
_PUNCTUATION = frozenset("[](){}<>,=*:")

BINARY_OPS = frozenset(
    ["add", "sub", "mul", "sdiv", "srem", "udiv", "urem", "shl", "lshr", "ashr", "and", "or", "xor"]
)
INT_CAST_OPS = frozenset(["trunc", "zext", "sext"])
CAST_OPS = INT_CAST_OPS | {"ptrtoint", "inttoptr", "bitcast"}
# cannot trap and touch no memory, so may run speculatively (division may trap)
SPECULATABLE_OPS = (
    (BINARY_OPS - {"sdiv", "srem", "udiv", "urem"})
    | INT_CAST_OPS
    | {
        "icmp",
        "select",
        "getelementptr",
    }
)
_VALUE_WORDS = frozenset(
    ["true", "false", "null", "undef", "poison", "zeroinitializer", "getelementptr"]
)
_INSTR_FLAGS = frozenset(
    ["nsw", "nuw", "exact", "disjoint", "nneg", "inbounds", "nusw", "samesign"]
)
_LINKAGES = frozenset(
    ["private", "internal", "external", "weak", "linkonce", "linkonce_odr", "weak_odr", "common"]
)


class IRParseError(ValueError):
    """Malformed or unsupported IR text; `line` is the 1-based line number in the input."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


def _tokenize(text: str, line: int) -> list[str]:
    tokens: list[str] = _TOKEN_RE.findall(text)
    for token in tokens:
        if len(token) == 1 and not token.isalnum() and token not in _PUNCTUATION:
            raise IRParseError(f"unexpected character {token!r}", line)
    return tokens


def _strip_comment(line: str) -> str:
    """Drop a `;` comment, ignoring `;` inside double-quoted strings."""
    cut = line.find(";")
    if cut < 0:
        return line
    if '"' not in line[:cut]:
        return line[:cut]
    in_string = False
    for i, ch in enumerate(line):
        if ch == '"':
            in_string = not in_string
        elif ch == ";" and not in_string:
            return line[:i]
    return line


def _name(token: str) -> str:
    """`%x` / `@x` / `%"x"` to the bare name."""
    name = token[1:]
    if name.startswith('"'):
        return name[1:-1]
    return name


class _LineParser:
    """Recursive descent over the tokens of one (logical) line."""

    def __init__(self, tokens: list[str], line: int) -> None:
        self.tokens = tokens
        self.pos = 0
        self.line = line

    # -- token helpers --
    def error(self, message: str) -> IRParseError:
        near = " ".join(self.tokens[self.pos : self.pos + 4])
        return IRParseError(f"{message} (near {near!r})", self.line)

    def peek(self, offset: int = 0) -> str:
        i = self.pos + offset
        return self.tokens[i] if i < len(self.tokens) else ""

    def next(self) -> str:
        if self.pos >= len(self.tokens):
            raise self.error("unexpected end of line")
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def accept(self, token: str) -> bool:
        if self.peek() == token:
            self.pos += 1
            return True
        return False

    def expect(self, token: str) -> None:
        if self.peek() != token:
            raise self.error(f"expected {token!r}")
        self.pos += 1

    def at_end(self) -> bool:
        return self.pos >= len(self.tokens)

    def skip_balanced(self) -> None:
        """Skip a parenthesised group starting at the current `(`."""
        depth = 0
        while True:
            tok = self.next()
            if tok == "(":
                depth += 1
            elif tok == ")":
                depth -= 1
                if depth == 0:
                    return

    def is_type_start(self) -> bool:
        tok = self.peek()
        if tok in ("[", "{", "<{", "ptr", "void", "label"):
            return True
        return len(tok) > 1 and tok[0] == "i" and tok[1:].isdigit()

    def skip_attributes(self) -> None:
        """Skip parameter/return/function attributes up to a type, value or delimiter."""
        while True:
            tok = self.peek()
            if not tok:
                return
            if tok[0] == "#":
                self.pos += 1
                continue
            if not (tok[0].isalpha() or tok[0] == "_") or tok in _VALUE_WORDS:
                return
            if self.is_type_start():
                return
            self.pos += 1
            if self.peek() == "(":
                self.skip_balanced()
            elif tok in ("align", "addrspace", "alignstack") and self.peek().lstrip("-").isdigit():
                self.pos += 1

    # -- types --
    def parse_type(self) -> str:
        tok = self.next()
        if tok == "[":
            count = self.next()
            if self.next() != "x":
                raise self.error("expected 'x' in array type")
            elem = self.parse_type()
            self.expect("]")
            return f"[{count} x {elem}]"
        if tok in ("{", "<{"):
            close = "}" if tok == "{" else "}>"
            fields: list[str] = []
            if not self.accept(close):
                fields.append(self.parse_type())
                while self.accept(","):
                    fields.append(self.parse_type())
                self.expect(close)
            return f"{tok} {', '.join(fields)} {close}" if fields else f"{tok}{close}"
        if tok in ("ptr", "void", "label") or (tok[:1] == "i" and tok[1:].isdigit()):
            return tok
        self.pos -= 1
        raise self.error("expected a type")

    # -- values --
    def parse_value(self, ty: str) -> Value:
        tok = self.next()
        head = tok[0]
        if head == "%":
            return Local(ty, _name(tok))
        if head == "-" or head.isdigit():
            return Const(ty, int(tok))
        if head == "@":
            return GlobalRef(_name(tok), ty)
        if tok == "true":
            return Const(ty, 1)
        if tok == "false":
            return Const(ty, 0)
        if tok == "null":
            return Null(ty)
        if tok in ("undef", "poison"):
            return Undef(ty, tok)
        if tok == "zeroinitializer":
            return ZeroInit(ty)
        if tok == "getelementptr":
            return self.parse_const_gep()
        if tok in ("[", "{", "<{"):
            close = {"[": "]", "{": "}", "<{": "}>"}[tok]
            elements: list[Value] = []
            if not self.accept(close):
                elements.append(self.parse_typed_value())
                while self.accept(","):
                    elements.append(self.parse_typed_value())
                self.expect(close)
            return ArrayInit(ty, tuple(elements))
        if tok.startswith('c"'):
            return ArrayInit(ty, tuple(Const("i8", b) for b in _c_string_bytes(tok[2:-1])))
        self.pos -= 1
        raise self.error("expected a value")

    def parse_typed_value(self) -> Value:
        ty = self.parse_type()
        self.skip_attributes()
        return self.parse_value(ty)

    def parse_const_gep(self) -> ConstGEP:
        flags = self.parse_flags()
        self.expect("(")
        source_ty = self.parse_type()
        self.expect(",")
        base = self.parse_typed_value()
        indices: list[Const] = []
        while self.accept(","):
            self.accept("inrange")
            index = self.parse_typed_value()
            if not isinstance(index, Const):
                raise self.error("constant getelementptr index must be an integer")
            indices.append(index)
        self.expect(")")
        inbounds = "inbounds" in flags
        if isinstance(base, GlobalRef):
            return ConstGEP(source_ty, base, tuple(indices), inbounds)
        if isinstance(base, ConstGEP):
            return fold_nested_gep(base, source_ty, indices, inbounds)
        raise self.error("constant getelementptr base must be a global")

    def parse_flags(self) -> frozenset[str]:
        flags: set[str] = set()
        while self.peek() in _INSTR_FLAGS:
            flags.add(self.next())
        return frozenset(flags)

    def parse_label_ref(self) -> str:
        if self.next() != "label":
            self.pos -= 1
            raise self.error("expected 'label'")
        tok = self.next()
        if tok[0] != "%":
            raise self.error("expected a label name")
        return _name(tok)

    # -- instructions --
    def parse_instr(self) -> Instr:
        result: str | None = None
        if self.peek()[:1] == "%" and self.peek(1) == "=":
            result = _name(self.next())
            self.pos += 1
        op = self.next()
        if op in ("tail", "musttail", "notail"):
            op = self.next()
        instr = self._parse_body(op, result)
        return instr

    def _parse_body(self, op: str, result: str | None) -> Instr:
        if op in BINARY_OPS:
            flags = self.parse_flags()
            ty = self.parse_type()
            a = self.parse_value(ty)
            self.expect(",")
            b = self.parse_value(ty)
            return Instr(op, result, ty, [a, b], flags=flags)
        if op == "icmp":
            self.parse_flags()
            pred = self.next()
            ty = self.parse_type()
            a = self.parse_value(ty)
            self.expect(",")
            b = self.parse_value(ty)
            return Instr(op, result, ty, [a, b], pred=pred)
        if op == "load":
            self.accept("volatile")
            ty = self.parse_type()
            self.expect(",")
            ptr = self.parse_typed_value()
            return Instr(op, result, ty, [ptr])
        if op == "store":
            self.accept("volatile")
            ty = self.parse_type()
            value = self.parse_value(ty)
            self.expect(",")
            ptr = self.parse_typed_value()
            return Instr(op, None, ty, [value, ptr])
        if op == "getelementptr":
            flags = self.parse_flags()
            source_ty = self.parse_type()
            self.expect(",")
            gep_operands = [self.parse_typed_value()]
            while self.peek() == "," and self.is_type_start_at(1):
                self.pos += 1
                self.accept("inrange")
                gep_operands.append(self.parse_typed_value())
            return Instr(op, result, "ptr", gep_operands, alloc_ty=source_ty, flags=flags)
        if op == "call":
            return self.parse_call(result)
        if op == "phi":
            ty = self.parse_type()
            incoming: list[tuple[Value, str]] = []
            while True:
                self.expect("[")
                value = self.parse_value(ty)
                self.expect(",")
                label = self.next()
                if label[0] != "%":
                    raise self.error("expected a block label in phi")
                self.expect("]")
                incoming.append((value, _name(label)))
                if not (self.peek() == "," and self.peek(1) == "["):
                    break
                self.pos += 1
            return Instr(op, result, ty, incoming=incoming)
        if op == "br":
            if self.peek() == "label":
                return Instr(op, targets=[self.parse_label_ref()])
            cond = self.parse_typed_value()
            self.expect(",")
            then = self.parse_label_ref()
            self.expect(",")
            other = self.parse_label_ref()
            return Instr(op, operands=[cond], targets=[then, other])
        if op in CAST_OPS:
            flags = self.parse_flags()
            x = self.parse_typed_value()
            if self.next() != "to":
                self.pos -= 1
                raise self.error("expected 'to'")
            ty = self.parse_type()
            return Instr(op, result, ty, [x], flags=flags)
        if op == "select":
            cond = self.parse_typed_value()
            self.expect(",")
            a = self.parse_typed_value()
            self.expect(",")
            b = self.parse_typed_value()
            return Instr(op, result, _value_type(a), [cond, a, b])
        if op == "freeze":
            x = self.parse_typed_value()
            return Instr(op, result, _value_type(x), [x])
        if op == "alloca":
            self.accept("inalloca")
            alloc_ty = self.parse_type()
            operands: list[Value] = []
            if self.peek() == "," and self.is_type_start_at(1):
                self.pos += 1
                operands.append(self.parse_typed_value())
            return Instr(op, result, "ptr", operands, alloc_ty=alloc_ty)
        if op == "ret":
            if self.accept("void"):
                return Instr(op)
            x = self.parse_typed_value()
            return Instr(op, ty=_value_type(x), operands=[x])
        if op == "switch":
            ty = self.parse_type()
            x = self.parse_value(ty)
            self.expect(",")
            default = self.parse_label_ref()
            self.expect("[")
            cases: list[tuple[int, str]] = []
            while not self.accept("]"):
                case_value = self.parse_typed_value()
                if not isinstance(case_value, Const):
                    raise self.error("switch case must be an integer constant")
                self.expect(",")
                cases.append((case_value.value, self.parse_label_ref()))
            return Instr(op, ty=ty, operands=[x], targets=[default], cases=cases)
        if op == "unreachable":
            return Instr(op)
        self.pos -= 1
        raise self.error(f"unsupported instruction {op!r}")

    def is_type_start_at(self, offset: int) -> bool:
        saved = self.pos
        self.pos += offset
        try:
            return self.is_type_start()
        finally:
            self.pos = saved

    def parse_call(self, result: str | None) -> Instr:
        self.parse_flags()
        self.skip_attributes()
        ret_ty = self.parse_type()
        varargs = False
        if self.peek() == "(":
            # explicit function type `T (A, ...)`
            self.pos += 1
            while not self.accept(")"):
                if self.accept("..."):
                    varargs = True
                else:
                    self.parse_type()
                    self.skip_attributes()
                self.accept(",")
        callee = self.next()
        if callee[0] != "@":
            raise self.error("only direct calls are supported")
        self.expect("(")
        args: list[Value] = []
        if not self.accept(")"):
            args.append(self.parse_typed_value())
            while self.accept(","):
                args.append(self.parse_typed_value())
            self.expect(")")
        return Instr("call", result, ret_ty, args, callee=_name(callee), varargs=varargs)


def _c_string_bytes(body: str) -> list[int]:
    """Bytes of a `c"..."` body (`\\XX` are hex escapes)."""
    raw = body.encode("utf-8", errors="surrogateescape")
    out: list[int] = []
    i = 0
    while i < len(raw):
        if raw[i] == 0x5C and raw[i + 1 : i + 2] == b"\\":
            out.append(0x5C)
            i += 2
        elif raw[i] == 0x5C:
            out.append(int(raw[i + 1 : i + 3], 16))
            i += 3
        else:
            out.append(raw[i])
            i += 1
    return out


@functools.lru_cache(maxsize=4096)
def type_size(ty: str) -> int:
    """Allocation size in bytes of a type (x86-64 / RV64 layout; packed structs unpadded)."""
    if ty == "ptr":
        return 8
    if ty[0] == "i":
        return max(1, (int(ty[1:]) + 7) // 8)
    if ty[0] == "[":
        count, elem = split_array_type(ty)
        return count * type_size(elem)
    if ty.startswith("<{"):
        return sum(type_size(f) for f in split_struct_type(ty))
    raise ValueError(f"no size for type {ty!r}")


@functools.lru_cache(maxsize=4096)
def split_array_type(ty: str) -> tuple[int, str]:
    """`[N x T]` to (N, T)."""
    count, _, elem = ty[1:-1].partition(" x ")
    return int(count), elem


def split_struct_type(ty: str) -> list[str]:
    """`<{ A, B }>` / `{ A, B }` to [A, B] (splitting at top-level commas)."""
    inner = ty[2:-2] if ty.startswith("<{") else ty[1:-1]
    fields: list[str] = []
    depth = 0
    start = 0
    for i, ch in enumerate(inner):
        if ch in "[{<":
            depth += 1
        elif ch in "]}>":
            depth -= 1
        elif ch == "," and depth == 0:
            fields.append(inner[start:i].strip())
            start = i + 1
    if inner.strip():
        fields.append(inner[start:].strip())
    return fields


def gep_offset(source_ty: str, indices: list[int]) -> int:
    """Byte offset of `getelementptr source_ty, p, indices...` from p."""
    offset = indices[0] * type_size(source_ty) if indices else 0
    ty = source_ty
    for index in indices[1:]:
        if ty[0] == "[":
            _, ty = split_array_type(ty)
            offset += index * type_size(ty)
        else:
            fields = split_struct_type(ty)
            offset += sum(type_size(f) for f in fields[:index])
            ty = fields[index]
    return offset


def gep_result_type(source_ty: str, index_count: int) -> str:
    """The element type a GEP with `index_count` indices points at."""
    ty = source_ty
    for _ in range(index_count - 1):
        ty = split_array_type(ty)[1]
    return ty


def fold_nested_gep(
    inner: ConstGEP, source_ty: str, indices: list[Const], inbounds: bool
) -> ConstGEP:
    """gep(T2, gep(T1, @g, a...), b...) as one constant GEP on @g."""
    arrays_only = "{" not in inner.source_ty
    if (
        arrays_only
        and indices
        and indices[0].value == 0
        and gep_result_type(inner.source_ty, len(inner.indices)) == source_ty
    ):
        merged = inner.indices + tuple(indices[1:])
        return ConstGEP(inner.source_ty, inner.base, merged, inner.inbounds and inbounds)
    offset = gep_offset(inner.source_ty, [c.value for c in inner.indices])
    offset += gep_offset(source_ty, [c.value for c in indices])
    return ConstGEP("i8", inner.base, (Const("i64", offset),), inner.inbounds and inbounds)


def _value_type(value: Value) -> str:
    return value.ty


_LABEL_RE = re.compile(r'^\s*([-a-zA-Z$._0-9]+|"[^"]*"):')


def _parse_global(p: _LineParser) -> GlobalVar:
    name = _name(p.next())
    p.expect("=")
    linkage = ""
    external = False
    while p.peek() not in ("global", "constant"):
        tok = p.next()
        if tok in _LINKAGES:
            linkage = tok
            external = external or tok == "external"
        elif tok in ("extern_weak",):
            external = True
        elif not tok:
            raise p.error("expected 'global' or 'constant'")
    constant = p.next() == "constant"
    ty = p.parse_type()
    init: Value | None = None
    if not external:
        init = p.parse_value(ty)
    align: int | None = None
    while p.accept(","):
        if p.accept("align"):
            align = int(p.next())
        else:
            while not p.at_end() and p.peek() != ",":
                p.pos += 1
    if linkage == "external":
        linkage = ""
    return GlobalVar(name, ty, init, constant, align, linkage)


def _parse_function_header(p: _LineParser) -> Function:
    kind = p.next()  # define / declare
    while p.peek() in _LINKAGES or p.peek() in ("dso_local", "dso_preemptable", "hidden"):
        p.pos += 1
    p.skip_attributes()
    ret_ty = p.parse_type()
    name_tok = p.next()
    if name_tok[0] != "@":
        raise p.error("expected a function name")
    p.expect("(")
    params: list[Param] = []
    varargs = False
    index = 0
    while not p.accept(")"):
        if p.accept("..."):
            varargs = True
        else:
            ty = p.parse_type()
            p.skip_attributes()
            if p.peek()[:1] == "%":
                params.append(Param(ty, _name(p.next())))
            else:
                params.append(Param(ty, str(index)))
            index += 1
        p.accept(",")
    if kind == "define" and p.tokens[-1] != "{":
        raise p.error("expected '{' at the end of a function definition")
    return Function(_name(name_tok), ret_ty, params, [], varargs)


def parse_module(text: str) -> Module:
    """Parse textual LLVM IR into a Module.

    Raises IRParseError (a ValueError) with the 1-based line number on malformed or
    unsupported input. Attributes, metadata, alignment of memory accesses and comments are
    dropped.
    """
    module = Module()
    lines = text.split("\n")
    n = len(lines)
    i = 0
    while i < n:
        raw = lines[i]
        lineno = i + 1
        i += 1
        stripped = raw.strip()
        if (
            not stripped
            or stripped[0] in ";!"
            or stripped.startswith(("attributes ", "source_filename"))
        ):
            continue
        if stripped.startswith("target "):
            m = re.match(r'target\s+(datalayout|triple)\s*=\s*"([^"]*)"', stripped)
            if m is not None:
                if m.group(1) == "datalayout":
                    module.datalayout = m.group(2)
                else:
                    module.triple = m.group(2)
            continue
        code = _strip_comment(raw)
        if stripped[0] == "@":
            module.globals.append(_parse_global(_LineParser(_tokenize(code, lineno), lineno)))
            continue
        if stripped.startswith("declare"):
            p = _LineParser(_tokenize(code, lineno), lineno)
            module.functions.append(_parse_function_header(p))
            continue
        if stripped.startswith("define"):
            p = _LineParser(_tokenize(code, lineno), lineno)
            func = _parse_function_header(p)
            i = _parse_body(func, lines, i)
            module.functions.append(func)
            continue
        raise IRParseError(f"unexpected top-level line {stripped[:40]!r}", lineno)
    return module


def _parse_body(func: Function, lines: list[str], i: int) -> int:
    """Parse the blocks of `func` from lines[i:] up to the closing `}`; return the next index."""
    n = len(lines)
    block: Block | None = None
    next_number = sum(1 for p in func.params if p.name.isdigit())
    while i < n:
        lineno = i + 1
        code = _strip_comment(lines[i])
        i += 1
        stripped = code.strip()
        if not stripped:
            continue
        if stripped == "}":
            return i
        m = _LABEL_RE.match(code)
        if m is not None and not stripped.startswith("%"):
            label = m.group(1)
            if label.startswith('"'):
                label = label[1:-1]
            block = Block(label)
            func.blocks.append(block)
            if label.isdigit():
                next_number = int(label) + 1
            continue
        if block is None:
            block = Block(str(next_number))
            next_number += 1
            func.blocks.append(block)
        if stripped.endswith("[") and "switch" in stripped:
            parts = [code]
            while i < n and not lines[i].strip().startswith("]"):
                parts.append(_strip_comment(lines[i]))
                i += 1
            if i < n:
                parts.append(_strip_comment(lines[i]))
                i += 1
            code = " ".join(parts)
        instr = _LineParser(_tokenize(code, lineno), lineno).parse_instr()
        if instr.result is not None and instr.result.isdigit():
            next_number = int(instr.result) + 1
        block.instrs.append(instr)
    raise IRParseError(f"function @{func.name} has no closing '}}'", n)


# ---- printing ---------------------------------------------------------------------------

_SIMPLE_NAME_RE = re.compile(r"^[-a-zA-Z$._][-a-zA-Z$._0-9]*$|^[0-9]+$")
_FLAG_ORDER = ("inbounds", "nusw", "nuw", "nsw", "exact", "disjoint", "nneg", "samesign")
_INTRINSIC_PARAMS = {
    # declarations of intrinsics need `immarg` on their immediate parameters
    "llvm.memset.p0.i64": "ptr, i8, i64, i1 immarg",
    "llvm.memcpy.p0.p0.i64": "ptr, ptr, i64, i1 immarg",
    "llvm.memmove.p0.p0.i64": "ptr, ptr, i64, i1 immarg",
    "llvm.lifetime.start.p0": "i64 immarg, ptr",
    "llvm.lifetime.end.p0": "i64 immarg, ptr",
    "llvm.abs.i32": "i32, i1 immarg",
    "llvm.abs.i64": "i64, i1 immarg",
}


def _sigil(sigil: str, name: str) -> str:
    if _SIMPLE_NAME_RE.match(name):
        return sigil + name
    return f'{sigil}"{name}"'


class _Printer:
    def __init__(self, module: Module) -> None:
        self.module = module
        self.signatures = {f.name: f for f in module.functions}
        self.rename: dict[str, str] = {}

    def local(self, name: str) -> str:
        return _sigil("%", self.rename.get(name, name))

    def value(self, value: Value) -> str:
        if isinstance(value, Const):
            if value.ty == "i1":
                return "true" if value.value & 1 else "false"
            return str(value.value)
        if isinstance(value, Local):
            return self.local(value.name)
        if isinstance(value, GlobalRef):
            return _sigil("@", value.name)
        if isinstance(value, Undef):
            return value.kind
        if isinstance(value, Null):
            return "null"
        if isinstance(value, ZeroInit):
            return "zeroinitializer"
        if isinstance(value, ConstGEP):
            flag = "inbounds " if value.inbounds else ""
            parts = [value.source_ty, f"ptr {self.value(value.base)}"]
            parts += [f"{i.ty} {i.value}" for i in value.indices]
            return f"getelementptr {flag}({', '.join(parts)})"
        elements = ", ".join(self.typed(e) for e in value.elements)
        if value.ty.startswith("<{"):
            return f"<{{ {elements} }}>"
        if value.ty.startswith("{"):
            return f"{{ {elements} }}"
        return f"[{elements}]"

    def typed(self, value: Value) -> str:
        return f"{value.ty} {self.value(value)}"

    def global_var(self, g: GlobalVar) -> str:
        kind = "constant" if g.constant else "global"
        if g.init is None:
            text = f"{_sigil('@', g.name)} = external {kind} {g.ty}"
        else:
            linkage = f"{g.linkage} " if g.linkage else "dso_local "
            if g.linkage in ("private", "internal"):
                linkage = f"{g.linkage} unnamed_addr " if g.linkage == "private" else "internal "
            text = f"{_sigil('@', g.name)} = {linkage}{kind} {g.ty} {self.value(g.init)}"
        if g.align is not None:
            text += f", align {g.align}"
        return text

    def number_locals(self, func: Function) -> None:
        """Renumber unnamed (numeric) values and blocks densely, as LLVM requires."""
        self.rename = {}
        counter = 0

        def assign(name: str) -> None:
            nonlocal counter
            if name.isdigit():
                self.rename[name] = str(counter)
                counter += 1

        for param in func.params:
            assign(param.name)
        for block in func.blocks:
            assign(block.label)
            for instr in block.instrs:
                if instr.result is not None and instr.ty != "void":
                    assign(instr.result)

    def declaration(self, func: Function) -> str:
        params = _INTRINSIC_PARAMS.get(func.name)
        if params is None:
            types = [p.ty for p in func.params]
            if func.varargs:
                types.append("...")
            params = ", ".join(types)
        return f"declare {func.ret_ty} {_sigil('@', func.name)}({params})"

    def function(self, func: Function) -> list[str]:
        if not func.blocks:
            return [self.declaration(func)]
        self.number_locals(func)
        params = [f"{p.ty} {self.local(p.name)}" for p in func.params]
        if func.varargs:
            params.append("...")
        lines = [f"define dso_local {func.ret_ty} {_sigil('@', func.name)}({', '.join(params)}) {{"]
        for index, block in enumerate(func.blocks):
            label = self.rename.get(block.label, block.label)
            if index > 0 or not label.isdigit():
                if index > 0:
                    lines.append("")
                lines.append(
                    f"{_sigil('', label) if _SIMPLE_NAME_RE.match(label) else chr(34) + label + chr(34)}:"
                )
            lines.extend("  " + self.instr(instr) for instr in block.instrs)
        lines.append("}")
        return lines

    def label(self, name: str) -> str:
        return "label " + self.local(name)

    def instr(self, instr: Instr) -> str:
        op = instr.op
        prefix = f"{self.local(instr.result)} = " if instr.result is not None else ""
        flags = "".join(f"{f} " for f in _FLAG_ORDER if f in instr.flags)
        ops = instr.operands
        if op in BINARY_OPS:
            return f"{prefix}{op} {flags}{instr.ty} {self.value(ops[0])}, {self.value(ops[1])}"
        if op == "icmp":
            return (
                f"{prefix}icmp {instr.pred} {instr.ty} {self.value(ops[0])}, {self.value(ops[1])}"
            )
        if op == "load":
            return f"{prefix}load {instr.ty}, {self.typed(ops[0])}"
        if op == "store":
            return f"store {instr.ty} {self.value(ops[0])}, {self.typed(ops[1])}"
        if op == "getelementptr":
            parts = ", ".join(self.typed(v) for v in ops)
            return f"{prefix}getelementptr {flags}{instr.alloc_ty}, {parts}"
        if op == "call":
            return prefix + self.call(instr)
        if op == "phi":
            pairs = ", ".join(
                f"[ {self.value(v)}, {self.local(label)} ]" for v, label in instr.incoming
            )
            return f"{prefix}phi {instr.ty} {pairs}"
        if op == "br":
            if ops:
                return (
                    f"br {self.typed(ops[0])}, {self.label(instr.targets[0])}, "
                    f"{self.label(instr.targets[1])}"
                )
            return f"br {self.label(instr.targets[0])}"
        if op in CAST_OPS:
            return f"{prefix}{op} {flags}{self.typed(ops[0])} to {instr.ty}"
        if op == "select":
            args = ", ".join(self.typed(v) for v in ops)
            return f"{prefix}select {args}"
        if op == "freeze":
            return f"{prefix}freeze {self.typed(ops[0])}"
        if op == "alloca":
            count = f", {self.typed(ops[0])}" if ops else ""
            return f"{prefix}alloca {instr.alloc_ty}{count}"
        if op == "ret":
            return f"ret {self.typed(ops[0])}" if ops else "ret void"
        if op == "switch":
            cases = " ".join(
                f"{instr.ty} {value}, {self.label(label)}" for value, label in instr.cases
            )
            return f"switch {self.typed(ops[0])}, {self.label(instr.targets[0])} [ {cases} ]"
        if op == "unreachable":
            return "unreachable"
        raise ValueError(f"cannot print instruction {op!r}")

    def call(self, instr: Instr) -> str:
        callee = instr.callee or ""
        args = ", ".join(self.typed(v) for v in instr.operands)
        fnty = ""
        target = self.signatures.get(callee)
        if instr.varargs or (target is not None and target.varargs):
            fixed = [p.ty for p in target.params] if target is not None else []
            fnty = f" ({', '.join([*fixed, '...'])})"
        return f"call {instr.ty}{fnty} {_sigil('@', callee)}({args})"

    def module_text(self) -> str:
        lines: list[str] = []
        if self.module.datalayout is not None:
            lines.append(f'target datalayout = "{self.module.datalayout}"')
        if self.module.triple is not None:
            lines.append(f'target triple = "{self.module.triple}"')
        if lines:
            lines.append("")
        lines.extend(self.global_var(g) for g in self.module.globals)
        for func in self.module.functions:
            lines.append("")
            lines.extend(self.function(func))
        return "\n".join(lines) + "\n"


def print_module(m: Module) -> str:
    """Print a Module as textual LLVM IR that LLVM 19 accepts.

    Unnamed (numeric) values and blocks are renumbered densely in definition order;
    definitions are printed `dso_local`; attributes and metadata are not printed.
    """
    return _Printer(m).module_text()
