"""The cookbook set (samples/cookbook/): determinant, log-determinant, inverse
and trace identities of the Matrix Cookbook, each derived, verified and
claimed in the Cookbook's form; every derivative the tool saves equals the
closed form computed here with numpy.linalg, independently of the tool's
rules and of its verifier. A matrix singular by construction gives an
inconclusive verdict (W111; E403 for a claim), never a false failure.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from support import ROOT, codes, rendered, run, saved

from shapecheck.numeric.verdicts import ClaimVerdict, Verdict

COOKBOOK = ROOT / "samples" / "cookbook"
Values = dict[str, np.ndarray]


def determinant(v: Values) -> Values:
    X = v["X"]
    return {"dD/dX": np.linalg.det(X) * np.linalg.inv(X).T}  # eq. (49)


def log_determinant(v: Values) -> Values:
    return {"dL/dX": np.linalg.inv(v["X"]).T}  # eq. (57)


def inverse(v: Values) -> Values:
    Xi = np.linalg.inv(v["X"])
    a, b = v["a"], v["b"]
    return {
        "dY/dX": -np.einsum("ip,qj->ijpq", Xi, Xi),  # eq. (59)
        "ds/dX": -Xi.T @ np.outer(a, b) @ Xi.T,  # eq. (61)
    }


def trace(v: Values) -> Values:
    A, X, Z = v["A"], v["X"], v["Z"]
    Xi = np.linalg.inv(X)
    return {
        "dt1/dX": A.T,  # eq. (100)
        "dt2/dZ": (A + A.T) @ Z,  # eq. (108)
        "dt3/dX": -(Xi @ A @ Xi).T,  # eq. (63) with B = I
    }


def gaussian(v: Values) -> Values:
    F, x = v["F"], v["x"]
    Si = np.linalg.inv(F @ F.T + np.eye(len(x)))
    G = 0.5 * (Si - Si @ np.outer(x, x) @ Si)  # d nll / dS, symmetric
    return {"dnll/dF": 2 * G @ F}


CLOSED_FORMS: dict[str, Callable[[Values], Values]] = {
    "determinant": determinant,
    "log_determinant": log_determinant,
    "inverse": inverse,
    "trace": trace,
    "gaussian": gaussian,
}


# Identities for any function `fn f`, checked against their closed forms in test_opaque.py.
FOR_ANY_FUNCTION = {"elementwise"}


def test_every_sample_has_a_closed_form() -> None:
    stems = {p.stem for p in COOKBOOK.glob("*.idx")} - FOR_ANY_FUNCTION
    assert sorted(stems) == sorted(CLOSED_FORMS)


@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
def test_saved_derivatives_equal_the_closed_forms(name: str, tmp_path: Path) -> None:
    text = (COOKBOOK / f"{name}.idx").read_text()
    report, values = saved(text, tmp_path)
    assert [d.code for d in report.diagnostics] == [], rendered(report)
    expected = CLOSED_FORMS[name](values)
    assert sorted(expected) == sorted(k for k in values if "/" in k)
    for label, closed in expected.items():
        np.testing.assert_allclose(values[label], closed, rtol=1e-9, atol=1e-12, err_msg=label)
    for result in report.derivatives:
        assert result.check is not None and result.check.verdict is Verdict.OK


@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
def test_claims_in_the_cookbooks_form_are_confirmed(name: str) -> None:
    report = run((COOKBOOK / f"{name}.idx").read_text())
    assert report.claims
    for claim in report.claims:
        assert claim.check is not None and claim.check.verdict is ClaimVerdict.OK
        # ln|det X| derives through abs: sign(det X) det X / |det X| is 1 in
        # the canonical form (abs(x) = x sign(x), language.md 13.4).
        assert claim.symbolic.matches, claim.symbolic.reason


SINGULAR = """\
dim n = 4, d = 2
param X[n, d]
K[a, b] = X[a, k] X[b, k]
L = det(K)
derive dL/dX
"""


def test_a_matrix_singular_by_construction_is_inconclusive_not_wrong() -> None:
    report = run(SINGULAR)
    (result,) = report.derivatives
    assert result.check is not None
    assert result.check.verdict is Verdict.INCONCLUSIVE
    assert result.check.redraws == 5
    shown = rendered(report)
    assert shown.startswith(
        "test.idx:5:8: warning[W111]: dL/dX is not verified: ill-conditioned matrix: cond(K) = "
    )
    assert "> 1e6\n" in shown
    assert "  = help: drawn values redrawn 5 times for a well-conditioned matrix\n" in shown
    assert shown.endswith(
        "  = help: K stays ill-conditioned however its arrays are drawn: a matrix singular by "
        "construction (such as `K[a, b] = X[a, k] X[b, k]` with fewer columns than rows in "
        "X) has no inverse, and its determinant is 0 everywhere"
    )
    # A warning: the exit status is the user's, and nothing failed.
    assert codes(SINGULAR) == ["W111"]


def test_a_second_derivative_through_a_singular_matrix_is_redrawn_too() -> None:
    # d2L/dF2's `of` is the first derivative dL/dF, which no definition names:
    # the arrays to redraw come from L (it was never redrawn, and its hint said
    # the values were literal).
    text = "dim n = 3\nparam x[n]\nF[i, j] = x[i] x[j]\nL = log(det(F)^2 + 1)\nderive d2L/dF2\n"
    report = run(text)
    (result,) = report.derivatives
    assert result.check is not None
    assert result.check.verdict is Verdict.INCONCLUSIVE and result.check.redraws == 5
    assert "F stays ill-conditioned however its arrays are drawn" in rendered(report)
    assert codes(text) == ["W111"]


def test_a_claim_through_a_singular_matrix_cannot_be_confirmed() -> None:
    text = SINGULAR + "dL/dX[p, q] = 2 det(K) inv(K)[p, a] X[a, q]\n"
    report = run(text)
    assert codes(text) == ["W111", "E403"]
    (claim,) = report.claims
    assert claim.check is not None and claim.check.verdict is ClaimVerdict.INCONCLUSIVE
    problem = report.diagnostics[-1]
    assert problem.message.startswith(
        "the claim dL/dX[p,q] could not be verified: ill-conditioned matrix: cond(K) = "
    )


def test_literal_values_are_not_redrawn() -> None:
    text = "param X[2, 2] = [[1, 2], [2, 4.0000000001]]\nL = det(X)\nderive dL/dX\n"
    report = run(text)
    (result,) = report.derivatives
    assert result.check is not None and result.check.redraws == 0
    assert rendered(report) == (
        "test.idx:3:8: warning[W111]: dL/dX is not verified: ill-conditioned matrix: "
        f"cond(X) = {np.linalg.cond(np.array([[1, 2], [2, 4.0000000001]])):.3g} > 1e6\n"
        "  3 | derive dL/dX\n"
        "    |        ^^^^^\n"
        "  = help: the values X is made of are literal or from `--at`: they are not redrawn"
    )


def test_an_exactly_singular_literal_matrix_is_inconclusive() -> None:
    text = "param X[2, 2] = [[1, 2], [2, 4]]\nY[i, j] = inv(X)[i, j]\nderive dY/dX\n"
    assert codes(text) == ["W111"]
    # LAPACK's rounding makes it about 1e16 rather than infinite: above the limit.
    (result,) = run(text).derivatives
    assert result.check is not None and result.check.reason is not None
    number = float(result.check.reason.split("cond(X) = ")[1].split(" ")[0])
    assert number > 1e15


def test_a_drawn_ill_conditioned_matrix_is_redrawn(monkeypatch: pytest.MonkeyPatch) -> None:
    from shapecheck.numeric import matrices

    # Only the first draw reads as ill-conditioned: one redraw, then a pass.
    calls: list[int] = []
    real = matrices.worst_condition

    def first_draw_is_bad(values: Values, arrays: list[str]) -> tuple[str, float] | None:
        calls.append(1)
        return ("X", 1e9) if len(calls) == 1 else real(values, arrays)

    monkeypatch.setattr(matrices, "worst_condition", first_draw_is_bad)
    report = run("dim n = 3\nparam X[n, n]\nL = det(X)\nderive dL/dX\n")
    (result,) = report.derivatives
    assert result.check is not None
    assert (result.check.verdict, result.check.redraws) == (Verdict.OK, 1)
    assert result.check.hints == ("drawn values redrawn once for a well-conditioned matrix",)
