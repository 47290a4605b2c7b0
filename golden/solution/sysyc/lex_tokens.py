"""The lexer: preprocessed C text (with line markers) to clang's token stream."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Token", "tokenize"]


@dataclass(frozen=True, slots=True)
class Token:
    """One token with clang's kind name and its presumed location (after line markers)."""

    kind: str
    spelling: str
    file: str
    line: int
    col: int
    start_of_line: bool = False
    leading_space: bool = False


# clang's C keywords (gnu17, clang's default C dialect); the token kind is the keyword.
_KEYWORDS = frozenset(
    (
        "auto",
        "break",
        "case",
        "char",
        "const",
        "continue",
        "default",
        "do",
        "double",
        "else",
        "enum",
        "extern",
        "float",
        "for",
        "goto",
        "if",
        "inline",
        "int",
        "long",
        "register",
        "restrict",
        "return",
        "short",
        "signed",
        "sizeof",
        "static",
        "struct",
        "switch",
        "typedef",
        "union",
        "unsigned",
        "void",
        "volatile",
        "while",
        "_Alignas",
        "_Alignof",
        "_Atomic",
        "_Bool",
        "_Complex",
        "_Generic",
        "_Imaginary",
        "_Noreturn",
        "_Static_assert",
        "_Thread_local",
        "__func__",
        "asm",
        "typeof",
    )
)

_PUNCTUATORS = {
    "...": "ellipsis",
    "<<=": "lesslessequal",
    ">>=": "greatergreaterequal",
    "%:%:": "hashhash",
    "->": "arrow",
    "++": "plusplus",
    "--": "minusminus",
    "<<": "lessless",
    ">>": "greatergreater",
    "<=": "lessequal",
    ">=": "greaterequal",
    "==": "equalequal",
    "!=": "exclaimequal",
    "&&": "ampamp",
    "||": "pipepipe",
    "*=": "starequal",
    "/=": "slashequal",
    "%=": "percentequal",
    "+=": "plusequal",
    "-=": "minusequal",
    "&=": "ampequal",
    "^=": "caretequal",
    "|=": "pipeequal",
    "##": "hashhash",
    "<:": "l_square",
    ":>": "r_square",
    "<%": "l_brace",
    "%>": "r_brace",
    "%:": "hash",
    "[": "l_square",
    "]": "r_square",
    "(": "l_paren",
    ")": "r_paren",
    "{": "l_brace",
    "}": "r_brace",
    ".": "period",
    "&": "amp",
    "*": "star",
    "+": "plus",
    "-": "minus",
    "~": "tilde",
    "!": "exclaim",
    "/": "slash",
    "%": "percent",
    "<": "less",
    ">": "greater",
    "^": "caret",
    "|": "pipe",
    "?": "question",
    ":": "colon",
    ";": "semi",
    "=": "equal",
    ",": "comma",
    "#": "hash",
}

# Group numbers matter: the scanner dispatches on match.lastindex.
_NEWLINE, _SPACE, _LINE_COMMENT, _BLOCK_COMMENT, _IDENT, _NUMBER, _CHAR, _STRING, _PUNCT = range(
    1, 10
)
_SCAN = re.compile(
    r"(\r\n|\n|\r)"
    r"|([ \t\f\v]+)"
    r"|(//[^\r\n]*)"
    r"|(/\*.*?(?:\*/|\Z))"
    r"|([A-Za-z_$][A-Za-z0-9_$]*)"
    r"|(\.?[0-9](?:[eEpP][+-]|[0-9A-Za-z_.$])*)"
    r"|('(?:\\.|[^'\\\r\n])*'?)"
    r"|(\"(?:\\.|[^\"\\\r\n])*\"?)"
    r"|(" + "|".join(re.escape(p) for p in _PUNCTUATORS) + r")",
    re.DOTALL,
)
_LINE_MARKER = re.compile(r"[ \t]*(?:line[ \t]+)?([0-9]+)(?:[ \t]+\"((?:\\.|[^\"\\])*)\")?")
_NEWLINE_RUN = re.compile(r"\r\n|\n|\r")


class _Lexer:
    def __init__(self, text: str, file: str) -> None:
        self.text = text
        self.ascii = text.isascii()
        self.tokens: list[Token] = []
        self.file = file
        self.physical_line = 1
        self.line_start = 0
        # presumed line = physical line + line_shift (line markers move it)
        self.line_shift = 0
        self.start_of_line = True
        self.leading_space = False

    def column(self, offset: int) -> int:
        if self.ascii:
            return offset - self.line_start + 1
        return len(self.text[self.line_start : offset].encode("utf-8", "surrogateescape")) + 1

    def newline(self, end: int) -> None:
        self.physical_line += 1
        self.line_start = end
        self.start_of_line = True
        self.leading_space = False

    def directive(self, hash_end: int) -> int:
        """Apply the directive whose '#' ends at hash_end; return where its line ends."""
        found = _NEWLINE_RUN.search(self.text, hash_end)
        end = found.start() if found else len(self.text)
        marker = _LINE_MARKER.match(self.text, hash_end, end)
        if marker:
            self.line_shift = int(marker.group(1)) - (self.physical_line + 1)
            if marker.group(2) is not None:
                self.file = re.sub(r"\\(.)", r"\1", marker.group(2))
        return end

    def emit(self, kind: str, spelling: str, offset: int) -> None:
        self.tokens.append(
            Token(
                kind,
                spelling,
                self.file,
                self.physical_line + self.line_shift,
                self.column(offset),
                self.start_of_line,
                self.leading_space,
            )
        )
        self.start_of_line = False
        self.leading_space = False

    def run(self) -> list[Token]:
        text = self.text
        position = 0
        size = len(text)
        while position < size:
            match = _SCAN.match(text, position)
            if match is None:
                self.emit("unknown", text[position], position)
                position += 1
                continue
            group = match.lastindex
            spelling = match.group()
            start = position
            position = match.end()
            if group == _NEWLINE:
                self.newline(position)
            elif group in (_SPACE, _LINE_COMMENT):
                self.leading_space = True
            elif group == _BLOCK_COMMENT:
                self.block_comment(start, spelling)
            elif group == _IDENT:
                self.emit(spelling if spelling in _KEYWORDS else "identifier", spelling, start)
            elif group == _NUMBER:
                self.emit("numeric_constant", spelling, start)
            elif group == _CHAR:
                self.emit("char_constant", spelling, start)
            elif group == _STRING:
                self.emit("string_literal", spelling, start)
            elif self.start_of_line and _PUNCTUATORS[spelling] == "hash":
                position = self.directive(position)
            else:
                self.emit(_PUNCTUATORS[spelling], spelling, start)
        self.tokens.append(self.end_of_file())
        return self.tokens

    def block_comment(self, start: int, spelling: str) -> None:
        # Newlines inside a block comment advance the line but never mark StartOfLine.
        for inner in _NEWLINE_RUN.finditer(spelling):
            self.physical_line += 1
            self.line_start = start + inner.end()
        self.leading_space = True

    def end_of_file(self) -> Token:
        # clang puts eof on the file's last newline (or its end when there is none).
        text = self.text
        end = len(text)
        line = self.physical_line
        line_start = self.line_start
        if end and text[end - 1] in "\r\n":
            end -= 1
            if end and text[end - 1] in "\r\n" and text[end - 1] != text[end]:
                end -= 1
            line -= 1
            previous = max(text.rfind("\n", 0, end), text.rfind("\r", 0, end))
            line_start = previous + 1
        self.line_start = line_start
        return Token("eof", "", self.file, line + self.line_shift, self.column(end))


def tokenize(text: str, file: str = "") -> list[Token]:
    """clang's tokens of preprocessed text, ending with an eof token.

    Locations are in ``file`` until the first line marker names another.
    """
    return _Lexer(text, file).run()
