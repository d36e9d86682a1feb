"""Notation the checker words (spec 9.6, 9.7): products and transposes without indices,
`x_i`, names from numpy and sizes on a right-hand side, and `dA/dB` spellings (W115).
Golden: whole rendered diagnostics."""

from __future__ import annotations

import pytest
from support import rendered, run

from shapecheck.diagnostics import Diagnostic

HEADER = "dim n = 8, d = 3, h = 5\ninput X[n, d], x[d]\nparam W[d, h], w[d]\n"


def problems(text: str) -> list[Diagnostic]:
    report = run(HEADER + text, verify=False)
    return [d for d in report.diagnostics if d.code != "W101"]


def only(text: str) -> Diagnostic:
    (problem,) = problems(text)
    return problem


@pytest.mark.parametrize(
    ("line", "code", "message", "hint"),
    [
        (
            "Y[i, k] = X W",
            "E202",
            "`X W` multiplies arrays written without their indices",
            "write the product with indices: `X[i, j] W[j, k]` (a repeated index is summed)",
        ),
        (
            "Y = X * W",
            "E202",
            "`X * W` multiplies arrays written without their indices",
            "write the product with indices: `X[i, j] W[j, k]` (a repeated index is summed)",
        ),
        (
            "v[a] = X w",
            "E202",
            "`X w` multiplies arrays written without their indices",
            "write the product with indices: `X[a, i] w[i]` (a repeated index is summed)",
        ),
        (
            "T = W^T",
            "E021",
            "`W^T` (transpose) is not `.idx` notation",
            "a transpose swaps the indices: `W[j, i]` is the transpose of `W[i, j]`",
        ),
        (
            "T[k, j] = W[j, k]^T",
            "E021",
            "`W[j, k]^T` (transpose) is not `.idx` notation",
            "a transpose swaps the indices: `W[k, j]` is the transpose of `W[j, k]`",
        ),
        (
            "y = x_i",
            "E101",
            "unknown name `x_i`",
            "`x_i` is a name of its own; an entry of `x` is `x[i]`",
        ),
        (
            "y = X_ij",
            "E101",
            "unknown name `X_ij`",
            "`X_ij` is a name of its own; an entry of `X` is `X[i, j]`",
        ),
        (
            "y = n[i]",
            "E101",
            "`n` is a size (`dim`), not an array",
            "a size stands in shapes and index lists, or alone as a number (`/ n`); it has no "
            "entries",
        ),
        (
            "y = maximum",
            "E101",
            "unknown name `maximum`",
            "`maximum` is numpy, not `.idx`: write `max(a, b)`: `max(a, b)` compares entry by "
            "entry",
        ),
    ],
)
def test_notation_the_checker_words(line: str, code: str, message: str, hint: str) -> None:
    problem = only(line)
    assert (problem.code, problem.message, problem.hints) == (code, message, (hint,))


def test_a_product_without_indices_renders_once_at_the_product() -> None:
    report = run(HEADER + "Y[i, k] = X W\n", verify=False)
    assert rendered(report) == (
        "test.idx:4:11: error[E202]: `X W` multiplies arrays written without their indices\n"
        "  4 | Y[i, k] = X W\n"
        "    |           ^^^\n"
        "  = help: write the product with indices: `X[i, j] W[j, k]` (a repeated index is summed)"
    )


def test_an_array_alone_without_indices_shows_them() -> None:
    problem = only("y = X")
    assert problem.hints == (
        "it is declared as X[n, d]; write it with its indices, e.g. `X[i, j]`",
    )


def test_a_plain_unknown_name_is_still_told_to_declare() -> None:
    assert only("y = zz").hints == ("declare it above with `input` or `param`, or define it",)


def test_no_missing_feature_says_declare() -> None:
    for line in (
        "y = maximum(x, w)",
        "z = transpose(W)",
        "y = x_i",
        "y = x[i] / n",
        "y = softmax(x)",
        "T = W^T",
        "Y = X W",
    ):
        for problem in problems(line):
            assert not any("declare" in hint for hint in problem.hints), (line, problem)


SPELLINGS = "param out[n], dout[n]\nL = out[i] dout[i]\n"


def test_a_derivative_whose_dB_is_also_an_array_warns() -> None:
    report = run(HEADER + SPELLINGS + "derive dL/dout\n", verify=False)
    assert rendered(report) == (
        "test.idx:6:8: warning[W115]: `dL/dout` is the derivative of `L` with respect to "
        "`out`, and `dout` is also a name of this file\n"
        "  6 | derive dL/dout\n"
        "    |        ^^^^^^^\n"
        "  = help: for the derivative with respect to `dout`, write `dL/ddout`"
    )


def test_a_derivative_whose_dA_is_also_an_array_shows_both_spellings() -> None:
    text = HEADER + "param dout[d]\nq = dout[i] x[i]\nderive dout/dx\n"
    report = run(text, verify=False)
    warning = next(d for d in report.diagnostics if d.code == "W115")
    assert warning.message == (
        "`dout/dx` is the derivative of `out` with respect to `x`, and `dout` is also a "
        "name of this file"
    )
    assert warning.hints == (
        "to divide `dout` by `dx`, write `dout / dx` with spaces",
        "for the derivative of `dout`, write `ddout/dx`",
    )
    assert [d.code for d in report.diagnostics if d.is_error] == ["E101"]


def test_spellings_in_claims_and_unambiguous_ones() -> None:
    claim = SPELLINGS + "dL/dout[i] = dout[i]\n"
    assert [d.code for d in problems(claim)] == ["W115"]
    # `dL/ddout` is with respect to `dout`; no `ddout` or `dL` exists: no warning.
    assert problems(SPELLINGS + "derive dL/ddout\n") == []


def test_a_paper_transpose_is_one_error_named_after_the_left_side() -> None:
    """`V[k, j] = W^T`: one E021 whose hint uses the left side's names, and no
    E204 for the indices the transpose would have carried."""
    from support import run

    report = run("dim d = 3, h = 2\nparam W[d, h]\nV[k, j] = W^T\n")
    (problem,) = [d for d in report.diagnostics if d.is_error]
    assert problem.code == "E021"
    assert problem.hints == (
        "a transpose swaps the indices: `W[j, k]` is the transpose of `W[k, j]`",
    )
