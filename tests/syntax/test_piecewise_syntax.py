"""Comparisons, `max`/`min`, `step`/`sign` as the syntax stage reads them (spec 9.2),
and the golden wording of their misuse (E016, E017, E008)."""

from __future__ import annotations

import pytest
from support import rendered, run

from shapecheck.source import Source
from shapecheck.syntax import ast
from shapecheck.syntax.parse import parse

HEADER = "dim n = 3\nparam x[n], y[n], r[n]\n"


def rhs(line: str) -> ast.Expr:
    program, problems = parse(Source("t.idx", HEADER + line + "\n"))
    assert problems == []
    statement = program.statements[-1]
    assert isinstance(statement, ast.Definition)
    return statement.rhs


def test_a_comparison_binds_loosest_as_a_whole_right_hand_side() -> None:
    expr = rhs("keep[i] = x[i] + 1 < 2 y[i]")
    assert isinstance(expr, ast.Compare)
    assert (expr.op, str(expr.left), str(expr.right)) == ("<", "x[i] + 1", "2 y[i]")


@pytest.mark.parametrize(
    ("written", "read"),
    [
        *((op, op) for op in (">", ">=", "<", "<=", "==", "!=")),
        *(("≥", ">="), ("≤", "<="), ("≠", "!=")),
    ],
)
def test_every_comparison_and_its_unicode_spelling(written: str, read: str) -> None:
    expr = rhs(f"c[i] = x[i] {written} y[i]")
    assert isinstance(expr, ast.Compare) and expr.op == read
    assert str(expr) == f"x[i] {read} y[i]"


def test_a_comparison_as_argument_body_and_factor() -> None:
    call = rhs("a[i] = exp(x[i] > 0)")
    assert isinstance(call, ast.Call) and isinstance(call.arg, ast.Compare)
    summed = rhs("b = sum[i](x[i] > 0)")
    assert isinstance(summed, ast.SumOver) and isinstance(summed.body, ast.Compare)
    product = rhs("c[i] = x[i] (x[i] > 0)")
    assert isinstance(product, ast.Product)
    assert isinstance(product.factors[1].expr, ast.Compare)
    # Printed back with the parentheses a factor needs, and re-read the same.
    assert str(product) == "x[i] (x[i] > 0)"


def test_max_min_step_sign() -> None:
    expr = rhs("h[i] = max(0, 1 + x[i] - y[i]) + min(x[i], y[i]) + step(x[i]) sign(y[i])")
    assert isinstance(expr, ast.Add)
    first, second, third = (term.expr for term in expr.terms)
    assert isinstance(first, ast.Extremum) and first.func == "max"
    assert str(first) == "max(0, 1 + x[i] - y[i])"
    assert isinstance(second, ast.Extremum) and second.func == "min"
    assert str(third) == "step(x[i]) sign(y[i])"


def test_nested_max_is_three_values() -> None:
    expr = rhs("m[i] = max(max(x[i], y[i]), r[i])")
    assert isinstance(expr, ast.Extremum) and isinstance(expr.first, ast.Extremum)


# ---- golden diagnostics


def test_chained_comparison_is_e016_showing_the_product() -> None:
    report = run(HEADER + "inside[i] = 0 < r[i] < 1\n")
    assert rendered(report) == (
        "test.idx:3:22: error[E016]: comparisons do not chain: `0 < r[i] < 1`\n"
        "  3 | inside[i] = 0 < r[i] < 1\n"
        "    |                      ^\n"
        "  = help: a comparison is worth 1 or 0; for both, multiply them: "
        "`(0 < r[i]) (r[i] < 1)`"
    )


def test_comparison_inside_an_index_list_is_e016() -> None:
    report = run(HEADER + "y2[i] = x[i > 0]\n")
    assert rendered(report) == (
        "test.idx:3:13: error[E016]: a comparison cannot stand here: unexpected `>`\n"
        "  3 | y2[i] = x[i > 0]\n"
        "    |             ^\n"
        "  = help: an index list holds indices, not conditions; a mask is a factor of its "
        "own: `X[i, j] (j <= i)`"
    )


def test_max_with_one_argument_is_e017() -> None:
    report = run(HEADER + "m[i] = max(x[i])\n")
    assert rendered(report) == (
        "test.idx:3:8: error[E017]: `max` takes exactly two arguments, not 1\n"
        "  3 | m[i] = max(x[i])\n"
        "    |        ^^^^^^^^^\n"
        "  = help: it compares two values entry by entry, e.g. `max(x[i], 0)`; "
        "the maximum along an index is `max[i](x[i])`"
    )


def test_max_with_three_arguments_is_e017_showing_the_nested_form() -> None:
    report = run(HEADER + "m[i] = max(x[i], y[i], r[i])\n")
    assert rendered(report) == (
        "test.idx:3:8: error[E017]: `max` takes exactly two arguments, not 3\n"
        "  3 | m[i] = max(x[i], y[i], r[i])\n"
        "    |        ^^^^^^^^^^^^^^^^^^^^^\n"
        "  = help: for more values, nest it: `max(max(x[i], y[i]), r[i])`"
    )


@pytest.mark.parametrize("keyword", ["max", "min", "step", "sign"])
def test_the_new_keywords_cannot_name_arrays(keyword: str) -> None:
    report = run(f"param {keyword}[3]\n")
    assert [d.code for d in report.diagnostics] == ["E008"]
    assert report.diagnostics[0].message == (
        f"`{keyword}` is a keyword since the second edition of the language and cannot be "
        "used as a name"
    )


def test_maximum_and_signal_stay_names() -> None:
    report = run("param maximum[3], signal[3]\nz = maximum[i] signal[i]\n")
    assert [d.code for d in report.diagnostics] == []


def test_a_continued_line_starting_with_a_comparison_is_no_new_statement() -> None:
    # `a <= b` and `== b` at the start of a line inside open parentheses carry
    # no `=` of a definition: the statement goes on.
    program, problems = parse(Source("t.idx", "param a, b\ny = (a +\na <= b)\nz = (a\n== b)\n"))
    assert problems == []
    assert [str(s) for s in program.statements[1:]] == ["y = a + a <= b", "z = a == b"]
