"""Canonical forms: a projection (idempotent) that keeps exactly what the scorers read."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from golden.scoring import (
    AST_FIELDS,
    NODE_KINDS,
    accepted_t0,
    canonical_ast,
    canonical_tokens,
    parse_token_dump,
    score_t0,
    score_t1,
    score_t2,
)

PAYLOAD = "U0VDUkVULXBheWxvYWQ"  # what a stage program would try to smuggle downstream

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def ast(clang: Any, program: str) -> dict[str, Any]:
    tree: dict[str, Any] = json.loads(clang.ast(program))
    return tree


def _nodes(tree: Any) -> list[dict[str, Any]]:
    found, stack = [], [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            found.append(node)
            stack.extend(node.get("inner") or [])
            stack.extend(node.get("array_filler") or [])
    return found


def test_t0_is_accepted_only_when_it_scores_100(clang: Any, program: str) -> None:
    golden = clang.preprocess(program)
    assert accepted_t0(golden, golden) and accepted_t0(golden, golden.replace("\n", "\r\n"))
    smuggled = golden + f"// {PAYLOAD}\n"
    assert score_t0(golden, smuggled).score == 59.0 and not accepted_t0(golden, smuggled)
    marker = golden.replace('"x.sy"', f'"x.sy{PAYLOAD}"', 1)
    assert not accepted_t0(golden, marker)


def test_clang_tokens_are_their_own_canonical_form(clang: Any, program: str) -> None:
    golden = clang.tokens(program)
    assert canonical_tokens(golden) == golden


def test_token_payload_lines_do_not_survive(clang: Any, program: str) -> None:
    golden = clang.tokens(program)
    lines = golden.splitlines(keepends=True)
    smuggled = "".join([lines[0], f"# {PAYLOAD}\n", *lines[1:], f"{PAYLOAD}\n"])
    assert canonical_tokens(smuggled) == golden
    assert canonical_tokens(f"nothing here {PAYLOAD}\n") is None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(noise=st.lists(st.text(max_size=40), max_size=6), at=st.integers(0, 100))
def test_tokens_score_the_same_raw_and_canonical(
    clang: Any, program: str, noise: list[str], at: int
) -> None:
    golden = clang.tokens(program)
    lines = golden.splitlines(keepends=True)
    lines[at % len(lines) : at % len(lines)] = [n.replace("\n", " ") + "\n" for n in noise]
    if noise:
        lines[at % len(lines)] = lines[at % len(lines)].replace("'", "'x", 1)
    produced = "".join(lines)
    form = canonical_tokens(produced)
    assert form is not None
    assert canonical_tokens(form) == form
    assert score_t1(golden, form).score == score_t1(golden, produced).score
    assert [t for t in parse_token_dump(produced) if t.valid] == parse_token_dump(form)


def test_clang_ast_reduced_keeps_every_scored_node_and_nothing_else(ast: dict[str, Any]) -> None:
    form = canonical_ast(json.dumps(ast))
    assert form is not None and canonical_ast(form) == form
    reduced = json.loads(form)
    assert score_t2(json.dumps(ast), form).score == 100.0
    assert score_t2(form, json.dumps(ast)).score == 100.0
    for node in _nodes(reduced):
        assert set(node) <= set(AST_FIELDS), node
        assert node["kind"] in NODE_KINDS and None not in node.values()
    assert "range" not in form and "isImplicit" not in form and "__int128" not in form


def test_ast_payloads_in_unjudged_or_bad_fields_are_dropped(ast: dict[str, Any]) -> None:
    tree = json.loads(json.dumps(ast))
    nodes = _nodes(tree)
    for index, node in enumerate(nodes):
        node["comment"] = PAYLOAD
        node["loc"] = {"file": PAYLOAD}
        if node.get("kind") == "ImplicitCastExpr":
            node["castKind"] = PAYLOAD  # not of its vocabulary: dropped (it is not scored)
        if node.get("kind") == "DeclRefExpr":
            node["referencedDecl"]["name"] = f"x {PAYLOAD}"  # not an identifier: dropped
            node["referencedDecl"]["extra"] = PAYLOAD
        if index == 3:
            node["opcode"] = PAYLOAD  # scored: kept as null, so it still differs
    form = canonical_ast(json.dumps(tree))
    assert form is not None and PAYLOAD not in form
    raw, reduced = score_t2(json.dumps(ast), json.dumps(tree)), score_t2(json.dumps(ast), form)
    assert (raw.score, raw.details) == (reduced.score, reduced.details)


def test_declaration_ids_are_canonical_and_references_follow_them(ast: dict[str, Any]) -> None:
    tree = json.loads(json.dumps(ast))
    for node in _nodes(tree):
        if isinstance(node.get("id"), str):
            node["id"] = node["id"] + "beef"
        reference = node.get("referencedDecl")
        if isinstance(reference, dict):
            reference["id"] = reference["id"] + "beef"
    assert canonical_ast(json.dumps(tree)) == canonical_ast(json.dumps(ast))
    reduced = json.loads(canonical_ast(json.dumps(ast)) or "{}")
    ids = {n["id"]: n for n in _nodes(reduced) if "id" in n}
    references = [n["referencedDecl"] for n in _nodes(reduced) if "referencedDecl" in n]
    assert references and all(ids[r["id"]]["name"] == r["name"] for r in references)


def _mutate(tree: Any, draw: Any) -> None:
    nodes = _nodes(tree)
    for _ in range(draw(st.integers(0, 6))):
        node = nodes[draw(st.integers(0, len(nodes) - 1))]
        field = draw(st.sampled_from([*AST_FIELDS, "qualType", "isImplicit", "loc", "zz"]))
        if draw(st.booleans()) and field in node:
            del node[field]
        elif field == "type":
            node[field] = {"qualType": draw(json_values | st.sampled_from(["int", "int *"]))}
        else:
            node[field] = draw(json_values)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_ast_scores_the_same_raw_and_canonical(ast: dict[str, Any], data: Any) -> None:
    tree = json.loads(json.dumps(ast))
    _mutate(tree, data.draw)
    produced = json.dumps(tree)
    form = canonical_ast(produced)
    assert form is not None and canonical_ast(form) == form
    golden = json.dumps(ast)
    raw, reduced = score_t2(golden, produced), score_t2(golden, form)
    # (A diagnosis may differ: it quotes a bad value, which the canonical form holds as null.)
    assert (raw.score, raw.details) == (reduced.score, reduced.details)


def test_non_objects_have_no_canonical_ast() -> None:
    assert canonical_ast("[1, 2]") is None
    assert canonical_ast(b"\xff{") is None
    assert canonical_ast("") is None


def test_a_very_deep_tree_is_reduced_without_recursion() -> None:
    depth = 50_000
    text = '{"kind":"ParenExpr","inner":[' * depth + '{"kind":"IntegerLiteral","value":"1"}'
    text += "]}" * depth
    form = canonical_ast(text)
    assert form is not None and form.count('"ParenExpr"') == depth
    assert canonical_ast(form) == form
