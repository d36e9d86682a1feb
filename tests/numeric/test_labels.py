"""Derivatives through integer arrays (spec 9.3), against numbers the tool did not compute.

Each forward pass is written here in plain numpy with fancy indexing; the
expected gradients are hand-written numpy (softmax cross-entropy `P - onehot`,
the embedding's `np.add.at`) or central differences taken here. The tool's
formula is evaluated three ways: the numpy lines `derive` prints, the
evaluator the verifier runs, and the module `--emit numpy` writes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from support import central, printed_value, rendered, run

from shapecheck.numeric.evaluate import Evaluator, align
from shapecheck.pipeline import DerivativeResult, FileReport
from shapecheck.render.numpy_module import module
from shapecheck.symbolic import terms as t

RNG = np.random.default_rng(93)
Forward = Callable[[dict[str, Any]], float]


def _derived(report: FileReport, label: str) -> DerivativeResult:
    assert report.errors == 0, rendered(report)
    return next(r for r in report.derivatives if r.derivation.label == label)


def evaluated_value(result: DerivativeResult, values: dict[str, Any]) -> np.ndarray:
    """The derivative as the verifier's evaluator computes it (adjoints first)."""
    known = dict(values)
    derivation = result.derivation
    for adjoint in derivation.adjoints:
        value = Evaluator(known).value(adjoint.formula)
        known[adjoint.label] = align(value, t.names(adjoint.formula.free), adjoint.indices)
    value = Evaluator(known).value(derivation.formula)
    return np.asarray(align(value, t.names(derivation.formula.free), derivation.signature))


def module_value(report: FileReport, label: str, values: dict[str, Any]) -> np.ndarray:
    """`backward` of the module `--emit numpy` writes, given the declared arrays."""
    scope: dict[str, Any] = {}
    exec(module(report), scope)
    assert report.checked is not None
    leaves = {a.name: values[a.name] for a in report.checked.arrays if a.is_leaf}
    return np.asarray(scope["backward"](**leaves)[label])


def differences(forward: Forward, values: dict[str, Any], wrt: str) -> np.ndarray:
    """Central differences of a scalar forward pass, entry by entry."""
    return central(lambda v: forward({**values, wrt: v}), values[wrt])


def _all_three(text: str, label: str, values: dict[str, Any], expected: np.ndarray) -> None:
    report = run(text)
    result = _derived(report, label)
    np.testing.assert_allclose(printed_value(result, values), expected, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(evaluated_value(result, values), expected, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(module_value(report, label, values), expected, rtol=1e-6, atol=1e-8)
    assert result.check is not None and result.check.verdict.value == "ok", result.check


CROSS_ENTROPY = """\
dim n = 5, c = 4
input y[n] in c
param Z[n, c]
S[i, k] = exp(Z[i, k])
T[i] = S[i, k]
P[i, k] = S[i, k] / T[i]
L = -log(P[i, y[i]]) / 5
derive dL/dZ, dL/dP
"""


def test_softmax_cross_entropy_with_labels_is_p_minus_one_hot() -> None:
    y = np.array([2, 4, 1, 1, 3])
    z = RNG.standard_normal((5, 4))
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    one_hot = np.zeros((5, 4))
    one_hot[np.arange(5), y - 1] = 1.0
    s = np.exp(z)
    values = {"y": y, "Z": z, "S": s, "T": s.sum(axis=1), "P": p}
    _all_three(CROSS_ENTROPY, "dL/dZ", values, (p - one_hot) / 5)


def test_the_gradient_through_a_gather_is_a_selection() -> None:
    # dL/dP[i,k] = -δ[k, y[i]] / (n P[i, y[i]]), written out by hand.
    y = np.array([2, 4, 1, 1, 3])
    z = RNG.standard_normal((5, 4))
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    expected = np.zeros((5, 4))
    expected[np.arange(5), y - 1] = -1.0 / (5 * p[np.arange(5), y - 1])
    report = run(CROSS_ENTROPY)
    result = _derived(report, "dL/dP")
    values = {"y": y, "Z": z, "P": p}
    np.testing.assert_allclose(printed_value(result, values), expected, rtol=1e-10)
    np.testing.assert_allclose(evaluated_value(result, values), expected, rtol=1e-10)


EMBEDDING = """\
dim n = 6, v = 5, h = 3, T = 2
input idx[n, T] in v
input G[n, T, h]
param W[v, h]
E[i, t, k] = W[idx[i, t], k]
L = E[i, t, k] G[i, t, k] + E[i, t, k]^2
derive dL/dW
"""


def test_embedding_lookup_gradient_is_add_at() -> None:
    idx = np.array([[1, 5], [5, 2], [1, 1], [3, 5], [2, 2], [5, 5]])
    g = RNG.standard_normal((6, 2, 3))
    w = RNG.standard_normal((5, 3))
    e = w[idx - 1]
    expected = np.zeros((5, 3))
    np.add.at(expected, idx - 1, g + 2 * e)
    _all_three(EMBEDDING, "dL/dW", {"idx": idx, "G": g, "W": w, "E": e}, expected)


@pytest.mark.parametrize(
    ("text", "forward"),
    [
        (
            "out = P[i, y[z[i]]] P[i, y[z[i]]]\n",
            lambda v: np.sum(v["P"][np.arange(4), v["y"][v["z"] - 1] - 1] ** 2),
        ),
        (
            "out = sum[k](delta[k, y[i]] P[i, k] w[k])\n",
            lambda v: np.sum(v["P"][np.arange(4), v["y"] - 1] * v["w"][v["y"] - 1]),
        ),
        (
            "out = sum[k](delta[k, y[i]] P[i, k]) * w[y[i]] + y[i] * 2 * w[1]\n",
            lambda v: (
                np.sum(v["P"][np.arange(4), v["y"] - 1] * v["w"][v["y"] - 1])
                + 2 * v["w"][0] * np.sum(v["y"])
            ),
        ),
        (
            "out = exp(P[i, y[i]] + P[1, y[2]])\n",
            lambda v: np.sum(np.exp(v["P"][np.arange(4), v["y"] - 1] + v["P"][0, v["y"][1] - 1])),
        ),
    ],
)
def test_gathers_against_finite_differences(text: str, forward: Forward) -> None:
    header = "dim n = 4, c = 3\ninput y[n] in c, z[n] in n\nparam P[n, c], w[c]\n"
    values = {
        "y": np.array([3, 1, 3, 2]),
        "z": np.array([4, 4, 1, 2]),
        "P": RNG.standard_normal((4, 3)),
        "w": RNG.standard_normal(3),
    }
    report = run(header + text + "derive dout/dP, dout/dw\n")
    for wrt in ("P", "w"):
        result = _derived(report, f"dout/d{wrt}")
        expected = differences(forward, values, wrt)
        np.testing.assert_allclose(printed_value(result, values), expected, atol=1e-6)
        np.testing.assert_allclose(evaluated_value(result, values), expected, atol=1e-6)
        np.testing.assert_allclose(
            module_value(report, f"dout/d{wrt}", values), expected, atol=1e-6
        )


def test_the_one_hot_matrix() -> None:
    report = run("dim n = 4, c = 3\ninput y[n] in c = [3, 1, 3, 2]\nY[i, k] = delta[k, y[i]]\n")
    assert report.errors == 0, rendered(report)
    assert report.checked is not None
    from shapecheck.symbolic.lower import lower_definition

    _, term = lower_definition(report.checked.definitions[0])
    value = Evaluator({"y": np.array([3, 1, 3, 2])}).value(term)
    np.testing.assert_array_equal(value, np.eye(3)[[2, 0, 2, 1]])


def test_save_writes_labels_as_int64_one_based(tmp_path: Any) -> None:
    target = tmp_path / "out.npz"
    text = "dim n = 3, m\ninput e[2] in m = [1, 7]\ninput y[n] in m\nparam P[n, m]\n"
    report = run(text + "L = P[i, y[i]] + P[1, e[k]]\n", save=target)
    assert report.errors == 0, rendered(report)
    with np.load(target) as archive:
        assert archive["e"].dtype == np.int64 and archive["y"].dtype == np.int64
        np.testing.assert_array_equal(archive["e"], [1, 7])
        assert archive["y"].min() >= 1 and archive["y"].max() <= 7  # m is chosen as 7
        assert archive["P"].dtype == np.float64
