"""IR generation for one function body: statements and expressions, as clang -O0 does it.

Every local and parameter lives in an alloca of the entry block and is loaded at each
use; conditions branch directly (short-circuit `&&`/`||`, `!` swaps the targets); code
after `return`, `break` or `continue` in a block is dead and is not emitted.
"""

from __future__ import annotations

from .irgen_builder import Block, FunctionBuilder, Operand, Slot, operand_text
from .irgen_consts import (
    Node,
    evaluate_constant,
    flatten_initializer,
    reference_name,
    strip_parens_and_casts,
)
from .irgen_scope import FunctionSignature, ModuleState, Symbol
from .irgen_types import (
    INT,
    ArrayType,
    IntType,
    PointerType,
    ValueType,
    array_llvm_type,
    c_binary,
    element_count,
    parse_int_literal,
    parse_value_type,
    wrap_i32,
)

__all__ = ["CodegenError", "FunctionGenerator", "alloca_alignment"]

_ARITHMETIC = {"+": "add nsw", "-": "sub nsw", "*": "mul nsw", "/": "sdiv", "%": "srem"}
_PREDICATES = {"<": "slt", ">": "sgt", "<=": "sle", ">=": "sge", "==": "eq", "!=": "ne"}
_LVALUE_KINDS = ("DeclRefExpr", "ArraySubscriptExpr")

RValue = tuple[Operand, IntType | PointerType]
LValue = tuple[Slot | str, ValueType]


class CodegenError(ValueError):
    """An AST this generator does not understand."""


def alloca_alignment(value_type: ValueType) -> int:
    if isinstance(value_type, PointerType):
        return 8
    if isinstance(value_type, ArrayType) and element_count(value_type.dims) * 4 >= 16:
        return 16
    return 4


def _llvm_type(value_type: ValueType) -> str:
    if isinstance(value_type, PointerType):
        return "ptr"
    if isinstance(value_type, ArrayType):
        return array_llvm_type(value_type.dims)
    return "i32"


def _element_type(dims: tuple[int, ...]) -> IntType | ArrayType:
    return ArrayType(dims) if dims else INT


class FunctionGenerator:
    """Generates one function definition into a FunctionBuilder."""

    def __init__(self, state: ModuleState, signature: FunctionSignature) -> None:
        self.state = state
        self.scope = state.scope
        self.signature = signature
        self.builder = FunctionBuilder(signature.name, signature.return_type, signature.param_types)
        # (continue target, break target) of the enclosing loops
        self.loops: list[tuple[Block, Block]] = []
        self._statements = {
            "CompoundStmt": self._compound,
            "DeclStmt": self._declarations,
            "IfStmt": self._if,
            "WhileStmt": self._while,
            "BreakStmt": self._break,
            "ContinueStmt": self._continue,
            "ReturnStmt": self._return,
            "NullStmt": self._null,
        }

    # ---- the function -------------------------------------------------------------------

    def generate(self, declaration: Node) -> FunctionBuilder:
        children = declaration.get("inner") or []
        params = [child for child in children if child.get("kind") == "ParmVarDecl"]
        body = next(child for child in reversed(children) if child.get("kind") == "CompoundStmt")
        self.scope.push()
        for param, (llvm_type, incoming) in zip(params, self.builder.params, strict=True):
            value_type, _ = parse_value_type(param["type"]["qualType"], self.scope.constant)
            address = self.builder.alloca(llvm_type, alloca_alignment(value_type))
            self._store(incoming, address, value_type)
            self.scope.bind(Symbol(str(param.get("name", "")), value_type, address))
        self._compound(body)
        if self.builder.reachable:
            if self.signature.return_type == "void":
                self.builder.terminate("ret void")
            else:
                # main falling off its end returns 0 (C99); for any other function the
                # value may not be used, so any value will do.
                self.builder.terminate("ret i32 0")
        self.scope.pop()
        return self.builder

    # ---- statements ---------------------------------------------------------------------

    def statement(self, node: Node) -> None:
        handler = self._statements.get(node["kind"])
        if handler is None:
            self.rvalue(node)
        else:
            handler(node)

    def _compound(self, node: Node) -> None:
        self.scope.push()
        for child in node.get("inner") or ():
            if not self.builder.reachable:
                break
            self.statement(child)
        self.scope.pop()

    def _declarations(self, node: Node) -> None:
        for declaration in node.get("inner") or ():
            if declaration.get("kind") == "VarDecl":
                self._local_variable(declaration)

    def _null(self, node: Node) -> None:
        return

    def _if(self, node: Node) -> None:
        children = node["inner"]
        then_block, end_block = Block(), Block()
        else_block = Block() if len(children) > 2 else end_block
        self.condition(children[0], then_block, else_block)
        self.builder.start_block(then_block)
        self.statement(children[1])
        end_used = else_block is end_block
        if self.builder.reachable:
            self.builder.branch(end_block)
            end_used = True
        if len(children) > 2:
            self.builder.start_block(else_block)
            self.statement(children[2])
            if self.builder.reachable:
                self.builder.branch(end_block)
                end_used = True
        if end_used:
            self.builder.start_block(end_block)

    def _while(self, node: Node) -> None:
        condition, body = node["inner"][0], node["inner"][1]
        head, body_block, end_block = Block(), Block(), Block()
        self.builder.branch(head)
        self.builder.start_block(head)
        self.condition(condition, body_block, end_block)
        self.builder.start_block(body_block)
        self.loops.append((head, end_block))
        self.statement(body)
        self.loops.pop()
        if self.builder.reachable:
            self.builder.branch(head)
        self.builder.start_block(end_block)

    def _break(self, node: Node) -> None:
        self.builder.branch(self.loops[-1][1])

    def _continue(self, node: Node) -> None:
        self.builder.branch(self.loops[-1][0])

    def _return(self, node: Node) -> None:
        children = node.get("inner") or []
        value: Operand | None = self.rvalue(children[0])[0] if children else None
        if self.signature.return_type == "void":
            self.builder.terminate("ret void")
        else:
            self.builder.terminate("ret i32 ", operand_text(0 if value is None else value))

    # ---- declarations -------------------------------------------------------------------

    def _local_variable(self, declaration: Node) -> None:
        value_type, is_const = parse_value_type(
            declaration["type"]["qualType"], self.scope.constant
        )
        address = self.builder.alloca(_llvm_type(value_type), alloca_alignment(value_type))
        symbol = Symbol(str(declaration["name"]), value_type, address)
        self.scope.bind(symbol)
        children = declaration.get("inner") or []
        if not children:
            return
        dims = value_type.dims if isinstance(value_type, ArrayType) else ()
        flat = flatten_initializer(children[0], dims)
        if is_const:
            symbol.constants = self._constant_elements(flat)
        if isinstance(value_type, ArrayType):
            self._initialise_array(address, value_type, flat)
        elif 0 in flat:
            value, _ = self.rvalue(flat[0])
            self._store(value, address, value_type)

    def _constant_elements(self, flat: dict[int, Node]) -> dict[int, int] | None:
        values: dict[int, int] = {}
        for index, element in flat.items():
            value = evaluate_constant(element, self.scope.constant)
            if value is None:
                return None
            if value:
                values[index] = value
        return values

    def _initialise_array(self, address: Slot, array: ArrayType, flat: dict[int, Node]) -> None:
        count = element_count(array.dims)
        zeroed = len(flat) < count
        if zeroed:
            self.state.uses_memset = True
            self.builder.emit_void(
                f"call void @llvm.memset.p0.i64(ptr align {alloca_alignment(array)} ",
                address,
                f", i8 0, i64 {count * 4}, i1 false)",
            )
        for index in sorted(flat):
            value, _ = self.rvalue(flat[index])
            if zeroed and value == 0 and isinstance(value, int):
                continue
            element: Slot = address
            if index:
                element = self.builder.emit(
                    "getelementptr inbounds i32, ptr ", address, f", i64 {index}"
                )
            self._store(value, element, INT)

    # ---- conditions ---------------------------------------------------------------------

    def condition(self, node: Node, if_true: Block, if_false: Block) -> None:
        """Branch to if_true or if_false on the truth of node."""
        while node["kind"] == "ParenExpr":
            node = node["inner"][0]
        kind, opcode = node["kind"], node.get("opcode")
        if kind == "UnaryOperator" and opcode == "!":
            self.condition(node["inner"][0], if_false, if_true)
            return
        if kind == "BinaryOperator" and opcode in ("&&", "||"):
            right = Block()
            if opcode == "&&":
                self.condition(node["inner"][0], right, if_false)
            else:
                self.condition(node["inner"][0], if_true, right)
            self.builder.start_block(right)
            self.condition(node["inner"][1], if_true, if_false)
            return
        truth: Operand
        if kind == "BinaryOperator" and opcode in _PREDICATES:
            left = self.rvalue(node["inner"][0])
            right_value = self.rvalue(node["inner"][1])
            truth = self._compare(_PREDICATES[opcode], opcode, left, right_value)
        else:
            truth = self._compare("ne", "!=", self.rvalue(node), (0, INT))
        if isinstance(truth, int):
            self.builder.branch(if_true if truth else if_false)
        else:
            self.builder.terminate(
                "br i1 ", truth, ", label ", if_true.label, ", label ", if_false.label
            )

    def _compare(self, predicate: str, opcode: str, left: RValue, right: RValue) -> Operand:
        """An i1 comparison (an int 0/1 when both sides are constants)."""
        (a, a_type), (b, _) = left, right
        if isinstance(a, int) and isinstance(b, int):
            result = c_binary(opcode, a, b)
            assert result is not None
            return result
        operand_type = "ptr" if isinstance(a_type, PointerType) else "i32"
        return self.builder.emit(
            f"icmp {predicate} {operand_type} ", operand_text(a), ", ", operand_text(b)
        )

    def _condition_value(self, node: Node) -> RValue:
        """`a && b` or `a || b` used as a value: 1 or 0 through a temporary."""
        temporary = self.builder.alloca("i32", 4)
        if_true, if_false, end = Block(), Block(), Block()
        self.condition(node, if_true, if_false)
        for block, value in ((if_true, 1), (if_false, 0)):
            self.builder.start_block(block)
            self._store(value, temporary, INT)
            self.builder.branch(end)
        self.builder.start_block(end)
        return self.builder.emit("load i32, ptr ", temporary, ", align 4"), INT

    # ---- expressions --------------------------------------------------------------------

    def rvalue(self, node: Node) -> RValue:
        kind = node["kind"]
        if kind == "ImplicitCastExpr":
            cast = node.get("castKind")
            child = node["inner"][0]
            if cast in ("LValueToRValue", "ArrayToPointerDecay") or (
                cast is None and strip_parens(child)["kind"] in _LVALUE_KINDS
            ):
                return self._use(child)
            return self.rvalue(child)
        if kind == "IntegerLiteral":
            return wrap_i32(parse_int_literal(str(node["value"]))), INT
        if kind == "BinaryOperator":
            return self._binary(node)
        if kind == "ParenExpr":
            return self.rvalue(node["inner"][0])
        if kind == "CallExpr":
            return self._call(node)
        if kind == "UnaryOperator":
            return self._unary(node)
        if kind in _LVALUE_KINDS:
            return self._use(node)
        if kind == "ImplicitValueInitExpr":
            return 0, INT
        if kind == "ConstantExpr":
            return self.rvalue(node["inner"][0])
        raise CodegenError(f"unsupported expression {kind}")

    def _use(self, node: Node) -> RValue:
        """An lvalue used as a value: a load, or an array's decay to its first element."""
        address, value_type = self.lvalue(node)
        if isinstance(value_type, ArrayType):
            return address, PointerType(value_type.dims[1:])
        if isinstance(value_type, PointerType):
            return self.builder.emit("load ptr, ptr ", address, ", align 8"), value_type
        return self.builder.emit("load i32, ptr ", address, ", align 4"), INT

    def lvalue(self, node: Node) -> LValue:
        kind = node["kind"]
        if kind == "DeclRefExpr":
            symbol = self.scope.lookup(reference_name(node))
            return symbol.address, symbol.type
        if kind == "ArraySubscriptExpr":
            return self._subscript(node)
        if kind in ("ParenExpr", "ImplicitCastExpr"):
            return self.lvalue(node["inner"][0])
        raise CodegenError(f"not an lvalue: {kind}")

    def _subscript(self, node: Node) -> LValue:
        base_node, index_node = node["inner"][0], node["inner"][1]
        base = strip_parens(base_node)
        if base["kind"] == "ImplicitCastExpr" and base.get("castKind") == "ArrayToPointerDecay":
            array_address, array_type = self.lvalue(base["inner"][0])
            if not isinstance(array_type, ArrayType):
                raise CodegenError("array-to-pointer decay of a non-array")
            index = self._index(self.rvalue(index_node)[0])
            address = self.builder.emit(
                f"getelementptr inbounds {array_llvm_type(array_type.dims)}, ptr ",
                array_address,
                ", i64 0, i64 ",
                index,
            )
            return address, _element_type(array_type.dims[1:])
        pointer, pointer_type = self.rvalue(base_node)
        index_value, _ = self.rvalue(index_node)
        if not isinstance(pointer_type, PointerType):  # written index[array]
            pointer, index_value = index_value, pointer
            pointer_type = self._pointer_type_of(index_node)
        index = self._index(index_value)
        address = self.builder.emit(
            f"getelementptr inbounds {array_llvm_type(pointer_type.elem)}, ptr ",
            operand_text(pointer),
            ", i64 ",
            index,
        )
        return address, _element_type(pointer_type.elem)

    def _pointer_type_of(self, node: Node) -> PointerType:
        _, value_type = self.lvalue(strip_parens_and_casts(node))
        if isinstance(value_type, ArrayType):
            return PointerType(value_type.dims[1:])
        if isinstance(value_type, PointerType):
            return value_type
        raise CodegenError("subscript of a non-array")

    def _index(self, value: Operand) -> str | Slot:
        if isinstance(value, int):
            return str(value)
        return self.builder.emit("sext i32 ", operand_text(value), " to i64")

    def _store(self, value: Operand, address: Slot | str, value_type: ValueType) -> None:
        if isinstance(value_type, PointerType):
            self.builder.emit_void(
                "store ptr ", operand_text(value), ", ptr ", address, ", align 8"
            )
        else:
            self.builder.emit_void(
                "store i32 ", operand_text(value), ", ptr ", address, ", align 4"
            )

    def _binary(self, node: Node) -> RValue:
        opcode = node["opcode"]
        left_node, right_node = node["inner"][0], node["inner"][1]
        if opcode == "=":
            value, value_type = self.rvalue(right_node)
            address, target_type = self.lvalue(left_node)
            self._store(value, address, target_type)
            return value, value_type
        if opcode in ("&&", "||"):
            return self._condition_value(node)
        left = self.rvalue(left_node)
        right = self.rvalue(right_node)
        if opcode in _PREDICATES:
            truth = self._compare(_PREDICATES[opcode], opcode, left, right)
            if isinstance(truth, int):
                return truth, INT
            return self.builder.emit("zext i1 ", truth, " to i32"), INT
        instruction = _ARITHMETIC.get(opcode)
        if instruction is None:
            raise CodegenError(f"unsupported operator {opcode}")
        a, b = left[0], right[0]
        if isinstance(a, int) and isinstance(b, int):
            folded = c_binary(opcode, a, b)
            if folded is not None:
                return folded, INT
        return (
            self.builder.emit(f"{instruction} i32 ", operand_text(a), ", ", operand_text(b)),
            INT,
        )

    def _unary(self, node: Node) -> RValue:
        opcode = node["opcode"]
        value, value_type = self.rvalue(node["inner"][0])
        if opcode == "+":
            return value, value_type
        if opcode == "-":
            if isinstance(value, int):
                return wrap_i32(-value), INT
            return self.builder.emit("sub nsw i32 0, ", operand_text(value)), INT
        if opcode == "!":
            truth = self._compare("eq", "==", (value, value_type), (0, INT))
            if isinstance(truth, int):
                return truth, INT
            return self.builder.emit("zext i1 ", truth, " to i32"), INT
        raise CodegenError(f"unsupported unary operator {opcode}")

    def _call(self, node: Node) -> RValue:
        children = node["inner"]
        name = reference_name(strip_parens_and_casts(children[0]))
        signature = self.state.functions.get(name)
        if signature is None:
            signature = FunctionSignature(name, "i32", [], True, False)
            self.state.functions[name] = signature
        self.state.called[name] = None
        parts: list[str | Slot] = []
        for argument in children[1:]:
            value, value_type = self.rvalue(argument)
            llvm_type = "ptr" if isinstance(value_type, PointerType) else "i32"
            parts += [", " if parts else "", f"{llvm_type} noundef ", operand_text(value)]
        callee = (
            f"{signature.return_type} (...) @{name}("
            if signature.unprototyped
            else (f"{signature.return_type} @{name}(")
        )
        if signature.return_type == "void":
            self.builder.emit_void("call ", callee, *parts, ")")
            return 0, INT
        return self.builder.emit("call ", callee, *parts, ")"), INT


def strip_parens(node: Node) -> Node:
    while node["kind"] == "ParenExpr":
        node = node["inner"][0]
    return node
