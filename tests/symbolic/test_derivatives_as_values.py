"""Derivatives as values and second derivatives (spec 9.6, language reference
12.14): a derivative reference in a definition, `d2A/dB2`, Hessians by a
named gradient, every result against numbers computed here with numpy
(closed forms and central differences), never against the tool's verifier
alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from support import assert_clean, central, codes, formulas, load_module, rendered, run, saved

from shapecheck.render.numpy_module import module as render_module

TANH = """dim n = 2, d = 3
param W[n, d]
input x[d]
y[i] = tanh(W[i, j] x[j])
"""


def _tanh_hessian(W: np.ndarray, x: np.ndarray) -> np.ndarray:
    """d2y[i]/dx[q]dx[r] = -2 y (1 - y^2) W[i,q] W[i,r], written by hand."""
    y = np.tanh(W @ x)
    return np.einsum("i,iq,ir->iqr", -2 * y * (1 - y**2), W, W)


def test_d2_of_a_vector_in_numerator_layout_is_its_hessian(tmp_path: Path) -> None:
    report, arrays = saved(TANH + "derive d2y/dx2\n", tmp_path)
    assert_clean(report)
    (result,) = report.derivatives
    assert result.derivation.label == "d2y/dx2"
    expected = _tanh_hessian(arrays["W"], arrays["x"])
    np.testing.assert_allclose(arrays["d2y/dx2"], expected, rtol=1e-9, atol=1e-12)
    # Independently of the closed form: second differences of the forward pass.
    W = arrays["W"]
    twice = central(lambda x: central(lambda z: np.tanh(W @ z), x, 1e-4), arrays["x"], 1e-4)
    np.testing.assert_allclose(arrays["d2y/dx2"], twice, rtol=1e-5, atol=1e-7)


def test_d2_in_denominator_layout_puts_outer_then_inner_then_a(tmp_path: Path) -> None:
    text = "layout denominator\n" + TANH + "derive d2y/dx2\n"
    report, arrays = saved(text, tmp_path)
    assert_clean(report)
    (result,) = report.derivatives
    assert [i.size.value for i in result.derivation.signature] == [3, 3, 2]
    expected = np.transpose(_tanh_hessian(arrays["W"], arrays["x"]), (2, 1, 0))
    np.testing.assert_allclose(arrays["d2y/dx2"], expected, rtol=1e-9, atol=1e-12)


def test_named_gradient_differentiated_again_is_the_hessian(tmp_path: Path) -> None:
    text = TANH + "g[i, q] = dy/dx[i, q]\nderive dg/dx\n"
    report, arrays = saved(text, tmp_path)
    assert_clean(report)
    expected = _tanh_hessian(arrays["W"], arrays["x"])
    np.testing.assert_allclose(arrays["dg/dx"], expected, rtol=1e-9, atol=1e-12)


def test_reference_inside_an_expression(tmp_path: Path) -> None:
    # r = |dL/dw|^2 for L = Σ sin(w)^2 ... dr/dw by hand: 2 g * dg/dw (diagonal).
    text = "dim n = 4\nparam w[n]\nL = sin(w[i])^2\nr = dL/dw[j] dL/dw[j]\nderive dr/dw\n"
    report, arrays = saved(text, tmp_path)
    assert_clean(report)
    w = arrays["w"]
    g = 2 * np.sin(w) * np.cos(w)
    np.testing.assert_allclose(arrays["dr/dw"], 2 * g * 2 * np.cos(2 * w), rtol=1e-9)
    independent = central(lambda v: np.sum(np.sin(2 * v) ** 2), w)
    np.testing.assert_allclose(arrays["dr/dw"], independent, rtol=1e-6, atol=1e-8)


def test_any_order_by_naming_each_derivative(tmp_path: Path) -> None:
    text = (
        "dim n = 3\nparam w[n]\nL = w[i]^4\ng[j] = dL/dw[j]\nh[j, k] = dg/dw[j, k]\nderive dh/dw\n"
    )
    report, arrays = saved(text, tmp_path)
    assert_clean(report)
    w = arrays["w"]
    third = np.zeros((3, 3, 3))
    for k in range(3):
        third[k, k, k] = 24 * w[k]
    np.testing.assert_allclose(arrays["dh/dw"], third, rtol=1e-9, atol=1e-12)


def test_scalar_hessian_claim_in_textbook_form_is_confirmed() -> None:
    text = (
        "dim n = 5, d = 3\ninput X[n, d]\nparam w[d]\n"
        "L = log(1 + exp(X[i, j] w[j]))\n"
        "s[i] = sigmoid(X[i, j] w[j])\n"
        "d2L/dw2[j, k] = X[i, j] s[i] (1 - s[i]) X[i, k]\n"
    )
    report = run(text)
    assert [d.code for d in report.diagnostics if d.code != "W101"] == [], rendered(report)
    (claim,) = report.claims
    assert claim.check is not None and claim.check.verdict.name == "OK"
    assert claim.symbolic.matches or claim.check.verdict.name == "OK"


def test_wrong_hessian_claim_is_an_error() -> None:
    text = TANH + "d2y/dx2[i, q, r] = 2 y[i] W[i, q] W[i, r]\n"
    assert "E402" in codes(text)


def test_derivative_of_a_comparison_is_zero_without_w102() -> None:
    text = "dim n = 3\nparam w[n]\nc = sum[i](w[i] > 0)\ng[i] = dc/dw[i]\nderive dg/dw, d2c/dw2\n"
    report = run(text)
    assert_clean(report)
    # dc/dw, the reference, is derived and verified too (like a `derive` of it).
    assert formulas(report) == {"dg/dw": "0", "d2c/dw2": "0", "dc/dw": "0"}


def test_a_reference_is_not_a_use_for_the_default_derive() -> None:
    # L is used only by the reference in r: both are derived by default.
    text = "dim n = 3\nparam w[n]\nL = w[i]^3\nr = dL/dw[j] dL/dw[j]\n"
    report = run(text)
    assert_clean(report)
    assert [r.derivation.label for r in report.derivatives] == ["dL/dw", "dr/dw"]


def test_a_reference_is_a_use_for_unused_declarations() -> None:
    text = "dim n = 3\nparam w[n], b[n]\nL = w[i]^3\ng[i] = dL/db[i]\nderive dg/dw\n"
    assert codes(text) == []
    report = run(text)
    assert not [d for d in report.diagnostics if d.code == "W101"]
    assert formulas(report) == {"dg/dw": "0", "dL/db": "0"}


def test_second_derivative_through_loss_is_an_error() -> None:
    text = "dim n = 3\nparam w[n]\ny[i] = tanh(w[i])\nL = loss(y)\nderive d2L/dw2\n"
    assert rendered(run(text)) == (
        "test.idx:5:8: error[E170]: d2L/dw2 needs the derivative of `dloss/dy`: "
        "`loss` has a first derivative only\n"
        "  5 | derive d2L/dw2\n"
        "    |        ^^^^^^^\n"
        "  = help: for a second derivative, write the loss with an opaque function: "
        "`fn f` then `f(y[...])` (language reference 12.14)"
    )


def test_second_derivative_through_loss_in_a_definition_is_located_there() -> None:
    text = (
        "dim n = 3\nparam w[n]\ny[i] = tanh(w[i])\nL = loss(y)\n"
        "H[i, j] = d2L/dw2[i, j]\nderive dL/dw\n"
    )
    report = run(text)
    assert [d.code for d in report.diagnostics] == ["E170"]
    (problem,) = report.diagnostics
    assert problem.span is not None and report.source.text[problem.span.start :].startswith("H[")


def test_first_derivative_through_loss_still_stands_in_a_definition(tmp_path: Path) -> None:
    text = "dim n = 3\nparam w[n]\ny[i] = tanh(w[i])\nL = loss(y)\ng[i] = dL/dw[i]\n"
    text += "s = g[i] g[i]\nderive ds/dy\n"
    report = run(text)
    # s depends on dloss/dy, whose derivative `loss` does not have.
    assert "E170" in codes(text), rendered(report)


def test_a_reference_is_verified_like_a_derive_of_it() -> None:
    report = run(TANH + "g[i, q] = dy/dx[i, q]\n")
    assert_clean(report)
    (result,) = report.derivatives
    assert result.derivation.label == "dy/dx" and not result.request.default
    assert result.request.span is not None
    assert report.source.text[result.request.span.start :].startswith("dy/dx[i, q]")


def test_emitted_numpy_module_computes_the_hessian(tmp_path: Path) -> None:
    text = TANH + "g[i, q] = dy/dx[i, q]\nderive dg/dx, d2y/dx2\n"
    report, arrays = saved(text, tmp_path)
    module = load_module(render_module(report), tmp_path)
    W, x = arrays["W"], arrays["x"]
    values = module.backward(W=W, x=x)
    expected = _tanh_hessian(W, x)
    np.testing.assert_allclose(values["dg/dx"], expected, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(values["d2y/dx2"], expected, rtol=1e-9, atol=1e-12)
    forward = module.forward(W=W, x=x)
    y = np.tanh(W @ x)
    np.testing.assert_allclose(forward["g"], (1 - y**2)[:, None] * W, rtol=1e-12)


def test_explain_takes_a_second_derivative() -> None:
    from shapecheck.explain import Explanation, explain, parse_target

    assert parse_target("d2L/dw2") == ("L", "w", 2)
    assert parse_target("∂²L/∂w²") == ("L", "w", 2)
    assert parse_target("dL/dw2") == ("L", "w2", 1)
    result = explain(TANH + "derive d2y/dx2\n", "y", "x", order=2)
    assert isinstance(result, Explanation)
    assert result.label == "d2y/dx2"
    assert [i.size.value for i in result.derivation.signature] == [2, 3, 3]


def test_a_reference_whose_inner_names_meet_its_own_is_renamed_apart() -> None:
    # dL/dv holds `v[p] δ[1,p] + v[1]`-like sums; renaming its inner indices
    # once gave its own `p` twice (an internal error, found by hypothesis).
    text = (
        "dim n = 2\nparam v[n]\ny[i] = v[i] v[1]\nL = tanh(y[i]) y[i]\n"
        "r = dL/dv[i] v[i]\nderive dr/dv\n"
    )
    report = run(text)
    assert [d.code for d in report.diagnostics if d.is_error] == []
    # dr/dv, and the reference dL/dv verified like a derive of it.
    assert [r.derivation.label for r in report.derivatives] == ["dr/dv", "dL/dv"]
    assert all(r.check is not None and r.check.verdict == "ok" for r in report.derivatives)


def test_unrolling_keeps_the_order_of_a_derive_and_of_a_claim() -> None:
    # A `derive d2L/dw2` in a `for` block, and a d2 claim through a range sum,
    # are rebuilt by unrolling: they stay second derivatives (found in review).
    in_loop = run("dim n = 2\nparam w[n]\nL = w[i] w[i] w[i]\nfor t in 1..1:\n    derive d2L/dw2\n")
    assert [r.derivation.label for r in in_loop.derivatives] == ["d2L/dw2"]
    right = run("param b\nL = b^3\nderive d2L/db2\nd2L/db2 = sum[t in 1..1](6 b)\n")
    assert [d.code for d in right.diagnostics] == []
    (claim,) = right.claims
    assert claim.symbolic.claim.order == 2 and claim.confirmed is True
    wrong = run("param b\nL = b^3\nderive d2L/db2\nd2L/db2 = sum[t in 1..1](3 b^2)\n")
    assert [d.code for d in wrong.diagnostics] == ["E402"]
