"""Rule 3 for comparisons and max/min, and index values (spec 9.2): where the
sums go, what a bare index name means, and the golden E220."""

from __future__ import annotations

import pytest
from support import codes, notation_of, rendered, run

from shapecheck.syntax import ast

HEADER = "dim n = 4, c = 3\ninput X[n, c], x[n], y[n], G[n, n]\nparam a, w[n]\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Both sides compared entry by entry, then summed over the whole term.
        ("out = x[i] > y[i]", "Σ_i (x[i] > y[i])"),
        ("out = (x[i] > y[i])", "Σ_i (x[i] > y[i])"),
        # As for `+`: an index on one side only is summed over the whole term.
        ("out[i] = x[i] > X[i, k]", "Σ_k (x[i] > X[i,k])"),
        # A contraction inside one side stays inside it.
        ("out[i] = X[i, k] X[i, k] >= a", "Σ_k X[i,k] X[i,k] >= a"),
        ("out = max(0, x[i] y[i])", "max(0, Σ_i x[i] y[i])"),
        # max's two arguments are like the operands of `+`.
        ("out = max(x[i], y[i])", "Σ_i max(x[i], y[i])"),
        ("out[i] = min(x[i], X[i, k])", "Σ_k min(x[i], X[i,k])"),
        # A comparison as a factor is one factor of its product.
        ("out = x[i] (x[i] > 0)", "Σ_i x[i] (x[i] > 0)"),
        ("out[i, j] = G[i, j] (G[i, j] > 0)", "G[i,j] (G[i,j] > 0)"),
        ("out = sum[i](x[i] > 0)", "Σ_i (x[i] > 0)"),
        # Index values: a causal mask and a discount, counted for rule 3.
        ("out[i, j] = G[i, j] (j <= i)", "G[i,j] (j <= i)"),
        ("out = 0.9^t w[t]", "Σ_t 0.9^t w[t]"),
        ("out[i] = G[i, j] (j <= i)", "Σ_j G[i,j] (j <= i)"),
        ("out = step(x[i]) + sign(y[i])", "Σ_i step(x[i]) + Σ_i sign(y[i])"),
    ],
)
def test_summation_placement(text: str, expected: str) -> None:
    assert notation_of(HEADER + text) == expected


def test_an_index_name_outside_an_index_list_is_its_value() -> None:
    report = run(HEADER + "out[i, j] = G[i, j] (j <= i)\n")
    assert report.checked is not None
    definition = report.checked.definition("out")
    assert definition is not None
    values = [n for n in ast.walk(definition.rhs) if isinstance(n, ast.IndexValue)]
    assert [v.name for v in values] == ["j", "i"]


def test_a_declared_scalar_is_never_an_index_value() -> None:
    # `a` is a scalar array and also an index here: the bare `a` is the array.
    report = run(HEADER + "out[i] = x[i] a\n")
    assert report.checked is not None
    definition = report.checked.definition("out")
    assert definition is not None
    assert not any(isinstance(n, ast.IndexValue) for n in ast.walk(definition.rhs))


def test_a_name_that_is_no_index_is_still_unknown() -> None:
    assert codes(HEADER + "out[i] = x[i] (q > 0)\n") == ["E101"]


def test_an_index_value_in_no_array_position_is_e220() -> None:
    report = run(HEADER + "out[i, j] = (j <= i) x[j]\n")
    assert rendered(report) == (
        "test.idx:4:19: error[E220]: index `i` stands here as its value 1..size, but "
        "indexes no array in this statement, so its size is unknown\n"
        "  4 | out[i, j] = (j <= i) x[j]\n"
        "    |                   ^\n"
        "  = help: an index takes its size from an array it indexes, as `i` in `x[i]`"
    )


def test_a_claims_signature_sizes_an_index_value() -> None:
    text = HEADER + "L = 0.5^t w[t]\ndL/dw[p] = 0.5^p\n"
    report = run(text)
    assert [d.code for d in report.diagnostics if d.is_error] == []
    assert report.claims[0].symbolic.matches


def test_an_index_bound_by_sum_may_not_stand_as_a_value_outside() -> None:
    assert "E206" in codes(HEADER + "out = sum[t](w[t]) + t\n")


def test_an_index_value_beside_a_failed_array_is_not_also_an_error() -> None:
    """The array's own error is the only one: its positions were never
    recorded, so neither E220 nor E209 may claim the index indexes nothing."""
    report = run("dim n = 2, c = 3\ninput x[n, c] = [[1, 2, 3]]\nm[i, k] = x[i, k] (k > 1)\n")
    assert [d.code for d in report.diagnostics if d.is_error] == ["E106"]


def test_an_unknown_index_like_name_says_how_index_values_work() -> None:
    report = run("dim d = 3\ninput x[d]\nS[i] = (i <= j) x[i]\n")
    (problem,) = [d for d in report.diagnostics if d.is_error]
    assert (problem.code, problem.message) == ("E101", "unknown name `j`")
    assert problem.hints[0].startswith("an index stands as its value (`(j <= i)`, `0.9^j`)")


def test_an_index_value_whose_index_stands_only_inside_a_label() -> None:
    """Regression (fuzzing): `x[y[g]] 0.9^g` is valid, `g` indexes `y`."""
    text = "dim n = 3\nparam x[n]\ninput y[n] in n\nL = x[y[g]] 0.9^g\n"
    assert codes(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A size used as an array and indexed with another size's name.
        ("dim n = 5, i = 6\nL = n[i]\n", ["E101"]),
        # A claim about a definition rejected because its name is a dim.
        ("dim c\nparam a\nc = a\ndc/da = 1\n", ["E102"]),
    ],
)
def test_fuzzed_inputs_that_crashed_the_checker(text: str, expected: list[str]) -> None:
    """Regressions (fuzzing): each was E999; each is now its located error."""
    assert [d.code for d in run(text).diagnostics if d.is_error] == expected
