"""Notation the language does not take (spec 9.7): each is an error that shows the
`.idx` way, with the file's own names and ranks; whole messages and hints, golden."""

from __future__ import annotations

import pytest

from shapecheck.diagnostics import Diagnostic
from shapecheck.source import Source
from shapecheck.syntax.parse import parse

HEADER = (
    "dim n = 8, d = 3, h = 5\n"
    "input X[n, d]\n"
    "param W[d, h], V[h, h], b[h], w[d]\n"
    "input x[d]\n"
    "H[i, k] = X[i, j] W[j, k]\n"
)


def only_problem(line: str) -> Diagnostic:
    source = Source("t.idx", HEADER + line + "\n")
    _, problems = parse(source)
    assert len(problems) == 1, [p.message for p in problems]
    (problem,) = problems
    assert problem.span is not None
    return problem


def shown(line: str) -> tuple[str, str, str, tuple[str, ...]]:
    problem = only_problem(line)
    assert problem.span is not None
    start = problem.span.start - len(HEADER)
    written = line[start : problem.span.end - len(HEADER)]
    return problem.code, written, problem.message, problem.hints


@pytest.mark.parametrize(
    ("line", "code", "written", "message", "hint"),
    [
        (
            "Y[i, k] = X @ W",
            "E021",
            "@",
            "`@` is not an operator of `.idx`",
            "write the product with indices: `X[i, j] W[j, k]` (a repeated index is summed)",
        ),
        (
            "Z[a, c] = X @ W @ V",
            "E021",
            "@",
            "`@` is not an operator of `.idx`",
            "write the product with indices: `X[a, i] W[i, j] V[j, c]` "
            "(a repeated index is summed)",
        ),
        (
            "v = x @ w",
            "E021",
            "@",
            "`@` is not an operator of `.idx`",
            "write the product with indices: `x[i] w[i]` (a repeated index is summed)",
        ),
        (
            "T = W.T",
            "E021",
            ".T",
            "`.T` (transpose) is not `.idx` notation",
            "a transpose swaps the indices: `W[k, j]` is the transpose of `W[j, k]`",
        ),
        (
            "T = W'",
            "E021",
            "'",
            "`W'` (transpose) is not `.idx` notation",
            "a transpose swaps the indices: `W[k, j]` is the transpose of `W[j, k]`",
        ),
        (
            "T[k, j] = Wᵀ",
            "E021",
            "ᵀ",
            "`Wᵀ` (transpose) is not `.idx` notation",
            "a transpose swaps the indices: `W[k, j]` is the transpose of `W[j, k]`",
        ),
        (
            "T[a, c] = W[c, a].T",
            "E021",
            ".T",
            "`.T` (transpose) is not `.idx` notation",
            "a transpose swaps the indices: `W[a, c]` is the transpose of `W[c, a]`",
        ),
        (
            "S = sum(H)",
            "E026",
            "sum(",
            "`sum` needs the indices it sums over in brackets",
            "write `sum[i, k](H[i, k])`",
        ),
        (
            "s = Σ(x[j] w[j])",
            "E026",
            "Σ(",
            "`Σ` needs the indices it sums over in brackets",
            "write `sum[j](x[j] w[j])`",
        ),
        (
            "e[j] = np.exp(x)",
            "E022",
            "np.exp",
            "`np.exp(...)` is numpy, not `.idx`",
            "write `exp(x[i])`: a function applies entry by entry to an array written with "
            "its indices",
        ),
        (
            "s = np.sum(X)",
            "E022",
            "np.sum",
            "`np.sum(...)` is numpy, not `.idx`",
            "write `sum[i, j](X[i, j])`: `sum` names the indices it runs over",
        ),
        (
            "c[j] = np.sum(X, axis=0)",
            "E022",
            "np.sum",
            "`np.sum(...)` is numpy, not `.idx`",
            "write `sum[i](X[i, j])`: `sum` names the indices it runs over",
        ),
        (
            "s = np.dot(x, w)",
            "E022",
            "np.dot",
            "`np.dot(...)` is numpy, not `.idx`",
            "write `x[i] w[i]`: a product is written with indices; a repeated index is summed",
        ),
        (
            "r[k] = np.maximum(0, b)",
            "E022",
            "np.maximum",
            "`np.maximum(...)` is numpy, not `.idx`",
            "write `max(0, b[i])`: `max(a, b)` compares entry by entry",
        ),
        (
            "Y = X.dot(W)",
            "E022",
            "X.dot",
            "`X.dot(...)` is numpy, not `.idx`",
            "write `X[i, j] W[j, k]`: a product is written with indices; "
            "a repeated index is summed",
        ),
        (
            "Y = numpy.linalg.det(V)",
            "E022",
            "numpy.linalg.det",
            "`numpy.linalg.det(...)` is numpy, not `.idx`",
            "write `det(V)`: the determinant of the matrix named V",
        ),
        (
            "Y = np.linalg.inv(V)",
            "E022",
            "np.linalg.inv",
            "`np.linalg.inv(...)` is numpy, not `.idx`",
            "write `inv(V)[i, j]`: the inverse is a matrix, read at two indices (the first "
            "runs over the second size of V, the second over its first)",
        ),
        (
            "t = np.trace(V)",
            "E022",
            "np.trace",
            "`np.trace(...)` is numpy, not `.idx`",
            "write `trace(V)`: the trace of the matrix named V",
        ),
        (
            "t = np.linalg.det(X @ W)",
            "E022",
            "np.linalg.det",
            "`np.linalg.det(...)` is numpy, not `.idx`",
            "write `det(K)`: `det` takes the name of a matrix: define it on a line above "
            "first, `K[a, b] = …` (docs/language.md, 12.12)",
        ),
        (
            "G = np.einsum('ij,jk->ik', X, W)",
            "E022",
            "np.einsum",
            "`np.einsum(...)` is numpy, not `.idx`",
            "write `X[i, j] W[j, k]`: `.idx` is index notation already: an index on no "
            "left-hand side is summed",
        ),
        (
            "Z[i, k] = H[:, 1:h]",
            "E023",
            "[:, 1:h]",
            "slices are not `.idx` notation",
            "write an index for every position: `H[i, j + 1]`",
        ),
        (
            "s = \\sum_j x[j]",
            "E024",
            "\\sum_j",
            "`\\sum_j` is LaTeX, not `.idx`",
            "write `sum[j](...)`: a sum names its indices in brackets, its body in parentheses",
        ),
        (
            "D = \\delta_{ij}",
            "E024",
            "\\delta_{ij}",
            "`\\delta_{ij}` is LaTeX, not `.idx`",
            "write `delta[i, j]`: the Kronecker delta takes its indices in brackets",
        ),
        (
            "q = \\frac{1}{n}",
            "E024",
            "\\frac",
            "`\\frac` is LaTeX, not `.idx`",
            "write `a / b`: a fraction is written with `/`",
        ),
        (
            "y = maximum(x, w)",
            "E025",
            "maximum",
            "`maximum` is not a function of `.idx`",
            "write `max(x[i], w[i])`: `max(a, b)` compares entry by entry",
        ),
        (
            "z = transpose(W)",
            "E025",
            "transpose",
            "`transpose` is not a function of `.idx`",
            "write `W[k, j]`: a transpose swaps the indices of `W[j, k]`",
        ),
        (
            "z = foo(W)",
            "E025",
            "foo",
            "`foo` is not a function of `.idx`",
            "`.idx` has the element-wise functions exp log tanh sigmoid relu sin cos sqrt abs "
            "step sign, `max(a, b)`, `min(a, b)`, comparisons `(a > b)`, and the reductions "
            "`sum[j](...)`, `mean[j]`, `max[j]`, `min[j]`, `logsumexp[j]`, `norm[j]` and "
            "`softmax[j]`; to multiply by an array `foo`, write `foo * (...)`",
        ),
    ],
)
def test_foreign_notation_shows_the_idx_way(
    line: str, code: str, written: str, message: str, hint: str
) -> None:
    got_code, got_written, got_message, got_hints = shown(line)
    assert (got_code, got_written, got_message) == (code, written, message)
    assert got_hints[0] == hint
    assert not any("declare" in h for h in got_hints)


def test_a_slice_says_what_its_offset_index_runs_over() -> None:
    assert only_problem("Z[i, k] = H[:, 1:h]").hints == (
        "write an index for every position: `H[i, j + 1]`",
        "an offset index: numpy's `1:h` (counted from 0) is `j + 1` with `j` running over "
        "`1..h - 1`",
        "an offset index such as `j + 1` runs over a range its left-hand side names: "
        "`y[j:m] = x[j + 1]` (docs/language.md, 12.10)",
    )
    assert only_problem("Z[i, k] = H[:, :h]").hints == (
        "write an index for every position: `H[i, j]`",
        "`j` then runs over `1..h`",
    )


def test_a_known_array_before_a_parenthesis_is_still_a_product() -> None:
    _, problems = parse(Source("t.idx", HEADER + "y[j] = x(w[j] + 1)\n"))
    assert problems == []


def test_a_name_defined_by_a_loop_template_is_known() -> None:
    text = "dim h = 2\nparam s0[h]\nfor t in 1..2:\n    s{t}[i] = s{t-1}[i]\ny = s2(s1[i])\n"
    assert parse(Source("t.idx", text))[1] == []


def test_a_prime_on_a_vector_is_not_called_a_transpose() -> None:
    problem = only_problem("y = w'")
    assert (problem.code, problem.message) == ("E002", "unexpected character `'`")


@pytest.mark.parametrize(
    ("line", "derivative"),
    [
        ("y = relu'(x[1])", "step(x)"),
        ("y = abs'(x[1])", "sign(x)"),
        ("y = tanh'(x[1])", "1 - tanh(x)^2"),
    ],
)
def test_a_primed_function_shows_its_derivative_not_a_transpose(line: str, derivative: str) -> None:
    """spec 9.5: `relu'(x)` is an error that shows `step(x)` (never "transpose")."""
    problem = only_problem(line)
    name = line.split("'")[0].split()[-1]
    assert (problem.code, problem.message) == ("E025", f"`{name}'` is not a function of `.idx`")
    assert problem.hints == (f"the derivative of `{name}(x)` is written `{derivative}`",)
