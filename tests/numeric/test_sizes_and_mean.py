"""Spec 9.1 numerically: derivatives through sizes standing as numbers and
`mean`, against central differences and closed forms written here in numpy
(independent of the tool's own verifier), with `--size` and `--save`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from support import rendered, run

from shapecheck.symbolic.formula import formula

Array = np.ndarray

BATCHNORM = """dim n, m = 3
param x[n, m]
input T[m]
mu[k] = mean[i](x[i, k])
var[k] = mean[i]((x[i, k] - mu[k])^2)
L = (var[k] - T[k])^2 / n
derive dmu/dx, dvar/dx, dL/dx
"""


def _batchnorm_loss(x: Array, target: Array) -> float:
    mu = x.mean(axis=0)
    var = ((x - mu) ** 2).mean(axis=0)
    return float(((var - target) ** 2).sum() / x.shape[0])


def _central(f: Callable[[Array], float], x: Array, h: float = 1e-6) -> Array:
    """Central differences of a scalar function, entry by entry."""
    grad = np.zeros_like(x)
    for position in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[position] = h
        grad[position] = (f(x + step) - f(x - step)) / (2 * h)
    return grad


def _saved(text: str, tmp_path: Path, **options: object) -> dict[str, Array]:
    target = tmp_path / "out.npz"
    report = run(text, save=target, **options)
    assert report.errors == 0, rendered(report)
    with np.load(target) as data:
        return {key: data[key] for key in data.files}


def test_batchnorm_gradient_against_central_differences(tmp_path: Path) -> None:
    for size in (4, 6):
        saved = _saved(BATCHNORM, tmp_path, sizes=(("n", size),))
        x, target = saved["x"], saved["T"]
        assert x.shape == (size, 3)
        expected = _central(lambda v, target=target: _batchnorm_loss(v, target), x)
        np.testing.assert_allclose(saved["dL/dx"], expected, rtol=1e-6, atol=1e-8)


def test_batchnorm_jacobians_against_closed_forms(tmp_path: Path) -> None:
    saved = _saved(BATCHNORM, tmp_path, sizes=(("n", 5),))
    x = saved["x"]
    n, m = x.shape
    eye = np.eye(m)
    # dmu[k]/dx[p,q] = δ[k,q] / n
    np.testing.assert_allclose(saved["dmu/dx"], np.broadcast_to(eye[:, None, :] / n, (m, n, m)))
    # dvar[k]/dx[p,q] = 2 (x[p,k] - mu[k]) δ[k,q] / n  (the mean's own term sums to 0)
    centred = x - x.mean(axis=0)
    expected = 2 * centred.T[:, :, None] * eye[:, None, :] / n
    np.testing.assert_allclose(saved["dvar/dx"], expected, atol=1e-12)


def test_results_keep_the_size_name_whatever_its_value() -> None:
    texts = {}
    for options in ({}, {"sizes": (("n", 6),)}, {"verify": False}):
        report = run(BATCHNORM.replace("dim n, m = 3", "dim n = 4, m = 3"), **options)
        assert report.errors == 0, rendered(report)
        texts[str(options)] = [formula(r.derivation.formula) for r in report.derivatives]
    first = next(iter(texts.values()))
    assert all(v == first for v in texts.values())
    assert first[0] == "δ[k,q] / n"
    assert "/ n" in first[2] and "4" not in first[2]


def test_size_as_a_number_scales_the_derivative(tmp_path: Path) -> None:
    text = (
        "dim n, dk\nparam Q[n, dk], K[n, dk]\nS[i, j] = Q[i, e] K[j, e] / sqrt(dk)\n"
        "L = S[i, j] S[i, j]\nderive dL/dQ\n"
    )
    for dk in (2, 7):
        saved = _saved(text, tmp_path, sizes=(("dk", dk),))
        q, k = saved["Q"], saved["K"]
        assert q.shape[1] == dk

        def loss(v: Array, k: Array = k, dk: int = dk) -> float:
            return float(((v @ k.T / np.sqrt(dk)) ** 2).sum())

        np.testing.assert_allclose(saved["dL/dQ"], _central(loss, q), rtol=1e-6, atol=1e-8)
        # Closed form: 2 S K / sqrt(dk)
        np.testing.assert_allclose(saved["dL/dQ"], 2 * (q @ k.T / np.sqrt(dk)) @ k / np.sqrt(dk))


def test_mean_over_two_indices_and_a_literal_shape(tmp_path: Path) -> None:
    text = "param W[3, 4]\nL = mean[a, b](W[a, b]^2)\nderive dL/dW\n"
    saved = _saved(text, tmp_path)
    np.testing.assert_allclose(saved["dL/dW"], 2 * saved["W"] / 12)
    report = run(text, verify=False)
    # A size with no name prints as its number.
    assert formula(report.derivatives[0].derivation.formula) == "2 W[a,b] / 3 / 4"


def test_size_times_mean_cancels() -> None:
    report = run("dim n\nparam x[n]\nL = n mean[i](x[i])\nderive dL/dx\n", verify=False)
    assert formula(report.derivatives[0].derivation.formula) == "1"
