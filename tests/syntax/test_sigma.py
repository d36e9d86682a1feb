"""`Σ_j e` and `Σ_{j,k} e` as input (spec 10, docs/language.md 13.1): the same
tree as `sum[...](...)`, reaching to the end of its product; and the upstream
gradient `dloss/dA` that derivations print, taken in a claim."""

from __future__ import annotations

import pytest
from support import codes, run, spanless

from shapecheck.source import Source
from shapecheck.syntax import ast
from shapecheck.syntax.parse import parse


def _rhs(text: str) -> object:
    program, problems = parse(Source("s.idx", f"y[k] = {text}\n"))
    assert problems == [], [p.message for p in problems]
    (statement,) = program.statements
    assert isinstance(statement, ast.Definition)
    return spanless(statement.rhs)


@pytest.mark.parametrize(
    ("sigma", "bracket"),
    [
        ("Σ_i 2 Y[i, k]", "sum[i](2 Y[i, k])"),
        ("(Σ_i Z[i, k]) b[k]", "sum[i](Z[i, k]) b[k]"),
        ("2 Σ_i x[i] x[i] + 1", "2 sum[i](x[i] x[i]) + 1"),
        ("b[k] / Σ_i x[i] x[i]", "b[k] / sum[i](x[i] x[i])"),
        ("a - Σ_j x[j]", "a - sum[j](x[j])"),
        ("a -Σ_j x[j]", "a - sum[j](x[j])"),
        ("-Σ_j x[j] w[j]", "-sum[j](x[j] w[j])"),
        ("a * -Σ_j x[j]", "a * -sum[j](x[j])"),
        ("Σ_{i,j} X[i, j]", "sum[i, j](X[i, j])"),
        ("Σ_{ i , j } X[i, j]", "sum[i, j](X[i, j])"),
        ("Σ_{u:2, v:n} X[u, v]", "sum[u:2, v:n](X[u, v])"),
        ("Σ_i x[i] > Σ_j w[j]", "sum[i](x[i]) > sum[j](w[j])"),
        ("max(Σ_i x[i], 0)", "max(sum[i](x[i]), 0)"),
        ("Σ_i Σ_j X[i, j]", "sum[i](sum[j](X[i, j]))"),
        ("Σ_k2 x[k2]", "sum[k2](x[k2])"),
    ],
)
def test_sigma_builds_the_tree_of_sum(sigma: str, bracket: str) -> None:
    assert _rhs(sigma) == _rhs(bracket)


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ("a = Σ x[i]", "E070"),
        ("a = Σ_ x[i]", "E071"),
        ("a = Σ_(x[i])", "E071"),
        ("a = Σ_1 x[i]", "E071"),
        ("a = Σ_{} x[i]", "E072"),
        ("a = Σ_{i,} x[i]", "E072"),
        ("a = Σ_{i j} x[i]", "E072"),
        ("a = Σ_{i:} x[i]", "E072"),
        ("a = Σ_{i x[i]", "E072"),
        ("a = Σ_i", "E073"),
        ("a = Σ_i + x[1]", "E073"),
        ("a = (Σ_i) x[i]", "E073"),
        ("a = x[1]^Σ_i x[i]", "E074"),
        ("a = 2^-Σ_i x[i]", "E074"),  # not E008, "a keyword as a name" (review)
        ("a = Σ_{i, i} x[i]", "E206"),
        ("a = Σ_j x[1]", "E207"),
        ("a = Σ(x[i])", "E026"),
    ],
)
def test_each_misuse_of_sigma_has_its_code(line: str, code: str) -> None:
    assert codes(f"dim n = 3\nparam x[n]\n{line}\n") == [code]


_LOSS = """dim n = 3, m = 2
param X[n, m]
Y[i, k] = X[i, k]^2
L = loss(Y)
"""


def test_a_claim_takes_the_upstream_gradient_it_is_printed_with() -> None:
    report = run(_LOSS + "dL/dX[i, k] = 2 X[i,k] dloss/dY[i,k]\n")
    assert report.errors == 0, report.diagnostics
    (claim,) = report.claims
    assert claim.symbolic.matches and claim.confirmed


def test_a_wrong_claim_with_the_upstream_gradient_is_wrong() -> None:
    assert codes(_LOSS + "dL/dX[i, k] = X[i,k] dloss/dY[i,k]\n") == ["E402"]


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ("dL/dX[i, k] = dloss/dX[i,k]", "E101"),  # no loss(X) in the file
        ("dL/dX[i, k] = dloss/dY[i]", "E202"),  # Y has two indices
        ("Q[i, k] = dloss/dY[i,k]", "E101"),  # a definition does not take it
    ],
)
def test_the_upstream_gradient_only_where_it_exists(line: str, code: str) -> None:
    assert code in codes(_LOSS + line + "\n")
