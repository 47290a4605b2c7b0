"""IR generation for a whole translation unit: globals, functions, declarations."""

from __future__ import annotations

from bisect import bisect_left

from .irgen_consts import Node, evaluate_constant, flatten_initializer
from .irgen_function import CodegenError, FunctionGenerator
from .irgen_scope import FunctionSignature, ModuleState, Symbol
from .irgen_types import (
    ArrayType,
    IntType,
    array_llvm_type,
    element_count,
    parse_value_type,
    return_type_of,
)

__all__ = ["generate_module"]

_MEMSET_DECLARATION = (
    "declare void @llvm.memset.p0.i64(ptr nocapture writeonly, i8, i64, i1 immarg)"
)


def generate_module(unit: Node) -> str:
    """The LLVM IR module for a TranslationUnitDecl."""
    state = ModuleState()
    declarations = [
        node
        for node in unit.get("inner") or ()
        if not node.get("isImplicit") and node.get("kind") in ("VarDecl", "FunctionDecl")
    ]
    for node in declarations:
        if node["kind"] == "FunctionDecl":
            _declare_function(state, node)
    globals_text: list[str] = []
    functions_text: list[str] = []
    for node in declarations:
        if node["kind"] == "VarDecl":
            globals_text.append(_global_variable(state, node))
        elif _body_of(node) is not None:
            signature = state.functions[str(node["name"])]
            builder = FunctionGenerator(state, signature).generate(node)
            functions_text.append(builder.render("dso_local "))
    declares = [_declaration(state.functions[name]) for name in state.called]
    declares = [text for text in declares if text]
    if state.uses_memset:
        declares.append(_MEMSET_DECLARATION)
    sections = ["\n".join(globals_text), "\n\n".join(functions_text), "\n".join(declares)]
    return "\n\n".join(section for section in sections if section) + "\n"


def _body_of(function: Node) -> Node | None:
    for child in function.get("inner") or ():
        if child.get("kind") == "CompoundStmt":
            body: Node = child
            return body
    return None


def _declare_function(state: ModuleState, node: Node) -> None:
    name = str(node["name"])
    spelling = str(node["type"]["qualType"])
    params = [child for child in node.get("inner") or () if child.get("kind") == "ParmVarDecl"]
    param_types = [_param_llvm_type(str(p["type"]["qualType"])) for p in params]
    defined = _body_of(node) is not None
    return_type = "void" if return_type_of(spelling) == "void" else "i32"
    unprototyped = not defined and not params and spelling.replace(" ", "").endswith("()")
    signature = FunctionSignature(name, return_type, param_types, unprototyped, defined)
    previous = state.functions.get(name)
    # A definition wins over declarations, a prototype over an old-style `f()`.
    if (
        previous is None
        or defined
        or (not previous.defined and previous.unprototyped and not unprototyped)
    ):
        state.functions[name] = signature


def _param_llvm_type(spelling: str) -> str:
    return "ptr" if "*" in spelling or "[" in spelling else "i32"


def _declaration(signature: FunctionSignature) -> str:
    if signature.defined:
        return ""
    if signature.unprototyped:
        return f"declare {signature.return_type} @{signature.name}(...)"
    params = ", ".join(f"{ty} noundef" for ty in signature.param_types)
    return f"declare {signature.return_type} @{signature.name}({params})"


def _global_variable(state: ModuleState, node: Node) -> str:
    name = str(node["name"])
    value_type, is_const = parse_value_type(str(node["type"]["qualType"]), state.scope.constant)
    if not isinstance(value_type, IntType | ArrayType):
        raise CodegenError(f"global {name} has a pointer type")
    dims = value_type.dims if isinstance(value_type, ArrayType) else ()
    values: dict[int, int] = {}
    children = node.get("inner") or []
    if children:
        for index, element in flatten_initializer(children[0], dims).items():
            value = evaluate_constant(element, state.scope.constant)
            if value is None:
                raise CodegenError(f"initialiser of global {name} is not constant")
            if value:
                values[index] = value
    symbol = Symbol(name, value_type, f"@{name}", values if is_const else None)
    state.scope.bind(symbol)
    keyword = "constant" if is_const else "global"
    if not dims:
        return f"@{name} = dso_local {keyword} i32 {values.get(0, 0)}, align 4"
    align = 16 if element_count(dims) * 4 >= 16 else 4
    initialiser = _array_initialiser(dims, 0, sorted(values), values)
    return f"@{name} = dso_local {keyword} {array_llvm_type(dims)} {initialiser}, align {align}"


def _array_initialiser(
    dims: tuple[int, ...], base: int, keys: list[int], values: dict[int, int]
) -> str:
    """The constant for the elements base .. base + size of dims (keys: sorted non-zeros)."""
    size = element_count(dims)
    first = bisect_left(keys, base)
    if first == len(keys) or keys[first] >= base + size:
        return "zeroinitializer"
    inner = dims[1:]
    if not inner:
        return "[" + ", ".join(f"i32 {values.get(base + i, 0)}" for i in range(dims[0])) + "]"
    stride = element_count(inner)
    inner_type = array_llvm_type(inner)
    elements = (
        f"{inner_type} {_array_initialiser(inner, base + i * stride, keys, values)}"
        for i in range(dims[0])
    )
    return "[" + ", ".join(elements) + "]"
