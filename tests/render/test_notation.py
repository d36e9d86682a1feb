"""Expressions in the notes' notation, with every sum written out as `Σ_j`."""

from __future__ import annotations

import pytest

from shapecheck.render.notation import index_list, notation
from shapecheck.source import Source
from shapecheck.syntax import ast
from shapecheck.syntax.parse import parse


def _rhs(text: str) -> ast.Expr:
    program, problems = parse(Source("t.idx", f"y = {text}\n"))
    assert problems == []
    statement = program.statements[0]
    assert isinstance(statement, ast.Definition)
    return statement.rhs


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("2", "2"),
        ("X[i, j]", "X[i,j]"),
        ("delta[i, j] + loss(W)", "δ[i,j] + loss(W)"),
        ("dA/dB[i] * 2", "dA/dB[i] * 2"),
        ("exp(a + b) * c", "exp(a + b) * c"),
        ("-(a + b)", "-(a + b)"),
        ("a / (b - c)", "a / (b - c)"),
        ("(a b)^2", "(a b)^2"),
    ],
)
def test_every_expression_kind_is_shown(text: str, shown: str) -> None:
    assert notation(_rhs(text)) == shown


def test_a_sum_is_bare_where_nothing_follows_it() -> None:
    assert notation(_rhs("sum[j](X[i,j] W[j,k]) + b[k]")) == "Σ_j X[i,j] W[j,k] + b[k]"
    assert notation(_rhs("b[i] sum[j](X[i,j])")) == "b[i] Σ_j X[i,j]"


def test_a_sum_followed_by_a_factor_is_parenthesised() -> None:
    assert notation(_rhs("sum[j](X[i,j]) b[i]")) == "(Σ_j X[i,j]) b[i]"
    assert notation(_rhs("-sum[j](x[j]) c")) == "-(Σ_j x[j]) c"


def test_powers_are_right_associative() -> None:
    assert notation(_rhs("a^b^c")) == "a^b^c"
    assert notation(_rhs("(a^b)^c")) == "(a^b)^c"
    assert notation(_rhs("a^-b")) == "a^-b"
    assert notation(_rhs("-a^2")) == "-a^2"


def test_a_negation_after_an_operator_is_parenthesised() -> None:
    assert notation(_rhs("2 * -a")) == "2 * (-a)"


def test_index_list_of_a_scalar_is_empty() -> None:
    assert index_list(()) == ""
    assert index_list(("i", "k")) == "[i,k]"
