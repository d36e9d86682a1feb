"""Syntax of second derivatives (spec 9.6): `d2A/dB2` and `∂²A/∂B²` are one
token; the shorthands the language does not take are located errors with
their fix (E065 order three or more, E066 mixed, E067 a name ending in a
digit), golden."""

from __future__ import annotations

from support import codes, rendered, run

from shapecheck.source import Source
from shapecheck.syntax import ast
from shapecheck.syntax.parse import parse

HEADER = "dim n = 3\nparam w[n], v[n]\nL = w[i]^3 v[i]\n"


def _statement(text: str) -> ast.Statement:
    program, problems = parse(Source("t.idx", text))
    assert problems == []
    (statement,) = program.statements
    return statement


def test_both_spellings_are_one_token() -> None:
    for text in ("derive d2L/dw2", "derive ∂²L/∂w²", "derive ∂2L/∂w2"):
        statement = _statement(text)
        assert isinstance(statement, ast.DeriveStmt)
        (target,) = statement.targets
        assert (target.of, target.wrt, target.order, str(target)) == ("L", "w", 2, "d2L/dw2")


def test_first_derivatives_are_unchanged() -> None:
    statement = _statement("derive dL/dw2, dL/dw")
    assert isinstance(statement, ast.DeriveStmt)
    assert [(t.wrt, t.order) for t in statement.targets] == [("w2", 1), ("w", 1)]


def test_with_spaces_it_stays_a_division() -> None:
    statement = _statement("q = d2L / dw2")
    assert isinstance(statement, ast.Definition)
    assert isinstance(statement.rhs, ast.Product)


def test_third_order_shorthand() -> None:
    assert rendered(run(HEADER + "derive d3L/dw3\n")) == (
        "test.idx:4:8: error[E065]: `d3L/dw3`: only the second derivative has a "
        "shorthand (`d2L/dw2`)\n"
        "  4 | derive d3L/dw3\n"
        "    |        ^^^^^^^\n"
        "  = help: name each derivative and differentiate it again: "
        "`g[...] = d2L/dw2[...]`, then `derive dg/dw`\n"
        "  = help: to divide arrays, write spaces around `/`"
    )
    assert codes(HEADER + "derive ∂³L/∂w³\n") == ["E065"]
    assert codes(HEADER + "h = d22L/dw22\n") == ["E065"]


def test_mixed_shorthand() -> None:
    assert rendered(run(HEADER + "derive d2L/dwdv\n")) == (
        "test.idx:4:8: error[E066]: `d2L/dwdv` is not a derivative: `d2A/dB2` takes "
        "one name B, and there is no mixed shorthand\n"
        "  4 | derive d2L/dwdv\n"
        "    |        ^^^^^^^^\n"
        "  = help: for a mixed second derivative, name the gradient and differentiate it: "
        "`g[...] = dL/dB[...]`, then `derive dg/dC`\n"
        "  = help: to divide arrays, write spaces: `d2L / dwdv`"
    )
    assert codes(HEADER + "q = d2L/dw\n") == ["E066"]
    assert codes(HEADER + "dL/dw²[i] = 3 w[i]^2 v[i]\n") == ["E066"]


def test_name_ending_in_a_digit() -> None:
    assert rendered(run(HEADER + "derive d2L/dw22\n")) == (
        "test.idx:4:8: error[E067]: `d2L/dw22`: the second-derivative shorthand cannot "
        "name `w2`, which ends in a digit\n"
        "  4 | derive d2L/dw22\n"
        "    |        ^^^^^^^^\n"
        "  = help: name the gradient: `g[...] = dL/dw2[...]`, then `derive dg/dw2`"
    )


def test_second_derivative_in_a_loop_takes_templates() -> None:
    text = (
        "dim n = 2\nparam w[n]\ns0[i] = w[i]\nfor t in 1..2:\n"
        "    s{t}[i] = tanh(s{t-1}[i])\n    h{t}[i, j] = d2s{t}/dw2[i, i, j]\n"
        "derive dh2/dw\n"
    )
    report = run(text)
    assert [d.code for d in report.diagnostics] == [], rendered(report)
