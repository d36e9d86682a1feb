"""Opaque functions in the syntax stage (spec 9.5): `fn f, g`, calls `f(e)` and
primes `f'(e)`, `f''(e)`; their syntax errors, whole messages and hints, golden."""

from __future__ import annotations

import pytest

from shapecheck.source import Source
from shapecheck.syntax import ast
from shapecheck.syntax.parse import parse

HEADER = "dim n = 3\nparam W[n, n], x[n], v[n]\nfn f, g\n"


def statements(text: str) -> tuple[ast.Statement, ...]:
    program, problems = parse(Source("t.idx", text))
    assert problems == []
    return program.statements


def rhs(line: str) -> ast.Expr:
    last = statements(HEADER + line + "\n")[-1]
    assert isinstance(last, ast.Definition)
    return last.rhs


def test_an_fn_statement_names_functions_where_they_stand() -> None:
    (statement,) = statements("fn f, g2\n")
    assert isinstance(statement, ast.FnStmt)
    assert [(n.name, n.span.start, n.span.end) for n in statement.names] == [
        ("f", 3, 4),
        ("g2", 6, 8),
    ]
    assert str(statement) == "fn f, g2"


@pytest.mark.parametrize(
    ("line", "order"),
    [("y[i] = f(x[i])", 0), ("y[i] = f'(x[i])", 1), ("y[i] = g''(x[i])", 2), ("y = f''''(1)", 4)],
)
def test_primes_after_an_fn_name_are_the_order_of_its_derivative(line: str, order: int) -> None:
    call = rhs(line)
    assert isinstance(call, ast.OpaqueCall)
    assert call.order == order
    assert str(call) == line.split(" = ")[1]


def test_an_fn_call_binds_like_a_function_not_a_product() -> None:
    # `f(x)^2` is (f(x))^2 and `a / f(x)` divides by the call: f is no factor.
    power = rhs("y[i] = f(x[i])^2")
    assert isinstance(power, ast.Power) and isinstance(power.base, ast.OpaqueCall)
    quotient = rhs("y[i] = v[i] / f (x[i])")
    assert isinstance(quotient, ast.Product)
    assert isinstance(quotient.factors[1].expr, ast.OpaqueCall)


def test_a_name_no_fn_declares_before_parentheses_stays_a_product() -> None:
    product = rhs("y[i] = v[i] (x[i] + 1)")
    assert isinstance(product, ast.Product)
    scalar = statements("param a\ninput x[3]\ny[i] = a (x[i] + 1)\n")[-1]
    assert isinstance(scalar, ast.Definition) and isinstance(scalar.rhs, ast.Product)


def test_a_call_above_its_fn_statement_parses_as_a_call() -> None:
    (definition, _) = statements("y = f(1)\nfn f\n")
    assert isinstance(definition, ast.Definition)
    assert isinstance(definition.rhs, ast.OpaqueCall)


def only_problem(line: str) -> tuple[str, str, str, tuple[str, ...]]:
    source = Source("t.idx", HEADER + line + "\n")
    _, problems = parse(source)
    assert len(problems) == 1, [p.message for p in problems]
    (problem,) = problems
    assert problem.span is not None
    start, end = problem.span.start - len(HEADER), problem.span.end - len(HEADER)
    return problem.code, line[start:end], problem.message, problem.hints


@pytest.mark.parametrize(
    ("line", "code", "written", "message", "hint"),
    [
        (
            "y[i] = h'(x[i])",
            "E060",
            "h'",
            "`h'`: only an `fn` function takes primes",
            "an unspecified smooth function is named by an `fn` statement above its first "
            "use, `fn h`; then `h'(...)` is its derivative (docs/language.md, 12.13)",
        ),
        (
            "y[i] = v''(x[i])",
            "E060",
            "v''",
            "`v''`: only an `fn` function takes primes",
            "`v` is an array or a size of this file; primes follow only the name of an `fn` "
            "function (docs/language.md, 12.13)",
        ),
        (
            "y[i] = f' x[i]",
            "E061",
            "f'",
            "`f'` needs its argument in parentheses",
            "write `f'(...)`: the derivative of `f` at that value",
        ),
        (
            "y = g''",
            "E061",
            "g''",
            "`g''` needs its argument in parentheses",
            "write `g''(...)`: the derivative of `g` at that value",
        ),
        (
            "y[i] = f'(x[i], v[i])",
            "E027",
            ",",
            "`f'` takes one argument",
            "an `fn` function applies entry by entry to one value; write the arithmetic that "
            "combines values inside it",
        ),
        (
            "fn q[n]",
            "E062",
            "[",
            "`fn` declares names of functions only, without a shape",
            "write `fn f, g`; a function applies entry by entry to one value wherever it is "
            "called: `y[i] = f(x[i])`",
        ),
        (
            "fn q = 2",
            "E062",
            "=",
            "`fn` declares names of functions only, without a value",
            "write `fn f, g`; a function applies entry by entry to one value wherever it is "
            "called: `y[i] = f(x[i])`",
        ),
        (
            "fn[i] = x[i]",
            "E008",
            "fn",
            "`fn` is a keyword since the second edition of the language and cannot be used "
            "as a name",
            "rename it everywhere in the file, e.g. to `fn_` or `f`",
        ),
        # Primes elsewhere keep their first-edition words (spec 9.5, 9.7).
        (
            "y[i] = W'[i, j] x[j]",
            "E021",
            "'",
            "`W'` (transpose) is not `.idx` notation",
            "a transpose swaps the indices: `W[j, i]` is the transpose of `W[i, j]`",
        ),
        (
            "y[i] = relu'(x[i])",
            "E025",
            "relu'",
            "`relu'` is not a function of `.idx`",
            "the derivative of `relu(x)` is written `step(x)`",
        ),
    ],
)
def test_misused_functions_and_primes_are_worded(
    line: str, code: str, written: str, message: str, hint: str
) -> None:
    assert only_problem(line) == (code, written, message, (hint,))
