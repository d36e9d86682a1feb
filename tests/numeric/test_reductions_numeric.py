"""`max[j]`, `min[j]`, `argmax[j]`, `argmin[j]` (spec 9.2) against numbers computed
here: hand-written numpy gradients and central differences away from ties; and
their kinks (a tie is left out, never a false failure; a wrong claim away from
ties is still caught)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from support import assert_clean, central, run, saved

from shapecheck.numeric.claimcheck import TIE_CONVENTION
from shapecheck.numeric.verdicts import ClaimVerdict, Verdict

Array = Any


def test_global_max_pooling_against_a_hand_written_gradient(tmp_path: Path) -> None:
    text = (
        "dim n = 2, q = 5, c = 3\nparam x[n, q, c]\ninput w[n, c]\n"
        "m[i, k] = max[p](x[i, p, k])\nL = w[i, k] m[i, k]\nderive dL/dx\n"
    )
    report, arrays = saved(text, tmp_path)
    assert_clean(report)
    x, w = arrays["x"], arrays["w"]
    # By hand: the upstream w[i, k] goes to the first argmax along p, nothing elsewhere.
    by_hand = np.zeros_like(x)
    for i in range(x.shape[0]):
        for k in range(x.shape[2]):
            by_hand[i, int(np.argmax(x[i, :, k])), k] = w[i, k]
    np.testing.assert_allclose(arrays["dL/dx"], by_hand, atol=1e-12)
    np.testing.assert_allclose(
        arrays["dL/dx"], central(lambda v: (w * v.max(axis=1)).sum(), x), atol=1e-6
    )


def test_min_of_a_general_body_against_central_differences(tmp_path: Path) -> None:
    text = (
        "dim n = 3, d = 4, h = 5\nparam X[n, d], W[d, h]\n"
        "m[i] = min[k](tanh(X[i, j] W[j, k]))\nL = m[i] m[i]\nderive dL/dX, dL/dW\n"
    )
    report, arrays = saved(text, tmp_path)
    assert_clean(report)
    x, w = arrays["X"], arrays["W"]

    def loss(x: Array, w: Array) -> Array:
        return (np.tanh(x @ w).min(axis=1) ** 2).sum()

    np.testing.assert_allclose(arrays["dL/dX"], central(lambda v: loss(v, w), x), atol=1e-6)
    np.testing.assert_allclose(arrays["dL/dW"], central(lambda v: loss(x, v), w), atol=1e-6)


def test_max_over_two_indices_selects_row_major_first(tmp_path: Path) -> None:
    # Two maxima (a tie) at (1, 3) and (2, 1): the first in row-major order is (1, 3).
    text = (
        "dim u = 2, v = 3\nparam A[u, v] = [[1, 2, 7], [7, 0, 1]]\n"
        "m = max[a, b](A[a, b])\nderive dm/dA\n"
    )
    report, arrays = saved(text, tmp_path)
    assert [d.code for d in report.diagnostics] == []
    selected = np.zeros((2, 3))
    selected[0, 2] = 1.0
    np.testing.assert_array_equal(arrays["dm/dA"], selected)
    (result,) = report.derivatives
    assert result.check is not None and result.check.verdict is Verdict.OK
    assert result.check.at_kink == 2  # both tied entries left out, never a failure


def test_max_over_two_indices_against_central_differences(tmp_path: Path) -> None:
    text = "dim u = 3, v = 4\nparam A[u, v]\nm = max[a, b](A[a, b] A[a, b])\nderive dm/dA\n"
    report, arrays = saved(text, tmp_path)
    assert_clean(report)
    a = arrays["A"]
    np.testing.assert_allclose(arrays["dm/dA"], central(lambda v: (v * v).max(), a), atol=1e-6)


def test_a_selection_as_an_index_and_as_a_value(tmp_path: Path) -> None:
    text = (
        "dim n = 4, c = 5\nparam S[n, c], P[n, c]\n"
        "z[i] = P[i, argmax[k](S[i, k])] + S[i, argmin[k](S[i, k])]\n"
        "r[i] = argmax[k](S[i, k]) z[i]\n"
        "L = r[i]\nderive dL/dP, dL/dS\n"
    )
    report, arrays = saved(text, tmp_path)
    assert_clean(report)
    s, p = arrays["S"], arrays["P"]
    rows = np.arange(4)

    def loss(s: Array, p: Array) -> Array:
        z = p[rows, s.argmax(axis=1)] + s[rows, s.argmin(axis=1)]
        return ((s.argmax(axis=1) + 1) * z).sum()

    np.testing.assert_allclose(arrays["dL/dP"], central(lambda v: loss(s, v), p), atol=1e-6)
    np.testing.assert_allclose(arrays["dL/dS"], central(lambda v: loss(v, p), s), atol=1e-6)
    by_hand = np.zeros_like(p)
    by_hand[rows, s.argmax(axis=1)] = s.argmax(axis=1) + 1
    np.testing.assert_allclose(arrays["dL/dP"], by_hand, atol=1e-12)


def test_the_stable_softmax_shift_has_the_softmax_derivative(tmp_path: Path) -> None:
    text = (
        "dim n = 3, c = 4\nparam S[n, c]\n"
        "E[i, k] = exp(S[i, k] - max[j](S[i, j]))\n"
        "L = log(E[i, k]) + E[i, k]\nderive dL/dS\n"
    )
    report, arrays = saved(text, tmp_path)
    assert_clean(report)
    s = arrays["S"]

    def loss(s: Array) -> Array:
        e = np.exp(s - s.max(axis=1, keepdims=True))
        return (np.log(e) + e).sum()

    np.testing.assert_allclose(arrays["dL/dS"], central(loss, s), atol=1e-6)


# ---- ties: kinks


TIED = "dim n = 2, c = 3\nparam X[n, c] = [[1, 3, 3], [2, 0, 1]]\nmx[i] = max[j](X[i, j])\n"


def test_a_literal_tie_is_left_out_never_a_false_failure() -> None:
    report = run(TIED + "L = mx[i] mx[i]\nderive dmx/dX, dL/dX\n")
    assert [d.code for d in report.diagnostics] == []
    for result in report.derivatives:
        assert result.check is not None and result.check.verdict is Verdict.OK
        assert result.check.at_kink > 0


def test_an_indicator_claim_differs_only_at_the_tie_and_is_confirmed_with_a_hint() -> None:
    report = run(TIED + "dmx/dX[i, p, q] = delta[i, p] (X[i, q] == mx[i])\n")
    assert [d.code for d in report.diagnostics] == []
    (claim,) = report.claims
    assert claim.check is not None and claim.check.verdict is ClaimVerdict.OK
    assert claim.check.check.at_kink > 0
    assert TIE_CONVENTION in claim.check.check.hints


def test_the_derivative_pasted_back_is_confirmed_symbolically() -> None:
    report = run(TIED + "dmx/dX[i, p, q] = delta[i, p] delta[q, argmax[j](X[i, j])]\n")
    assert [d.code for d in report.diagnostics] == []
    (claim,) = report.claims
    assert claim.symbolic.matches


def test_a_claim_wrong_away_from_the_tie_is_caught() -> None:
    # argmin instead of argmax: row 2 has one maximum (2 at q = 1), away from
    # any tie, and its minimum elsewhere, so the claim is wrong there.
    report = run(TIED + "dmx/dX[i, p, q] = delta[i, p] delta[q, argmin[j](X[i, j])]\n")
    assert [d.code for d in report.diagnostics] == ["E402"]


def test_drawn_values_are_checked_without_ties() -> None:
    text = "dim n = 3, c = 4\nparam X[n, c]\nmx[i] = min[j](X[i, j])\nderive dmx/dX\n"
    (result,) = run(text).derivatives
    assert result.check is not None and result.check.verdict is Verdict.OK
    assert result.check.at_kink == 0


def test_a_selection_in_a_delta_moves_with_the_perturbed_input(tmp_path: Path) -> None:
    text = (
        "dim n = 3, c = 4\nparam X[n, c]\n"
        "o[i, k] = delta[k, argmax[j](X[i, j])] X[i, k]\nL = o[i, k] o[i, k]\nderive dL/dX\n"
    )
    report, arrays = saved(text, tmp_path)
    assert_clean(report)
    x = arrays["X"]

    def loss(x: Array) -> Array:
        return (x.max(axis=1) ** 2).sum()

    np.testing.assert_allclose(arrays["dL/dX"], central(loss, x), atol=1e-6)
