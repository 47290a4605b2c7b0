"""The parser: clang's token stream of a SysY program to clang's JSON AST (as dicts)."""

from __future__ import annotations

from typing import Any

from .ast_consteval import ConstantFolder, is_integer_constant, print_expression
from .ast_init import BraceList, InitItem, build_initializer
from .ast_scope import FunctionRecord, Scopes, VarRecord
from .ast_sema import Expr, Sema, SemanticError
from .ast_types import (
    INT,
    VOID,
    Array,
    Builtin,
    CType,
    Function,
    adjust_parameter,
    has_vla,
    spell,
)

__all__ = ["parse_translation_unit"]

Node = dict[str, Any]

# binary operator precedence (higher binds tighter); `=` is handled separately
_PRECEDENCE = {
    "pipepipe": 1,
    "ampamp": 2,
    "equalequal": 3,
    "exclaimequal": 3,
    "less": 4,
    "greater": 4,
    "lessequal": 4,
    "greaterequal": 4,
    "plus": 5,
    "minus": 5,
    "star": 6,
    "slash": 6,
    "percent": 6,
}
_UNARY = frozenset({"plus", "minus", "exclaim", "tilde"})
_TYPE_STARTS = frozenset({"int", "void", "const"})


class Parser:
    def __init__(self, tokens: list[tuple[str, str, str]]) -> None:
        self.kinds = [kind for kind, _, _ in tokens]
        self.spellings = [spelling for _, spelling, _ in tokens]
        self.locations = [location for _, _, location in tokens]
        if not self.kinds or self.kinds[-1] != "eof":
            self.kinds.append("eof")
            self.spellings.append("")
            self.locations.append("end of input")
        self.position = 0
        self.sema = Sema()
        self.scopes = Scopes()
        self.variables: dict[str, VarRecord] = {}
        self.folder = ConstantFolder(self._constant_init, self._array_sizes)
        self.function_result: CType = INT

    # -- token helpers ------------------------------------------------------------------

    def peek(self, ahead: int = 0) -> str:
        index = min(self.position + ahead, len(self.kinds) - 1)
        return self.kinds[index]

    def advance(self) -> str:
        """Consume the current token (never the final eof) and return its spelling."""
        spelling = self.spellings[self.position]
        if self.position < len(self.kinds) - 1:
            self.position += 1
        return spelling

    def accept(self, kind: str) -> bool:
        if self.kinds[self.position] == kind:
            self.advance()
            return True
        return False

    def expect(self, kind: str) -> str:
        if self.kinds[self.position] != kind:
            raise self.error(f"expected {kind}")
        return self.advance()

    def error(self, message: str) -> SemanticError:
        where = self.locations[self.position]
        found = self.spellings[self.position] or self.kinds[self.position]
        return SemanticError(f"{where}: {message}, found '{found}'")

    # -- constant folding support -------------------------------------------------------

    def _constant_init(self, declaration: str) -> Node | None:
        record = self.variables.get(declaration)
        if record is None or not record.is_const:
            return None
        return record.init

    def _array_sizes(self, declaration: str) -> list[int | None]:
        record = self.variables.get(declaration)
        return record.array_sizes() if record is not None else []

    # -- translation unit ---------------------------------------------------------------

    def translation_unit(self) -> Node:
        inner: list[Node] = []
        while self.peek() != "eof":
            if self.accept("semi"):
                continue
            inner.extend(self.external_declaration())
        return {"id": self.sema.new_id(), "kind": "TranslationUnitDecl", "inner": inner}

    def declaration_specifiers(self) -> Builtin:
        const = False
        base: Builtin | None = None
        while self.peek() in _TYPE_STARTS:
            kind = self.peek()
            self.advance()
            if kind == "const":
                const = True
            elif base is not None:
                raise self.error("two types in one declaration")
            else:
                base = INT if kind == "int" else VOID
        if base is None:
            raise self.error("expected a type")
        return Builtin(base.name, const)

    def external_declaration(self) -> list[Node]:
        base = self.declaration_specifiers()
        if self.peek() == "identifier" and self.peek(1) == "l_paren":
            return [self.function(base)]
        return self.variable_declarators(base)

    # -- functions ----------------------------------------------------------------------

    def function(self, result: Builtin) -> Node:
        name = self.expect("identifier")
        self.expect("l_paren")
        self.scopes.push()
        parameters: list[Node] = []
        records: list[VarRecord] = []
        prototyped = True
        if self.accept("r_paren"):
            prototyped = False
        elif self.peek() == "void" and self.peek(1) == "r_paren":
            self.advance()
            self.advance()
        else:
            while True:
                record, parameter = self.parameter()
                records.append(record)
                parameters.append(parameter)
                if not self.accept("comma"):
                    break
            self.expect("r_paren")
        params = tuple(r.ctype for r in records) if prototyped else None
        ctype = Function(result, params)
        node: Node = {
            "id": self.sema.new_id(),
            "kind": "FunctionDecl",
            "name": name,
            "type": {"qualType": spell(ctype)},
        }
        previous = self.scopes.lookup_file_scope(name)
        if isinstance(previous, FunctionRecord):
            node["previousDecl"] = previous.id
        self.scopes.pop()
        self.scopes.declare(FunctionRecord(node["id"], name, ctype))
        inner = parameters
        if self.peek() == "l_brace":
            self.scopes.push()
            for record in records:
                if record.name:
                    self.scopes.declare(record)
            self.function_result = result
            inner = [*parameters, self.compound_statement(new_scope=False)]
            self.scopes.pop()
        else:
            self.expect("semi")
        if inner:
            node["inner"] = inner
        return node

    def parameter(self) -> tuple[VarRecord, Node]:
        base = self.declaration_specifiers()
        name = self.advance() if self.peek() == "identifier" else ""
        dimensions: list[Expr | None] = []
        while self.accept("l_square"):
            if self.accept("r_square"):
                dimensions.append(None)
                continue
            dimensions.append(self.assignment_expression())
            self.expect("r_square")
        ctype = adjust_parameter(self.array_type(base, dimensions, fold=False))
        record = VarRecord(self.sema.new_id(), "ParmVarDecl", name, ctype)
        self.variables[record.id] = record
        node: Node = {"id": record.id, "kind": "ParmVarDecl"}
        if name:
            self.scopes.declare(record)
            node["name"] = name
        node["type"] = {"qualType": spell(ctype)}
        return record, node

    # -- variables ----------------------------------------------------------------------

    def array_type(self, base: CType, dimensions: list[Expr | None], *, fold: bool) -> CType:
        """The declared type; ``fold`` folds variable sizes to constants where clang does."""
        ctype = base
        for dimension in reversed(dimensions):
            if dimension is None:
                ctype = Array(ctype, None)
                continue
            node = dimension.node
            if fold or (is_integer_constant(node) and not has_vla(ctype)):
                size = self.folder.fold(node)
                if size is not None:
                    ctype = Array(ctype, size)
                    continue
            ctype = Array(ctype, None, print_expression(node))
        return ctype

    def variable_declarators(self, base: Builtin) -> list[Node]:
        declarations = []
        while True:
            declarations.append(self.variable(base))
            if not self.accept("comma"):
                break
        self.expect("semi")
        return declarations

    def variable(self, base: Builtin) -> Node:
        name = self.expect("identifier")
        dimensions: list[Expr | None] = []
        while self.accept("l_square"):
            dimensions.append(self.assignment_expression())
            self.expect("r_square")
        has_init = self.peek() == "equal"
        ctype = self.array_type(base, dimensions, fold=False)
        # clang folds a variable length array at file scope, or one with an initialiser.
        if has_vla(ctype) and (self.scopes.at_file_scope or has_init):
            ctype = self.array_type(base, dimensions, fold=True)
        record = VarRecord(self.sema.new_id(), "VarDecl", name, ctype)
        self.variables[record.id] = record
        self.scopes.declare(record)
        node: Node = {
            "id": record.id,
            "kind": "VarDecl",
            "name": name,
            "type": {"qualType": spell(ctype)},
        }
        if self.accept("equal"):
            record.init = build_initializer(self.sema, ctype, self.initializer())
            node["init"] = "c"
            node["inner"] = [record.init]
        return node

    def initializer(self) -> InitItem:
        if not self.accept("l_brace"):
            return self.assignment_expression()
        items: list[InitItem] = []
        while not self.accept("r_brace"):
            items.append(self.initializer())
            if not self.accept("comma"):
                self.expect("r_brace")
                break
        return BraceList(items)

    # -- statements ---------------------------------------------------------------------

    def compound_statement(self, *, new_scope: bool = True) -> Node:
        self.expect("l_brace")
        if new_scope:
            self.scopes.push()
        inner: list[Node] = []
        while not self.accept("r_brace"):
            if self.peek() == "eof":
                raise self.error("expected '}'")
            inner.append(self.block_item())
        if new_scope:
            self.scopes.pop()
        node: Node = {"id": self.sema.new_id(), "kind": "CompoundStmt"}
        if inner:
            node["inner"] = inner
        return node

    def block_item(self) -> Node:
        if self.peek() in _TYPE_STARTS:
            base = self.declaration_specifiers()
            return {
                "id": self.sema.new_id(),
                "kind": "DeclStmt",
                "inner": self.variable_declarators(base),
            }
        return self.statement()

    def statement(self) -> Node:
        kind = self.peek()
        if kind == "l_brace":
            return self.compound_statement()
        if kind == "semi":
            self.advance()
            return {"id": self.sema.new_id(), "kind": "NullStmt"}
        if kind == "if":
            return self.if_statement()
        if kind == "while":
            self.advance()
            condition = self.condition()
            body = self.statement()
            return {"id": self.sema.new_id(), "kind": "WhileStmt", "inner": [condition, body]}
        if kind in ("break", "continue"):
            self.advance()
            self.expect("semi")
            name = "BreakStmt" if kind == "break" else "ContinueStmt"
            return {"id": self.sema.new_id(), "kind": name}
        if kind == "return":
            return self.return_statement()
        expression = self.sema.discarded(self.expression())
        self.expect("semi")
        return expression.node

    def condition(self) -> Node:
        self.expect("l_paren")
        value = self.sema.rvalue(self.expression())
        self.expect("r_paren")
        return value.node

    def if_statement(self) -> Node:
        self.advance()
        condition = self.condition()
        then = self.statement()
        node: Node = {"id": self.sema.new_id(), "kind": "IfStmt"}
        if self.accept("else"):
            node["hasElse"] = True
            node["inner"] = [condition, then, self.statement()]
        else:
            node["inner"] = [condition, then]
        return node

    def return_statement(self) -> Node:
        self.advance()
        node: Node = {"id": self.sema.new_id(), "kind": "ReturnStmt"}
        if not self.accept("semi"):
            value = self.sema.rvalue(self.expression())
            if self.function_result != VOID:
                value = self.sema.convert(value, self.function_result)
            node["inner"] = [value.node]
            self.expect("semi")
        return node

    # -- expressions --------------------------------------------------------------------

    def expression(self) -> Expr:
        return self.assignment_expression()

    def assignment_expression(self) -> Expr:
        left = self.binary_expression(1)
        if self.accept("equal"):
            return self.sema.assign(left, self.assignment_expression())
        return left

    def binary_expression(self, lowest: int) -> Expr:
        left = self.unary_expression()
        while True:
            precedence = _PRECEDENCE.get(self.kinds[self.position])
            if precedence is None or precedence < lowest:
                return left
            opcode = self.advance()
            right = self.binary_expression(precedence + 1)
            left = self.sema.binary(opcode, left, right)

    def unary_expression(self) -> Expr:
        if self.kinds[self.position] in _UNARY:
            opcode = self.advance()
            return self.sema.unary(opcode, self.unary_expression())
        return self.postfix_expression()

    def postfix_expression(self) -> Expr:
        expression = self.primary_expression()
        while True:
            if self.accept("l_square"):
                index = self.expression()
                self.expect("r_square")
                expression = self.sema.subscript(expression, index)
            elif self.accept("l_paren"):
                arguments: list[Expr] = []
                if not self.accept("r_paren"):
                    while True:
                        arguments.append(self.assignment_expression())
                        if not self.accept("comma"):
                            break
                    self.expect("r_paren")
                expression = self.sema.call(expression, arguments)
            else:
                return expression

    def primary_expression(self) -> Expr:
        kind = self.kinds[self.position]
        if kind == "identifier":
            name = self.spellings[self.position]
            record = self.scopes.lookup(name)
            if record is None:
                raise self.error(f"use of undeclared identifier '{name}'")
            self.advance()
            return self.sema.declaration_reference(record)
        if kind == "numeric_constant":
            return self.sema.integer_literal(self.advance())
        if kind == "l_paren":
            self.advance()
            inner = self.expression()
            self.expect("r_paren")
            return self.sema.paren(inner)
        raise self.error("expected an expression")


def parse_translation_unit(tokens: list[tuple[str, str, str]]) -> Node:
    """The TranslationUnitDecl of (kind, spelling, location) tokens.

    clang's implicit declarations (builtin typedefs) are left out.
    """
    return Parser(tokens).translation_unit()
