"""The index rules of spec section 4, one test (or more) per rule."""

from __future__ import annotations

import pytest
from support import codes, notation_of, rendered, run

from shapecheck.render.notation import notation

HEADER = "dim n = 8, d = 3, h = 5\ninput X[n, d], x[d], y[n], Z[n, h]\nparam W[d, h], b[h], a\n"


# ---- rule 3: where the sums go (the spec's own examples)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("out[i, k] = X[i, j] W[j, k] + b[k]", "Σ_j X[i,j] W[j,k] + b[k]"),
        ("out[i, k] = tanh(X[i, j] W[j, k])", "tanh(Σ_j X[i,j] W[j,k])"),
        ("out = sqrt(x[i] x[i])", "sqrt(Σ_i x[i] x[i])"),
        ("out = tanh(x[i] x[i]) x[i]", "Σ_i tanh(x[i] x[i]) x[i]"),
        ("out[i] = exp(Z[i, e])", "Σ_e exp(Z[i,e])"),
        ("out = (X[i, j] x[j] - y[i])^2", "Σ_i (Σ_j X[i,j] x[j] - y[i])^2"),
        # A sum over the whole term when the index stands in one factor.
        ("out[k] = 2 * Z[i, k]", "Σ_i 2 * Z[i,k]"),
        # An index in several top-level terms is summed in each.
        ("out = x[i] + x[i]^2", "Σ_i x[i] + Σ_i x[i]^2"),
        # Across a + inside parentheses: summed over the whole term.
        ("out[k] = (Z[i, k] + b[k]) a", "Σ_i (Z[i,k] + b[k]) a"),
        # The divisor of / is a factor of the product.
        ("out = x[j] / x[j]", "Σ_j x[j] / x[j]"),
        # An explicit sum is a scope of its own.
        ("out[i] = sum[j](X[i, j]) + y[i]", "Σ_j X[i,j] + y[i]"),
        ("out = sum[j](x[j] x[j] + X[i, j] X[i, j])", "Σ_j (x[j] x[j] + Σ_i X[i,j] X[i,j])"),
        # Parentheses around the whole side change nothing.
        ("out[i] = (X[i, j] x[j] + y[i])", "Σ_j X[i,j] x[j] + y[i]"),
        # A diagonal: both occurrences in one array, summed over the term.
        ("out = X[i, j] X[i, j]", "Σ_{i,j} X[i,j] X[i,j]"),
    ],
)
def test_summation_placement(text: str, expected: str) -> None:
    assert notation_of(HEADER + text) == expected


def test_sum_not_last_in_product_gets_parentheses() -> None:
    assert notation_of(HEADER + "out[k] = sum[i](Z[i, k]) b[k]") == "(Σ_i Z[i,k]) b[k]"


def test_summed_and_broadcast_are_reported() -> None:
    report = run(HEADER + "out[i, k] = X[i, j] W[j, k] + b[k]\n")
    assert report.checked is not None
    definition = report.checked.definition("out")
    assert definition is not None
    assert definition.summed == ("j",)
    assert definition.broadcast == ((), ("i",))


# ---- rule 1: one size per index


def test_two_sizes_names_both_places_and_sizes() -> None:
    report = run(HEADER + "out[i, k] = X[i, j] W[k, j]\n")
    assert rendered(report) == (
        "test.idx:4:26: error[E201]: index `j` has two sizes\n"
        "  4 | out[i, k] = X[i, j] W[k, j]\n"
        "    |                  ^       ^ `j` is h (5) here\n"
        "    |                  `j` is d (3) here\n"
        "  = help: the second index of X and the second index of W must have one size"
    )


def test_one_size_per_statement_even_across_terms() -> None:
    assert codes(HEADER + "out = x[i] x[i] + y[i] y[i]\n") == ["E201"]


def test_symbolic_dims_differ_from_each_other_and_from_numbers() -> None:
    assert codes("dim n, m\ninput A[n], B[m]\nout = A[i] B[i]\n") == ["E201"]
    assert codes("dim n\ninput A[n], B[3]\nout = A[i] B[i]\n") == ["E201"]
    assert codes("dim n = 3\ninput A[n], B[3]\nout = A[i] B[i]\n") == []


# ---- rule 2: rank and literal range


def test_rank() -> None:
    assert codes(HEADER + "out[k] = b[k, k]\n") == ["E202"]
    assert codes(HEADER + "out = a[i]\nz = x\n") == ["E202", "E202"]


def test_literal_index_range() -> None:
    assert codes(HEADER + "out = x[3]\n") == []
    assert codes(HEADER + "out = x[4]\n") == ["E203"]


# ---- rules 4-6


def test_left_index_must_occur_on_the_right() -> None:
    assert codes(HEADER + "out[i, q] = y[i]\n") == ["E204"]


def test_left_index_twice() -> None:
    assert codes(HEADER + "out[i, i] = y[i]\n") == ["E108"]


def test_delta_indices_have_one_size() -> None:
    assert codes(HEADER + "out[i, k] = delta[i, k] y[i] b[k]\n") == ["E205"]
    assert codes(HEADER + "out[i, p] = delta[i, p] y[i]\n") == []


def test_delta_needs_two_or_more_indices() -> None:
    assert codes(HEADER + "out = delta[i]\n") == ["E208"]
    assert codes(HEADER + "out[i] = delta[i, i, i] y[i]\n") == []


def test_delta_sizes_an_index_that_indexes_no_array() -> None:
    report = run(HEADER + "out[i] = delta[i, j] y[i]\n")
    assert report.errors == 0, rendered(report)
    assert report.checked is not None
    definition = report.checked.definition("out")
    assert definition is not None
    assert str(definition.size_of("j")) == "n"


def test_literal_index_in_a_delta_lies_in_its_range() -> None:
    assert codes(HEADER + "out[i] = delta[i, 8] y[i]\n") == []
    assert codes(HEADER + "out[i] = delta[i, 9] y[i]\n") == ["E203"]


def test_delta_only_index_has_unknown_size() -> None:
    assert codes(HEADER + "out = delta[p, q]\n") == ["E209"]


def test_sum_bound_index_rules() -> None:
    assert codes(HEADER + "out[j] = sum[j](x[j])\n") == ["E206"]
    assert codes(HEADER + "out = sum[j](x[j]) + x[j]\n") == ["E206"]
    assert codes(HEADER + "out = sum[j](a)\n") == ["E207"]
    assert codes(HEADER + "out = sum[j](sum[j](x[j]))\n") == ["E206"]
    assert codes(HEADER + "out = sum[j, j](x[j])\n") == ["E206"]


# ---- rule 7: names


def test_unknown_name_suggests_a_close_one() -> None:
    report = run(HEADER + "out = x[i] w[i]\n")
    assert codes(HEADER + "out = x[i] w[i]\n") == ["E101"]
    assert next(d for d in report.diagnostics if d.code == "E101").hints == ("did you mean `W`?",)


def test_redefinition_and_use_before_definition() -> None:
    assert codes(HEADER + "out = a\nout = a\n") == ["E102"]
    assert codes(HEADER + "out = later\nlater = a\n") == ["E103"]
    assert codes(HEADER + "out = out + a\n") == ["E103"]


def test_left_side_reusing_a_dim_name() -> None:
    assert codes(HEADER + "out[n] = y[n]\n") == ["E107"]


def test_derive_of_something_independent_is_a_warning() -> None:
    report = run(HEADER + "out = a\nderive dout/dW\n")
    assert codes(HEADER + "out = a\nderive dout/dW\n") == ["W102"]
    assert report.errors == 0


def test_unknown_derive_target() -> None:
    assert codes(HEADER + "out = a\nderive dout/dQ\n") == ["E101"]


def test_derivative_reference_in_claims_and_definitions() -> None:
    # Second edition (spec 9.6): a definition may use a derivative too; the
    # one below it (`q` by itself) is still E103, as any use before definition.
    assert codes(HEADER + "out = a\nq = dout/da\n") == []
    assert codes(HEADER + "q = dout/da\nout = a\n") == ["E103"]
    assert codes(HEADER + "out = a a\ndout/da = 2 a + 0 * dout/da\n") == []


# ---- rule 8: unused declarations


def test_unused_declarations_are_warnings() -> None:
    report = run("dim n, m\nparam x[n], z[n]\ny = x[i]\n")
    assert codes("dim n\nparam x[n]\ny = x[i]\n") == []
    assert [(d.code, d.message) for d in report.diagnostics] == [
        ("W101", "dim `m` is never used"),
        ("W101", "param `z` is never used"),
    ]
    assert report.errors == 0


# ---- declarations


def test_sizes_must_be_positive_whole_numbers_in_range() -> None:
    assert codes("dim n = 0\nparam x[n]\ny = x[i]\n") == ["E105"]
    assert codes("dim n = 2.5\nparam x[n]\ny = x[i]\n") == ["E105"]
    assert codes("dim n = 10^12\nparam x[n]\ny = x[i]\n") == ["E105"]
    # Accepted as a size; too large to check numerically (W104, a warning).
    assert codes("dim n = 10^9\nparam x[n]\ny = x[i]\n", verify=False) == []
    assert codes("dim n = 10^9\nparam x[n]\ny = x[i]\n") == ["W104"]


def test_literal_values_fit_the_shape() -> None:
    assert codes("param x[3] = [1, 2]\ny = x[i]\n") == ["E106"]
    assert codes("param x[2, 2] = [[1, 2], [3]]\ny = x[i, j]\n") == ["E106"]
    assert codes("param x[2] = [[1], [2]]\ny = x[i]\n") == ["E106"]
    assert codes("param c = 0.5\ny = c\n") == []


def test_literal_values_need_known_sizes() -> None:
    assert codes("dim n\nparam x[n] = [1, 2]\ny = x[i]\n") == ["E106"]
    assert codes("dim n = 2\nparam x[n] = [1, 2]\ny = x[i]\n") == []


def test_positive_literal_values_are_positive() -> None:
    assert codes("param x[2] positive = [1, -2]\ny = x[i]\n") == ["E106"]
    assert codes("param x[2] positive = [1, 0]\ny = x[i]\n") == ["E106"]
    assert codes("param x[2] positive = [1, 2]\ny = x[i]\n") == []


def test_layout_at_most_once() -> None:
    assert codes("layout numerator\nlayout denominator\nparam a\ny = a\n") == ["E104"]


def test_every_problem_is_reported() -> None:
    text = HEADER + "p[i, k] = X[i, j] W[k, j]\nq = nope\nr[i] = b[i, i]\n"
    assert codes(text) == ["E201", "E101", "E202"]


# ---- claims


def test_claim_signature_is_checked() -> None:
    base = HEADER + "out[i, k] = X[i, j] W[j, k]\nL = out[i, k] out[i, k]\n"
    assert codes(base + "dL/dW[j, k] = 2 X[i, j] out[i, k]\n") == []
    assert codes(base + "dL/dW[j] = X[i, j]\n") == ["E301"]
    # The claim's indices take sizes from the signature: j is d, k is h.
    assert codes(base + "dL/dW[k, j] = 2 X[i, j] out[i, k]\n") == ["E201", "E201"]


def test_claim_signature_in_denominator_layout() -> None:
    base = HEADER + "layout denominator\nout[i, k] = X[i, j] W[j, k]\n"
    assert codes(base + "dout/dW[p, q, i, k] = X[i, p] delta[k, q]\n") == []
    # i is d by the signature but n in X; p is n by the signature but d in X.
    assert codes(base + "dout/dW[i, k, p, q] = X[i, p] delta[k, q]\n") == ["E201"] * 2


def test_layout_option_loses_to_the_file() -> None:
    report = run("layout numerator\nparam a\ny = a\n", layout="denominator")
    assert [d.code for d in report.diagnostics] == ["W103"]
    assert report.checked is not None
    assert report.checked.layout == "numerator"
    no_statement = run("param a\ny = a\n", layout="denominator", verify=False)
    assert no_statement.checked is not None
    assert no_statement.checked.layout == "denominator"


# ---- unrolling


def test_unrolled_errors_name_the_line_and_t() -> None:
    text = (
        "dim h = 4, d = 3\nparam W[d, h], U[d, d]\ninput s0[h], x1[d], x2[d]\n"
        "for t in 1..2:\n    s{t}[i] = x{t}[j] W[j, i] + s{t-1}[k] U[k, i]\nL = s2[i]\n"
    )
    report = run(text)
    assert [d.code for d in report.diagnostics] == ["E201", "E201"]
    span = report.diagnostics[1].span
    assert span is not None
    assert report.source.position(span.start)[0] == 5  # the line inside the block
    assert report.diagnostics[1].context == "unrolled with t = 1; also with t = 2"


def test_unroll_replaces_templates_and_literal_t() -> None:
    text = "dim T = 3\ninput X[T, 2]\nfor t in 1..T:\n    y{t} = X[t, j]\nL = y1 + y2 + y3\n"
    report = run(text)
    assert report.errors == 0, rendered(report)
    assert report.checked is not None
    y2 = report.checked.definition("y2")
    assert y2 is not None
    assert notation(y2.rhs) == "Σ_j X[2,j]"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("for t in 1..20000:\n    y{t} = 1\n", "E111"),
        ("dim n\nfor t in 1..n:\n    y{t} = 1\n", "E111"),
        ("for t in 3..1:\n    y{t} = 1\n", "E111"),
        ("y{t} = 1\n", "E112"),
        ("for t in 1..2:\n    y{u} = 1\n", "E112"),
        ("for t in 1..2:\n    y{t-2} = 1\n", "E112"),
        ("for t in 1..2:\n", "E013"),
    ],
)
def test_unroll_errors(text: str, code: str) -> None:
    assert code in codes(text)


def test_separate_sums_may_reuse_an_index_name() -> None:
    shown = notation_of(HEADER + "out = sum[j](x[j]) + sum[j](x[j] x[j])")
    assert shown == "Σ_j x[j] + Σ_j x[j] x[j]"
