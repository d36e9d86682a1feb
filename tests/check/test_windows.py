"""Index expressions in positions (spec 9.4): sizes, the range proof, golden diagnostics,
and evaluation against numpy written here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from support import codes, formulas, rendered, run, saved

HEADER = "dim n, k, m = n - k + 1\ninput x[n]\nparam w[k]\n"

GOLDEN = {
    "range": (
        "dim n, k, m\ninput x[n]\nparam w[k]\ny[a:m] = x[a + u - 1] w[u]\n",
        "test.idx:4:12: error[E140]: the first index of x may leave its range: needs "
        "k + m - 1 <= n\n"
        "  4 | y[a:m] = x[a + u - 1] w[u]\n"
        "    |            ^^^^^^^^^\n"
        "  = help: `a + u - 1` must stay inside 1..n over the range of its indices\n"
        "  = help: write `dim m = n - k + 1`",
    ),
    "below_one": (
        HEADER + "y[a:m] = x[a + u - 2] w[u]\n",
        "test.idx:4:12: error[E140]: the first index of x may leave its range: needs 1 <= 0\n"
        "  4 | y[a:m] = x[a + u - 2] w[u]\n"
        "    |            ^^^^^^^^^\n"
        "  = help: `a + u - 2` must stay inside 1..n over the range of its indices",
    ),
    "unsized": (
        HEADER + "y[a] = x[a + u - 1] w[u]\n",
        "test.idx:4:10: error[E145]: the size of index `a` is unknown: it stands only inside "
        "index expressions\n"
        "  4 | y[a] = x[a + u - 1] w[u]\n"
        "    |          ^\n"
        "  = help: say what it runs over on the left: `y[a:m]`",
    ),
    "unsized under a sum": (
        HEADER + "z = sum[a](x[a + u - 1] w[u])\n",
        "test.idx:4:14: error[E145]: the size of index `a` is unknown: it stands only inside "
        "index expressions\n"
        "  4 | z = sum[a](x[a + u - 1] w[u])\n"
        "    |              ^\n"
        "  = help: say what it runs over where it is bound: `sum[a:m](...)`, "
        "or on the left: `z[..., a:m]`",
    ),
    "product": (
        HEADER + "y[a:m] = x[a u]\n",
        "test.idx:4:12: error[E144]: `a * u` multiplies two indices (`a` and `u`)\n"
        "  4 | y[a:m] = x[a u]\n"
        "    |            ^^^\n"
        "  = help: an index expression is a sum of indices times whole numbers or sizes, "
        "such as `2 a + u - 1`\n"
        "  = help: for two positions, separate them with a comma: `a, u`",
    ),
    "label": (
        # An integer array is a part of the expression, bounded by its range.
        HEADER + "input z[n] in n\nq[i] = x[z[i] + 1]\n",
        "test.idx:5:10: error[E140]: the first index of x may leave its range: needs "
        "n + 1 <= n\n"
        "  5 | q[i] = x[z[i] + 1]\n"
        "    |          ^^^^^^^^\n"
        "  = help: `z[i] + 1` must stay inside 1..n over the range of its indices\n"
        "  = help: `z[i]` takes values in 1..n",
    ),
    "label times an index": (
        HEADER + "input z[n] in n\nq[i] = x[i z[i]]\n",
        "test.idx:5:10: error[E031]: `i * z[i]` multiplies an integer array (`z[i]`) by the "
        "index `i`\n"
        "  5 | q[i] = x[i z[i]]\n"
        "    |          ^^^^^^\n"
        "  = help: in an index expression `z[i]` is a term of its own, times a whole number "
        "or a size at most (`2 z[i] - 1`)",
    ),
    "exponent": (
        HEADER + "r = x[2e+1]\n",
        "test.idx:4:7: error[E040]: `2e+1` is read as a number with an exponent\n"
        "  4 | r = x[2e+1]\n"
        "    |       ^^^^\n"
        "  = help: numbers inside an index list are plain digits; for an index expression "
        "write spaces: `2 e + 1`",
    ),
    "annotation_too_long": (
        "dim T\ninput h[T]\nbad[a:T] = h[a + 1] - h[a]\n",
        "test.idx:3:14: error[E140]: the first index of h may leave its range: needs "
        "T + 1 <= T\n"
        "  3 | bad[a:T] = h[a + 1] - h[a]\n"
        "    |              ^^^^^\n"
        "  = help: `a + 1` must stay inside 1..T over the range of its indices",
    ),
}


@pytest.mark.parametrize("case", sorted(GOLDEN))
def test_golden_diagnostics(case: str) -> None:
    text, expected = GOLDEN[case]
    assert rendered(run(text)) == expected


def test_a_colon_on_the_right_is_still_the_slice_error() -> None:
    assert codes(HEADER + "y[a:m] = x[a:m]\n") == ["E023"]


def test_a_left_hand_side_takes_no_expression() -> None:
    assert codes(HEADER + "y[a + 1] = x[a]\n") in (["E004"], ["E003"])


def test_spellings_of_a_product_agree() -> None:
    one = run(HEADER + "dim p = (n - 2) / 2 + 1\ny[a:p] = x[2 a]\n", verify=False)
    two = run(HEADER + "dim p = (n - 2) / 2 + 1\ny[a:p] = x[2*a]\n", verify=False)
    assert one.errors == two.errors == 0, rendered(one)
    assert one.checked is not None and two.checked is not None
    assert str(one.checked.definitions[0].rhs) == str(two.checked.definitions[0].rhs)


def test_offsets_read_other_rows_of_an_existing_array(tmp_path: Path) -> None:
    text = "dim T, k, m = T - 1\ninput h[T, k]\ndh[a:m, j] = h[a + 1, j] - h[a, j]\n"
    text += "L = loss(dh)\nderive dL/dh\n"
    report, values = saved(text, tmp_path)
    assert report.errors == 0, rendered(report)
    g = values["dloss/ddh"]
    expected = np.zeros_like(values["h"])
    expected[1:] += g  # dh[a] = h[a + 1] - h[a]
    expected[:-1] -= g
    np.testing.assert_allclose(values["dL/dh"], expected, rtol=1e-9, atol=1e-12)


def test_a_gate_block_reads_an_offset_with_a_size(tmp_path: Path) -> None:
    text = "dim n, h, g = 3 h\nparam Z[n, g]\nF[i, k:h] = Z[i, k + h] Z[i, k + 2 h]\n"
    text += "L = loss(F)\nderive dL/dZ\n"
    report, values = saved(text, tmp_path)
    assert report.errors == 0, rendered(report)
    Z, G = values["Z"], values["dloss/dF"]
    width = G.shape[1]
    expected = np.zeros_like(Z)
    expected[:, width : 2 * width] = G * Z[:, 2 * width :]
    expected[:, 2 * width :] = G * Z[:, width : 2 * width]
    np.testing.assert_allclose(values["dL/dZ"], expected, rtol=1e-9, atol=1e-12)


def test_a_negative_coefficient_reads_backwards(tmp_path: Path) -> None:
    text = "dim n\nparam x[n]\nr[a:n] = x[n + 1 - a] x[a]\nL = loss(r)\nderive dL/dx\n"
    report, values = saved(text, tmp_path)
    assert report.errors == 0, rendered(report)
    x, g = values["x"], values["dloss/dr"]
    expected = g[::-1] * x[::-1] + g * x[::-1]
    np.testing.assert_allclose(values["dL/dx"], expected, rtol=1e-9, atol=1e-12)


def test_a_shifted_delta_is_one_where_equal_and_zero_out_of_range(tmp_path: Path) -> None:
    text = "dim n = 4\nparam x[n]\nD[p:n, a] = delta[p, a + 2] x[a]\nL = loss(D)\nderive dL/dx\n"
    report, values = saved(text, tmp_path)
    assert report.errors == 0, rendered(report)
    g = values["dloss/dD"]
    # D[p, a] = x[a] where p = a + 2 (within 1..4), else 0.
    expected = np.array([g[a + 2, a] if a + 2 < 4 else 0.0 for a in range(4)])
    np.testing.assert_allclose(values["dL/dx"], expected, rtol=1e-9, atol=1e-12)


def test_the_shifted_delta_stays_under_its_sums() -> None:
    # Eating it would need 1 <= p - u + 1 <= m: it stays (spec 9.4).
    report = run(HEADER + "y[a:m] = x[a + u - 1] w[u]\nL = loss(y)\nderive dL/dx, dL/dw\n")
    assert report.errors == 0, rendered(report)
    shown = formulas(report)
    assert shown["dL/dx"] == "Σ_a Σ_u dL/dy[a] w[u] δ[a + u - 1, p]"
    assert shown["dL/dw"] == "Σ_a dL/dy[a] x[a + u - 1]"


def test_a_loop_variable_in_an_index_expression_is_its_number() -> None:
    text = "dim n = 5\nparam x[n]\nfor t in 1..3:\n    y{t} = x[t + 1] x[2 t - 1] x[t + n - 4]\n"
    report = run(text + "L = y1 + y2 + y3\n", verify=False)
    assert report.errors == 0, rendered(report)
    assert report.checked is not None
    shown = [str(d.rhs) for d in report.checked.definitions[:3]]
    assert shown == ["x[2] x[1] x[t + n - 4]".replace("t", "1")] + [
        f"x[{t + 1}] x[{2 * t - 1}] x[{t} + n - 4]" for t in (2, 3)
    ]


def test_a_long_index_expression_is_refused_before_any_walk() -> None:
    chain = " + ".join(["a"] * 70)
    assert rendered(run(f"dim n\nparam x[n]\nL = x[{chain}]\n")).startswith(
        "test.idx:3:7: error[E041]: this expression has 70 terms; an index or size "
        "expression has at most 64\n"
    )


def test_latex_and_markdown_print_the_expression_in_math() -> None:
    from shapecheck.render import output

    report = run(HEADER + "y[a:m] = x[a + u - 1] w[u]\nL = loss(y)\nderive dL/dx\n")
    assert report.errors == 0, rendered(report)
    for name in ("latex", "markdown"):
        text, _ = output.render([report], name, strict=False, status_of=lambda r: 0, detailed=True)
        assert "x_{a + u - 1}" in text
        assert r"\delta_{a + u - 1,p}" in text
        assert r"\mathit{a + u - 1}" not in text


def test_a_derivative_reference_position_is_range_checked_too() -> None:
    # `dL/ds[i, 7 j]` reads past the reference's size (an E999 found by fuzzing).
    text = (
        "dim n = 4, d = 5\ninput x[n, d]\ns[i, j] = sigmoid(x[i, j])\nL = loss(s)\n"
        "dL/dx[i, j] = dL/ds[i, 7 j] s[i, j] (1 - s[i, j])\n"
    )
    assert codes(text) == ["E140"]


def test_a_delta_at_a_number_outside_its_range_is_zero() -> None:
    # `2 2 2` folds to 8, outside 1..2: the delta is 0 everywhere (spec 9.4),
    # so the claim misses a term and is wrong, not an internal error.
    text = (
        "param X[2, 2] = [[3, 2], [6, -4]]\nD = X[1, 1] X[2, 2] - X[1, 2] X[2, 1]\n"
        "dD/dX[p, q] = delta[p, 1] delta[q, 1] X[2, 2] + delta[p, 2] delta[q, 2] X[1, 1] "
        "- delta[p, 1] delta[q, 2 2 2] X[2, 1] - delta[p, 2] delta[q, 1] X[1, 2]\n"
    )
    assert codes(text) == ["E402"]
