"""softmax, logsumexp and norm (spec 9.5): derivatives against numbers the tool
did not compute.

Each forward computation is written here in plain numpy, its Jacobian taken by
central finite differences here, and compared with the tool's derivative (the
numpy code it prints, and the value its evaluator gives) and with the closed
forms: the softmax Jacobian diag(p) - p pᵀ, d logsumexp = softmax,
d norm = x / ‖x‖, and the cross-entropy gradient P - T.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from support import Forward, finite_jacobian, printed_value, run

from shapecheck.numeric.verdicts import ClaimVerdict, Verdict
from shapecheck.pipeline import DerivativeResult, FileReport
from shapecheck.symbolic.formula import formula

RNG = np.random.default_rng(95)


def _literal(array: np.ndarray) -> str:
    return json.dumps(np.asarray(array, dtype=float).tolist())


def _softmax(x: np.ndarray, axis: int | tuple[int, ...]) -> np.ndarray:
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _derivative(report: FileReport, label: str) -> DerivativeResult:
    return next(r for r in report.derivatives if r.derivation.label == label)


def _check(
    header: str,
    body: str,
    values: dict[str, np.ndarray],
    forward: Forward,
    labels: list[str],
    constants: dict[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """Derive `labels` for the program, compare each with finite differences
    written here, and return the tool's values for closed-form checks."""
    declarations = "\n".join(
        f"param {name}{shape} = {_literal(values[name])}"
        for name, shape in (
            (n, "[" + ", ".join(str(s) for s in np.shape(v)) + "]") for n, v in values.items()
        )
    )
    text = f"{header}\n{declarations}\n{body}\nderive {', '.join(labels)}\n"
    report = run(text)
    assert report.errors == 0, report.diagnostics
    namespace = {**values, **(constants or {}), **forward(values)}
    got = {}
    for label in labels:
        result = _derivative(report, label)
        assert result.check is not None and result.check.verdict == Verdict.OK, label
        mine = printed_value(result, namespace)
        of, wrt = label[1:].split("/d")
        theirs = finite_jacobian(forward, values, of, wrt)
        np.testing.assert_allclose(
            mine,
            theirs,
            rtol=1e-5,
            atol=1e-7,
            err_msg=f"{label} = {formula(result.derivation.formula)}",
        )
        got[label] = mine
    return got


def test_softmax_jacobian_is_diag_p_minus_p_p_transposed() -> None:
    values = {"S": RNG.standard_normal((2, 4))}

    def forward(v: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {"P": _softmax(v["S"], 1)}

    got = _check("", "P[i, k] = softmax[k](S[i, k])", values, forward, ["dP/dS"])
    p = forward(values)["P"]
    for row in range(2):
        block = got["dP/dS"][row, :, row, :]
        np.testing.assert_allclose(block, np.diag(p[row]) - np.outer(p[row], p[row]), atol=1e-12)
        other = got["dP/dS"][row, :, 1 - row, :]
        np.testing.assert_array_equal(other, 0.0)


def test_softmax_cross_entropy_gradient_is_p_minus_t() -> None:
    values = {"Z": RNG.standard_normal((3, 4))}
    targets = np.eye(4)[[2, 0, 3]]

    def forward(v: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        p = _softmax(v["Z"], 1)
        return {"P": p, "L": -np.sum(targets * np.log(p))}

    header = f"input T[3, 4] = {_literal(targets)}"
    body = "P[i, k] = softmax[k](Z[i, k])\nL = -T[i, k] log(P[i, k])"
    got = _check(header, body, values, forward, ["dL/dZ"], {"T": targets})
    np.testing.assert_allclose(got["dL/dZ"], forward(values)["P"] - targets, atol=1e-12)


def test_logsumexp_gradient_is_the_softmax() -> None:
    values = {"X": RNG.standard_normal((3, 5))}

    def forward(v: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        x = v["X"]
        m = np.max(x, axis=1)
        return {"m": m + np.log(np.sum(np.exp(x - m[:, None]), axis=1))}

    got = _check("", "m[i] = logsumexp[k](X[i, k])", values, forward, ["dm/dX"])
    weights = _softmax(values["X"], 1)
    for row in range(3):
        np.testing.assert_allclose(got["dm/dX"][row, row], weights[row], atol=1e-12)


def test_norm_gradient_is_x_over_its_norm() -> None:
    values = {"x": RNG.standard_normal(5), "X": RNG.standard_normal((2, 3))}

    def forward(v: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {"r": np.sqrt(np.sum(v["x"] ** 2)), "f": np.sqrt(np.sum(v["X"] ** 2))}

    body = "r = norm[i](x[i])\nf = norm[i, j](X[i, j])"
    got = _check("", body, values, forward, ["dr/dx", "df/dX"])
    np.testing.assert_allclose(got["dr/dx"], values["x"] / np.linalg.norm(values["x"]))
    np.testing.assert_allclose(got["df/dX"], values["X"] / np.linalg.norm(values["X"], "fro"))


def test_softmax_over_two_indices_and_inside_other_expressions() -> None:
    values = {"A": RNG.standard_normal((2, 3, 2)), "w": RNG.standard_normal(3)}

    def forward(v: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        q = _softmax(v["A"], (1, 2))
        y = np.einsum("ijk,j->i", q, v["w"])
        lse = np.log(np.sum(np.exp(np.einsum("ijk,j->ik", v["A"], v["w"])), axis=1))
        return {"Q": q, "y": y, "z": np.tanh(lse) * np.sqrt(np.sum(v["w"] ** 2))}

    body = (
        "Q[i, j, k] = softmax[j, k](A[i, j, k])\n"
        "y[i] = sum[k](Q[i, j, k] w[j])\n"
        "z[i] = tanh(logsumexp[k](A[i, j, k] w[j])) norm[u](w[u])"
    )
    _check("", body, values, forward, ["dQ/dA", "dy/dA", "dy/dw", "dz/dA", "dz/dw"])


def test_derivatives_print_in_their_textbook_forms() -> None:
    text = (
        "dim n = 3, c = 4\ninput S[n, c]\n"
        "P[i, k] = softmax[k](S[i, k])\nm[i] = logsumexp[k](S[i, k])\nr = norm[i, k](S[i, k])\n"
        "derive dP/dS, dm/dS, dr/dS\n"
    )
    report = run(text)
    shown = {r.derivation.label: formula(r.derivation.formula) for r in report.derivatives}
    assert shown == {
        "dP/dS": "P[i,k] (δ[k,q] - P[i,q]) δ[i,p]",
        "dm/dS": "P[i,q] δ[i,p]",  # the softmax is the file's P (folded)
        "dr/dS": "S[i,k] / r",
    }


def test_textbook_claims_are_confirmed_symbolically() -> None:
    text = (
        "dim n = 3, c = 4\ninput S[n, c]\n"
        "P[i, k] = softmax[k](S[i, k])\nm[i] = logsumexp[k](S[i, k])\nr = norm[i, k](S[i, k])\n"
        "dP/dS[i, k, p, q] = P[i, k] (δ[k, q] - P[i, q]) δ[i, p]\n"
        "dm/dS[i, p, q] = softmax[q](S[i, q]) δ[i, p]\n"
        "dr/dS[i, k] = S[i, k] / r\n"
        "dr/dS[i, k] = 2 S[i, k] / r\n"
    )
    report = run(text)
    assert [c.symbolic.matches for c in report.claims] == [True, True, True, False]
    verdicts = [c.check.verdict if c.check else None for c in report.claims]
    assert verdicts == [ClaimVerdict.OK] * 3 + [ClaimVerdict.WRONG]


@pytest.mark.parametrize("values", [[1000.0, 999.0, -1000.0], [-1000.0, -1001.0, -999.5]])
def test_large_arguments_neither_overflow_nor_lose_the_result(values: list[float]) -> None:
    x = np.array(values)
    text = (
        f"input z[3] = {values}\nparam w[3] = [0.5, -1, 2]\n"
        "p[k] = softmax[k](z[k] + w[k])\nm = logsumexp[k](z[k] + w[k])\n"
        "L = p[k] w[k] + m\nderive dL/dw\n"
    )
    report = run(text)
    assert report.errors == 0, report.diagnostics
    (result,) = report.derivatives
    assert result.check is not None and result.check.verdict == Verdict.OK
    shifted = x + np.array([0.5, -1, 2])
    p = _softmax(shifted, 0)
    w = np.array([0.5, -1, 2])
    # dL/dw = p (w - p·w) + p + p: written out by hand, in a stable form.
    expected_gradient = p * (w - p @ w) + p + p
    got = printed_value(
        result,
        {
            "z": x,
            "w": w,
            "p": p,
            "m": np.max(shifted) + np.log(np.sum(np.exp(shifted - np.max(shifted)))),
        },
    )
    np.testing.assert_allclose(got, expected_gradient, atol=1e-12)
    assert np.all(np.isfinite(got))


def test_norm_at_a_zero_vector_is_inconclusive_never_a_verdict() -> None:
    report = run("param x[3] = [0, 0, 0]\nr = norm[i](x[i])\nderive dr/dx\n")
    (result,) = report.derivatives
    assert result.check is not None
    assert result.check.verdict == Verdict.INCONCLUSIVE
    assert any("norm of a zero vector in `r`" in h for h in result.check.hints)
    # A zero vector is a kink of the norm: its entries are left out (spec 9.2),
    # and with nothing left the derivative is not verified (a warning).
    assert result.check.at_kink == 3
    assert [d.code for d in report.diagnostics] == ["W110"]


def test_a_softmax_term_beside_others_is_not_named_as_its_definition() -> None:
    # y is `v + softmax`, not a softmax: the derivative through the softmax
    # term must not read y where it means the softmax (an adjoint takes only
    # the terms of y that read A, and that alone is one softmax).
    text = (
        "dim n = 2, m = 3\nparam A[n, m], v[n], w[m]\n"
        "y[i] = v[i] + softmax[i](A[i, j] w[j])\nL = y[i] y[i]\n"
    )
    report = run(text)
    assert [d.code for d in report.diagnostics] == []
    labels = {r.derivation.label: formula(r.derivation.formula) for r in report.derivatives}
    # y itself, not its adjoint dL/dy[i] (which the softmax backward reads).
    assert not re.search(r"(?<![\w/])y\[", labels["dL/dA"]) and "softmax[i]" in labels["dL/dA"]
