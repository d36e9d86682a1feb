"""The derivative rules of det, inv and trace (spec 9.5), each against central
differences of numpy.linalg written here, and their printed forms.

`d det(X)/dX[p,q] = det(X) inv(X)[q,p]`, `d inv(X)[i,j]/dX[p,q] =
-inv(X)[i,p] inv(X)[q,j]`, `d trace(X)/dX[p,q] = δ[p,q]`; through a defined
matrix the chain rule as usual.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from support import central, formulas, printed_value, run, saved

from shapecheck.numeric.verdicts import Verdict

X0 = "[[2, -1, 0.5], [0.3, 1.5, -2], [1, 0.25, 3]]"


def _values(text: str, tmp_path: Path) -> tuple[object, dict[str, np.ndarray]]:
    report, values = saved(text, tmp_path)
    assert [d.code for d in report.diagnostics if d.code != "W101"] == []
    return report, values


@pytest.mark.parametrize(
    ("definition", "label", "function"),
    [
        ("D = det(X)", "dD/dX", np.linalg.det),
        ("T = trace(X)", "dT/dX", np.trace),
        ("Y[i, j] = inv(X)[i, j]", "dY/dX", np.linalg.inv),
        # read transposed, at a literal, on the diagonal
        ("Y[j, i] = inv(X)[i, j]", "dY/dX", lambda x: np.linalg.inv(x).T),
        ("y = inv(X)[1, 3]", "dy/dX", lambda x: np.linalg.inv(x)[0, 2]),
        ("y[i] = inv(X)[i, i]", "dy/dX", lambda x: np.diag(np.linalg.inv(x))),
        ("y = inv(X)[i, i]", "dy/dX", lambda x: np.trace(np.linalg.inv(x))),
        ("y = det(X) trace(X)", "dy/dX", lambda x: np.linalg.det(x) * np.trace(x)),
        ("y = log(det(X)^2)", "dy/dX", lambda x: np.log(np.linalg.det(x) ** 2)),
        # A det beside another term: the adjoint keeps only the terms that read X
        # (long unrolled files), and a det kept alone is not the defined array.
        ("y = trace(A) + det(X)", "dy/dX", np.linalg.det),
        ("y[i, j] = A[i, j] + inv(X)[i, j]", "dy/dX", np.linalg.inv),
    ],
)
def test_each_rule_against_central_differences(
    definition: str, label: str, function: object, tmp_path: Path
) -> None:
    text = f"param X[3, 3] = {X0}\ninput A[3, 3]\n{definition}\nderive {label}\n"
    _, values = _values(text, tmp_path)
    expected = central(function, values["X"])
    np.testing.assert_allclose(values[label], expected, rtol=1e-6, atol=1e-8)


def test_drawn_values_and_denominator_layout(tmp_path: Path) -> None:
    text = "dim n = 4\nparam X[n, n]\nlayout denominator\nY[i, j] = inv(X)[i, j]\nderive dY/dX\n"
    _, values = _values(text, tmp_path)
    jacobian = central(np.linalg.inv, values["X"])  # numerator order [i, j, p, q]
    np.testing.assert_allclose(values["dY/dX"], np.moveaxis(jacobian, (0, 1), (2, 3)), atol=1e-7)


def test_through_a_defined_matrix(tmp_path: Path) -> None:
    text = (
        "dim n = 3, m = 5\ninput x[n]\nparam W[n, m]\n"
        "K[a, b] = W[a, k] W[b, k] + delta[a, b]\n"
        "L = log(det(K)) + x[a] inv(K)[a, b] x[b] + trace(K)\nderive dL/dW\n"
    )
    _, values = _values(text, tmp_path)
    x = values["x"]

    def loss(w: np.ndarray) -> float:
        k = w @ w.T + np.eye(3)
        return float(np.log(np.linalg.det(k)) + x @ np.linalg.inv(k) @ x + np.trace(k))

    np.testing.assert_allclose(values["dL/dW"], central(loss, values["W"]), rtol=1e-6)


def test_printed_formulas_and_numpy_lines() -> None:
    text = (
        "dim n = 3\ninput a[n], b[n]\nparam X[n, n]\n"
        "D = det(X)\nT = trace(X)\ns = a[i] inv(X)[i, j] b[j]\nderive dD/dX, dT/dX, ds/dX\n"
    )
    report = run(text)
    assert formulas(report) == {
        # Spec 10: in the file's names, D for the det(X) that D is.
        "dD/dX": "D inv(X)[q,p]",
        "dT/dX": "δ[p,q]",
        "ds/dX": "-Σ_i Σ_j a[i] b[j] inv(X)[i,p] inv(X)[q,j]",
    }
    rng = np.random.default_rng(3)
    values = {"a": rng.standard_normal(3), "b": rng.standard_normal(3)}
    values["X"] = rng.standard_normal((3, 3))
    values["D"] = np.linalg.det(values["X"])
    xi = np.linalg.inv(values["X"])
    expected = {
        "dD/dX": np.linalg.det(values["X"]) * xi.T,
        "dT/dX": np.eye(3),
        "ds/dX": -xi.T @ np.outer(values["a"], values["b"]) @ xi.T,
    }
    for result in report.derivatives:
        assert result.check is not None and result.check.verdict is Verdict.OK
        label = result.derivation.label
        np.testing.assert_allclose(printed_value(result, values), expected[label], rtol=1e-10)


def test_the_defined_name_and_the_call_are_both_confirmed_symbolically() -> None:
    # Spec 10's round trip (the printed form, with the file's names) and the
    # Cookbook's form (the call written out) are one formula.
    text = (
        "dim n = 3\nparam X[n, n]\nY[j, i] = inv(X)[i, j]\nD = det(X)\nderive dY/dX, dD/dX\n"
        "dY/dX[j, i, p, q] = -inv(X)[i, p] inv(X)[q, j]\n"
        "dY/dX[j, i, p, q] = -Y[p, i] Y[j, q]\n"
        "dD/dX[p, q] = det(X) inv(X)[q, p]\n"
        "dD/dX[p, q] = D Y[p, q]\n"
        "dD/dX[p, q] = det(X) inv(X)[p, q]\n"
    )
    report = run(text)
    assert formulas(report) == {"dY/dX": "-(Y[j,s] Y[r,i])", "dD/dX": "D inv(X)[s,r]"}
    verdicts = [
        (c.symbolic.matches, str(c.check.verdict) if c.check else None) for c in report.claims
    ]
    # The last is the classic slip (no transpose): wrong, and said so.
    assert verdicts == [(True, "ok")] * 4 + [(False, "wrong")]
    assert [d.code for d in report.diagnostics] == ["E402"]
