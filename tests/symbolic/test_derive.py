"""Derivatives, checked against numbers the tool did not compute.

For every sample, the forward computation is written here in plain numpy, its
Jacobian is taken by central finite differences here, and the tool's derived
formula is evaluated by running the numpy code it prints (adjoint lines, then
the derivative). Closed forms from the lecture notes and the Matrix Cookbook
are checked too.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from support import SAMPLES, Forward, finite_jacobian, printed_value, run

from shapecheck.numeric.verdicts import Verdict
from shapecheck.pipeline import DerivativeResult, FileReport, Options, analyze_path
from shapecheck.symbolic.formula import formula

RNG = np.random.default_rng(20261122)


def check_all(
    report: FileReport, values: dict[str, np.ndarray], forward: Forward
) -> dict[str, np.ndarray]:
    assert report.errors == 0, report.diagnostics
    assert report.derivatives, "the sample derives something"
    namespace = {**values, **forward(values)}
    got = {}
    for result in report.derivatives:
        derivation = result.derivation
        mine = printed_value(result, namespace)
        theirs = finite_jacobian(forward, values, derivation.of, derivation.wrt, derivation.layout)
        assert mine.shape == theirs.shape, derivation.label
        np.testing.assert_allclose(
            mine,
            theirs,
            rtol=1e-5,
            atol=1e-6,
            err_msg=f"{derivation.label} = {formula(derivation.formula)}",
        )
        got[derivation.label] = mine
    return got


def sample(name: str, **options: Any) -> FileReport:
    return analyze_path(SAMPLES / f"{name}.idx", Options(**options))


def randn(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape)


# ---------------------------------------------------------------------------
# Every sample against finite differences


def test_affine() -> None:
    values = {"X": randn(8, 3), "W": randn(3, 5), "b": randn(5)}

    def forward(v: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        y = v["X"] @ v["W"] + v["b"]
        return {"Y": y, "L": np.sum(y * y)}

    got = check_all(sample("affine"), values, forward)
    # Closed form of the notes: dY[i,k]/dX[p,q] = W[q,k] δ[i,p].
    closed = np.einsum("qk,ip->ikpq", values["W"], np.eye(8))
    np.testing.assert_allclose(got["dY/dX"], closed)


def test_affine_in_denominator_layout() -> None:
    values = {"X": randn(8, 3), "W": randn(3, 5), "b": randn(5)}

    def forward(v: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        y = v["X"] @ v["W"] + v["b"]
        return {"Y": y, "L": np.sum(y * y)}

    got = check_all(sample("affine", layout="denominator"), values, forward)
    assert got["dY/dX"].shape == (8, 3, 8, 5)


def test_dot_product_gradient_is_1_2_3() -> None:
    values = {"a": np.array([1.0, 2, 3]), "x": np.array([5.0, 8, -1])}
    got = check_all(sample("dot"), values, lambda v: {"f": v["a"] @ v["x"]})
    np.testing.assert_allclose(got["df/dx"], [1, 2, 3])


def test_determinant_gradient_at_the_notes_point() -> None:
    values = {"X": np.array([[3.0, 2], [6, -4]])}

    def forward(v: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        x = v["X"]
        return {"D": x[0, 0] * x[1, 1] - x[0, 1] * x[1, 0]}

    got = check_all(sample("determinant"), values, forward)
    np.testing.assert_allclose(got["dD/dX"], [[-4, -6], [-2, 3]])


def test_nine_shapes() -> None:
    values = {
        "a": np.array(0.7),
        "x": randn(3),
        "A": randn(2, 4),
        "c": randn(3),
        "B": randn(2, 4),
    }

    def forward(v: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        a, x, big_a, c, big_b = v["a"], v["x"], v["A"], v["c"], v["B"]
        return {
            "s": a**2 + x @ x + np.sum(big_a * big_b),
            "v": a * c + x**2 + (big_a[0] @ big_b[0]) * c,
            "M": a * big_b + x[0] * big_b + big_a**2,
        }

    got = check_all(sample("shapes"), values, forward)
    shapes = {label: value.shape for label, value in got.items()}
    assert shapes == {
        "ds/da": (),
        "ds/dx": (3,),
        "ds/dA": (2, 4),
        "dv/da": (3,),
        "dv/dx": (3, 3),
        "dv/dA": (3, 2, 4),
        "dM/da": (2, 4),
        "dM/dx": (2, 4, 3),
        "dM/dA": (2, 4, 2, 4),
    }


def test_vector_by_scalar_powers() -> None:
    values = {"p": np.array([2.0, 3, 4]), "x": np.array(1.5)}
    got = check_all(sample("powers"), values, lambda v: {"v": v["x"] ** v["p"]})
    np.testing.assert_allclose(got["dv/dx"], [2 * 1.5, 3 * 1.5**2, 4 * 1.5**3])


def test_two_layer_mlp() -> None:
    values = {
        "X": randn(8, 4),
        "T": randn(8, 3),
        "W1": randn(4, 6),
        "b1": randn(6),
        "W2": randn(6, 3),
        "b2": randn(3),
    }

    def forward(v: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        h = np.tanh(v["X"] @ v["W1"] + v["b1"])
        p = h @ v["W2"] + v["b2"]
        return {"H": h, "P": p, "L": 0.5 * np.sum((p - v["T"]) ** 2)}

    check_all(sample("mlp"), values, forward)


def test_softmax_cross_entropy() -> None:
    targets = np.array([[1.0, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 1]])
    values = {"Z": randn(4, 3), "T": targets}

    def forward(v: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        s = np.exp(v["Z"]).sum(axis=1)
        p = np.exp(v["Z"]) / s[:, None]
        return {"S": s, "P": p, "L": -np.sum(v["T"] * np.log(p))}

    got = check_all(sample("softmax"), values, forward)
    p = forward(values)["P"]
    np.testing.assert_allclose(got["dL/dZ"], p - targets, atol=1e-12)


def test_rnn_sums_over_every_path() -> None:
    values = {
        "W": randn(3, 4) * 0.5,
        "U": randn(4, 4) * 0.5,
        "b": randn(4),
        "s0": randn(4),
        "x1": randn(3),
        "x2": randn(3),
        "x3": randn(3),
    }

    def forward(v: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        states = {"s0": v["s0"]}
        for step in (1, 2, 3):
            states[f"s{step}"] = np.tanh(
                v[f"x{step}"] @ v["W"] + states[f"s{step - 1}"] @ v["U"] + v["b"]
            )
        return {**states, "L": np.sum(states["s3"])}

    check_all(sample("rnn"), values, forward)


def test_svd_in_index_notation() -> None:
    values = {"U": randn(4, 2), "s": randn(2), "V": randn(2, 3)}
    check_all(sample("svd"), values, lambda v: {"A": v["U"] @ np.diag(v["s"]) @ v["V"]})


def test_trace_identities() -> None:
    values = {"A": randn(4, 3), "B": randn(3, 4), "X": randn(3, 3)}

    def forward(v: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        a, b, x = v["A"], v["B"], v["X"]
        return {"t1": np.trace(x), "t2": np.trace(a @ x @ b), "t3": np.trace(x.T @ x)}

    got = check_all(sample("trace"), values, forward)
    np.testing.assert_allclose(got["dt1/dX"], np.eye(3))
    # Matrix Cookbook (100): ∂tr(AXB)/∂X = AᵀBᵀ.
    np.testing.assert_allclose(got["dt2/dX"], values["A"].T @ values["B"].T)
    np.testing.assert_allclose(got["dt3/dX"], 2 * values["X"])


def test_upstream_loss_gives_column_sums() -> None:
    values = {"X": randn(6, 3), "W": randn(3, 4), "b": randn(4)}
    upstream = randn(6, 4)  # loss(Y) is replaced by the linear function Σ G Y

    def forward(v: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        y = v["X"] @ v["W"] + v["b"]
        return {"Y": y, "L": np.sum(upstream * y), "dloss/dY": upstream}

    got = check_all(sample("loss"), values, forward)
    # dL/db = column sums of dL/dY.
    np.testing.assert_allclose(got["dL/db"], upstream.sum(axis=0))
    np.testing.assert_allclose(got["dL/dW"], values["X"].T @ upstream)


# ---------------------------------------------------------------------------
# Closed forms


def _derived(text: str, label: str) -> DerivativeResult:
    report = run(text)
    assert report.errors == 0, report.diagnostics
    return next(r for r in report.derivatives if r.derivation.label == label)


def test_dY_dW_closed_form() -> None:
    result = _derived(
        "dim n = 4, d = 3, h = 2\ninput X[n, d]\nparam W[d, h]\nY[i, k] = X[i, j] W[j, k]\n"
        "derive dY/dW\n",
        "dY/dW",
    )
    x = randn(4, 3)
    mine = printed_value(result, {"X": x, "W": randn(3, 2)})
    # dY[i,k]/dW[p,q] = X[i,p] δ[k,q]
    np.testing.assert_allclose(mine, np.einsum("ip,kq->ikpq", x, np.eye(2)))


def test_cookbook_quadratic_form() -> None:
    result = _derived(
        "dim n = 4\ninput B[n, n]\nparam x[n]\nf = x[i] B[i, j] x[j]\nderive df/dx\n", "df/dx"
    )
    b, x = randn(4, 4), randn(4)
    # Matrix Cookbook (81): ∂(xᵀBx)/∂x = (B + Bᵀ)x.
    np.testing.assert_allclose(printed_value(result, {"B": b, "x": x}), (b + b.T) @ x)


def test_cookbook_bilinear_form() -> None:
    result = _derived(
        "dim m = 3, n = 4\ninput a[m], b[n]\nparam X[m, n]\nf = a[i] X[i, j] b[j]\nderive df/dX\n",
        "df/dX",
    )
    a, b = randn(3), randn(4)
    # Matrix Cookbook (70): ∂(aᵀXb)/∂X = abᵀ.
    np.testing.assert_allclose(
        printed_value(result, {"a": a, "b": b, "X": randn(3, 4)}), np.outer(a, b)
    )


@pytest.mark.parametrize(
    ("function", "numpy_function"),
    [
        ("exp", np.exp),
        ("log", np.log),
        ("tanh", np.tanh),
        ("sigmoid", lambda z: 1 / (1 + np.exp(-z))),
        ("relu", lambda z: np.maximum(z, 0)),
        ("sin", np.sin),
        ("cos", np.cos),
        ("sqrt", np.sqrt),
        ("abs", np.abs),
    ],
)
def test_every_function(function: str, numpy_function: Callable[[Any], Any]) -> None:
    sign = " positive" if function in ("log", "sqrt") else ""
    text = (
        f"dim n = 5\nparam x[n] positive\ninput c[n]{sign}\ny[i] = {function}(x[i] c[i])\n"
        "L = y[i] c[i]\nderive dL/dx, dy/dx\n"
    )
    report = run(text)
    values = {
        "x": RNG.uniform(0.5, 2, 5),
        "c": RNG.uniform(0.5, 1.5, 5) * np.array([1, -1, 1, -1, 1]),
    }

    def forward(v: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        y = (
            numpy_function(v["x"] * v["c"])
            if function not in ("log", "sqrt")
            else numpy_function(np.abs(v["x"] * v["c"]))
        )
        return {"y": y, "L": y @ v["c"]}

    if function in ("log", "sqrt"):
        values["c"] = np.abs(values["c"])
    check_all(report, values, forward)


def test_quotient_and_power_rules() -> None:
    text = (
        "dim n = 3\nparam x[n] positive, y[n] positive\n"
        "q[i] = x[i] / y[i]^2 + y[i]^x[i]\nderive dq/dx, dq/dy\n"
    )
    values = {"x": RNG.uniform(0.5, 2, 3), "y": RNG.uniform(0.5, 2, 3)}
    check_all(run(text), values, lambda v: {"q": v["x"] / v["y"] ** 2 + v["y"] ** v["x"]})


def test_explicit_sum_and_literal_indices() -> None:
    text = "dim n = 3\nparam X[n, n]\nr[i] = sum[j](X[i, j] X[j, 1]) + X[2, i]\nderive dr/dX\n"
    values = {"X": randn(3, 3)}
    check_all(run(text), values, lambda v: {"r": v["X"] @ v["X"][:, 0] + v["X"][1, :]})


def test_delta_in_a_definition() -> None:
    text = "dim n = 3\nparam x[n]\nD[i, j] = delta[i, j] x[i] x[j]\nderive dD/dx\n"
    check_all(run(text), {"x": randn(3)}, lambda v: {"D": np.diag(v["x"] ** 2)})


def test_derivative_by_an_intermediate() -> None:
    text = (
        "dim n = 4\nparam x[n]\ny[i] = tanh(x[i])\nz[i] = y[i]^2\nL = z[i]\nderive dL/dy, dz/dx\n"
    )

    def forward(v: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        y = v.get("y", np.tanh(v["x"]))
        return {"y": y, "z": y**2, "L": np.sum(y**2)}

    report = run(text)
    values = {"x": randn(4)}
    values["y"] = np.tanh(values["x"])
    namespace = {**values, **forward(values)}
    dl_dy = next(r for r in report.derivatives if r.derivation.label == "dL/dy")
    np.testing.assert_allclose(printed_value(dl_dy, namespace), 2 * values["y"])
    dz_dx = next(r for r in report.derivatives if r.derivation.label == "dz/dx")
    np.testing.assert_allclose(
        printed_value(dz_dx, namespace), np.diag(2 * values["y"] * (1 - values["y"] ** 2))
    )


# ---------------------------------------------------------------------------
# Symbolic output the issue promises


def test_formulas_read_like_the_notes() -> None:
    report = sample("affine")
    shown = {r.derivation.label: formula(r.derivation.formula) for r in report.derivatives}
    assert shown == {"dY/dX": "W[q,k] δ[i,p]", "dL/dW": "Σ_i X[i,j] dL/dY[i,k]"}
    adjoints = {
        a.label: formula(a.formula) for r in report.derivatives for a in r.derivation.adjoints
    }
    assert adjoints == {"dL/dY": "2 Y[i,k]"}
    loss = sample("loss")
    assert formula(loss.derivatives[1].derivation.formula) == "Σ_i dL/dY[i,k]"


def test_expand_inlines_the_adjoints() -> None:
    report = sample("affine", expand=True)
    expanded = report.derivatives[1].expanded
    assert expanded is not None
    assert formula(expanded) == "Σ_i 2 X[i,j] Y[i,k]"


def test_fresh_names_never_collide_with_the_files() -> None:
    text = (
        "dim n = 2\nparam X[n, n]\ninput p[n], q[n]\nY[p, q] = X[p, r] X[r, q]\n"
        "derive dY/dX\nderive dY/dX\n"
    )
    report = run(text)
    derivation = report.derivatives[0].derivation
    assert {i.name for i in derivation.wrt_indices}.isdisjoint({"p", "q", "r", "n", "X"})


def test_default_targets() -> None:
    report = run("dim n = 3\nparam w[n], b\ninput x[n]\ny = w[i] x[i] + b\nL = y^2\n")
    assert [r.derivation.label for r in report.derivatives] == ["dL/dw", "dL/db"]
    assert all(r.request.default for r in report.derivatives)


def test_claims_are_matched_symbolically() -> None:
    report = sample("loss")
    assert [c.symbolic.matches for c in report.claims] == [True, True]
    softmax = sample("softmax")
    # True only because T is one-hot: not a symbolic identity, left to numbers.
    assert [c.symbolic.matches for c in softmax.claims] == [False]


@pytest.mark.parametrize("name", sorted(p.stem for p in SAMPLES.glob("*.idx")))
def test_every_sample_derives(name: str) -> None:
    report = analyze_path(Path(SAMPLES / f"{name}.idx"), Options())
    assert report.errors == 0
    assert report.derivatives


@pytest.mark.parametrize(
    ("definition", "wrt"),
    [
        ("Y[i] = norm[k](W[k]) W[i] / W[i]", "W"),  # fuzz seed 2058 run 587: E999 ValueError
        ("Y[i] = det(X) W[i] / W[i]", "X"),  # E999 in einsum
    ],
)
def test_a_function_broadcast_over_an_index_it_lacks_names_no_copy_of_itself(
    definition: str, wrt: str
) -> None:
    # The simplified right-hand side is the function alone, broadcast over i:
    # Y[i] is no name for a copy of it (Y[i] would put i where it is not).
    text = f"dim n = 3\nparam X[n, n], W[n] positive\n{definition}\nL = Y[i] Y[i]\n"
    report = run(text + f"derive dL/d{wrt}\n")
    assert [d.code for d in report.diagnostics if d.code != "W101"] == []
    (result,) = report.derivatives
    assert result.check is not None and result.check.verdict is Verdict.OK
