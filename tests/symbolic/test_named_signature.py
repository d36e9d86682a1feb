"""`derive dY/dX[i, k, p, q]` names the signature (spec 10): the derivative is
the same array under the names asked for, computed values checked here against
closed forms written with numpy, and every misuse a located diagnostic."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from support import codes, rendered, run, saved

from shapecheck.render.derivatives import shown_formula

AFFINE = "dim n = 3, d = 2\ninput X[n, d]\nparam W[d, n]\nY[i, k] = X[i, j] W[j, k]\nL = loss(Y)\n"


def _shown(report: object) -> dict[str, tuple[str, str]]:
    return {
        r.derivation.label: (
            ",".join(i.name for i in r.derivation.signature),
            shown_formula(r),
        )
        for r in report.derivatives  # type: ignore[attr-defined]
    }


def test_the_names_asked_for_are_the_signature(tmp_path: Path) -> None:
    # k is summed in the default dL/dX (Σ_k W[j,k] dL/dY[i,k]): naming the
    # first index k moves the sum's k away; a Jacobian takes four names.
    text = AFFINE + "derive dL/dX[k, j], dY/dW[k, i, a, b]\n"
    report, values = saved(text, tmp_path)
    assert _shown(report) == {
        "dL/dX": ("k,j", "Σ_p W[j,p] dL/dY[k,p]"),
        "dY/dW": ("k,i,a,b", "X[k,a] δ[i,b]"),
    }
    x, w, upstream = values["X"], values["W"], values["dloss/dY"]
    np.testing.assert_allclose(values["dL/dX"], upstream @ w.T, rtol=1e-12)
    jacobian = np.einsum("ka,ib->kiab", x, np.eye(3))
    np.testing.assert_allclose(values["dY/dW"], jacobian, rtol=1e-12)


def test_a_swap_of_the_default_names() -> None:
    # [k, i] for the default [i, k]: renamed at once, not one after the other.
    text = "dim n = 3, m = 4\nparam A[n, m]\nB[i, k] = 2 A[i, k]\nderive dB/dA[k, i, p, q]\n"
    (result,) = run(text).derivatives
    assert [i.name for i in result.derivation.signature] == ["k", "i", "p", "q"]
    assert shown_formula(result) == "2 δ[k,p] δ[i,q]"


def test_a_printed_formula_under_its_names_pastes_back_as_a_claim() -> None:
    text = AFFINE + "derive dL/dX[k, j]\n"
    (result,) = run(text).derivatives
    claim = f"dL/dX[k, j] = {shown_formula(result)}\n"
    (pasted,) = run(text + claim).claims
    assert pasted.symbolic.matches
    assert codes(text + claim) == []


def test_a_second_derivative_takes_names_too(tmp_path: Path) -> None:
    text = "dim n = 3\nparam w[n]\nL = w[i]^3\nderive d2L/dw2[a, b]\n"
    report, values = saved(text, tmp_path)
    (result,) = report.derivatives
    assert [i.name for i in result.derivation.signature] == ["a", "b"]
    np.testing.assert_allclose(values["d2L/dw2"], np.diag(6 * values["w"]), rtol=1e-12)


def test_names_that_do_not_fit_the_signature() -> None:
    text = AFFINE + "derive dL/dX[k], dL/dW[a, a], dL/dW[n, b]\n"
    assert codes(text) == ["E302", "E302", "E115"]
    assert rendered(run(AFFINE + "derive dL/dX[k]\n")) == (
        "test.idx:6:8: error[E302]: dL/dX has 2 indices (n×d) in numerator layout; "
        "1 name is given\n"
        "  6 | derive dL/dX[k]\n"
        "    |        ^^^^^^^^\n"
        "  = help: name each index of the signature once, in layout order, or leave the "
        "names out"
    )
