"""Check, derivative references in definitions and `d2A/dB2` (spec 9.6):
names known and defined above, signatures by the layout rules in both
layouts, integer arrays never a target, W115 for the division's spelling;
golden diagnostics."""

from __future__ import annotations

from support import codes, rendered, run

HEADER = "dim n = 3, d = 2\ninput X[n, d], y[n] in 4\nparam w[d]\nz[i] = X[i, j] w[j]\nL = z[i]^2\n"


def test_reference_in_a_definition_takes_the_signature_indices() -> None:
    report = run(HEADER + "g[j] = dL/dw[j]\nH[i, j, k] = d2z/dw2[i, j, k]\nderive dg/dw\n")
    assert report.errors == 0, rendered(report)
    assert report.checked is not None
    g = report.checked.array("g")
    H = report.checked.array("H")
    assert [str(s) for s in g.shape] == ["d"]
    assert [str(s) for s in H.shape] == ["n", "d", "d"]


def test_denominator_layout_puts_b_first() -> None:
    text = (
        "layout denominator\n" + HEADER + "J[p, i] = dz/dw[p, i]\nH[q, p, i] = d2z/dw2[q, p, i]\n"
    )
    report = run(text)
    assert report.errors == 0, rendered(report)
    assert report.checked is not None
    assert [str(s) for s in report.checked.array("J").shape] == ["d", "n"]
    assert [str(s) for s in report.checked.array("H").shape] == ["d", "d", "n"]


def test_wrong_number_of_indices_of_a_second_derivative() -> None:
    assert rendered(run(HEADER + "H[j] = d2L/dw2[j]\n")) == (
        "test.idx:6:8: error[E202]: `d2L/dw2` takes 2 indices (d×d), not 1\n"
        "  6 | H[j] = d2L/dw2[j]\n"
        "    |        ^^^^^^^^^^\n"
        "  = help: in numerator layout"
    )


def test_a_size_clash_with_the_signature() -> None:
    assert codes(HEADER + "H[i, j] = d2L/dw2[i, j] X[i, j]\n") == ["E201"]


def test_defined_below_is_used_before_its_definition() -> None:
    assert codes(HEADER + "g[j] = dM/dw[j]\nM = L^2\n") == ["E103"]


def test_with_respect_to_an_integer_array() -> None:
    assert rendered(run(HEADER + "q[i] = dL/dy[i]\n")) == (
        "test.idx:6:8: error[E139]: `dL/dy` is with respect to `y`, an integer array\n"
        "  2 | input X[n, d], y[n] in 4\n"
        "    |                ^^^^^^^^^ `y` is declared `in 4` here\n"
        "  6 | q[i] = dL/dy[i]\n"
        "    |        ^^^^^^^^\n"
        "  = help: labels and token ids are constants to every derivative"
    )
    assert codes(HEADER + "q[i] = dL/dy[i]\n") == ["E139"]


def test_a_second_derivative_claim_signature_is_checked() -> None:
    assert rendered(run(HEADER + "d2L/dw2[j] = 2\n")) == (
        "test.idx:6:1: error[E301]: d2L/dw2 has 2 indices (d×d) in numerator layout; "
        "this claim has 1\n"
        "  6 | d2L/dw2[j] = 2\n"
        "    | ^^^^^^^^^^\n"
        "  = help: the gradient of a scalar has the shape of `w`"
    )


def test_spelling_warning_for_the_division_reading() -> None:
    text = HEADER + "input d2L\nderive d2L/dw2\n"
    assert rendered(run(text)).endswith(
        "test.idx:7:8: warning[W115]: `d2L/dw2` is the second derivative of `L` with respect "
        "to `w`, and `d2L` is also a name of this file\n"
        "  7 | derive d2L/dw2\n"
        "    |        ^^^^^^^\n"
        "  = help: to divide `d2L` by `dw2`, write `d2L / dw2` with spaces"
    )


def test_unknown_b_where_b2_exists_shows_the_named_gradient() -> None:
    text = "dim n = 2\nparam w2[n]\nL = w2[i]^3\nderive d2L/dw2\n"
    assert rendered(run(text)) == (
        "test.idx:4:8: error[E101]: unknown name `w` in `d2L/dw2`\n"
        "  4 | derive d2L/dw2\n"
        "    |        ^^^^^^^\n"
        "  = help: `d2A/dw2` is the second derivative with respect to `w`; for `w2`, name the "
        "gradient: `g[...] = dA/dw2[...]`, then `derive dg/dw2`"
    )
