"""The course set (samples/course/): every homework derives and verifies, and
every derivative the tool computes equals a gradient written by hand in numpy,
the way the course's reference solutions compute it.

The values come from the tool's own `--save` file (the drawn inputs,
parameters, labels and the upstream gradient `dloss/dA` of `loss(A)`), so the
hand-written gradient sees exactly the numbers the tool saw; nothing here uses
the tool's derivative rules or its verifier.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from support import ROOT
from typer.testing import CliRunner

from shapecheck.cli import app

COURSE = ROOT / "samples" / "course"
Values = dict[str, np.ndarray]


def _saved(name: str, tmp_path: Path) -> Values:
    target = tmp_path / "values.npz"
    result = CliRunner().invoke(
        app, ["derive", str(COURSE / f"{name}.idx"), "--save", str(target), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    with np.load(target) as archive:
        return {key: archive[key] for key in archive.files}


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    shifted = np.exp(x - x.max(axis=axis, keepdims=True))
    return shifted / shifted.sum(axis=axis, keepdims=True)


def _labels(v: Values, name: str) -> np.ndarray:
    labels = v[name]
    assert labels.dtype == np.int64, "labels are saved as 1-based int64"
    assert labels.min() >= 1
    return labels - 1


def affine(v: Values) -> Values:
    g = v["dloss/dout"]
    return {"dL/dx": g @ v["w"].T, "dL/dw": v["x"].T @ g, "dL/db": g.sum(axis=0)}


def relu(v: Values) -> Values:
    return {"dL/dx": v["dloss/dout"] * (v["x"] > 0)}


def leaky_relu(v: Values) -> Values:
    return {"dL/dx": v["dloss/dout"] * np.where(v["x"] > 0, 1.0, 0.01)}


def sigmoid(v: Values) -> Values:
    s = 1 / (1 + np.exp(-v["x"]))
    return {"dL/dx": v["dloss/ds"] * s * (1 - s)}


def softmax_loss(v: Values) -> Values:
    x, y = v["x"], _labels(v, "y")
    n = x.shape[0]
    grad = _softmax(x, axis=1)
    grad[np.arange(n), y] -= 1
    return {"dL/dx": grad / n}


def svm_loss(v: Values) -> Values:
    x, y = v["x"], _labels(v, "y")
    n = x.shape[0]
    margins = np.maximum(0, x - x[np.arange(n), y][:, None] + 1)
    margins[np.arange(n), y] = 0
    counts = (margins > 0).astype(float)
    counts[np.arange(n), y] -= counts.sum(axis=1)
    return {"dL/dx": counts / n}


def two_layer_net(v: Values) -> Values:
    X, y, reg = v["X"], _labels(v, "y"), float(v["reg"])
    W1, b1, W2, b2 = v["W1"], v["b1"], v["W2"], v["b2"]
    n = X.shape[0]
    pre = X @ W1 + b1
    H = np.maximum(0, pre)
    dS = _softmax(H @ W2 + b2, axis=1)
    dS[np.arange(n), y] -= 1
    dS /= n
    dH = dS @ W2.T * (pre > 0)
    return {
        "dL/dW1": X.T @ dH + reg * W1,
        "dL/db1": dH.sum(axis=0),
        "dL/dW2": H.T @ dS + reg * W2,
        "dL/db2": dS.sum(axis=0),
    }


def _normalisation(v: Values, axis: int) -> Values:
    x, gamma, g = v["x"], v["gamma"], v["dloss/dout"]
    count = x.shape[axis]
    mu = x.mean(axis=axis, keepdims=True)
    inv_std = 1 / np.sqrt(((x - mu) ** 2).mean(axis=axis, keepdims=True) + 1e-5)
    xh = (x - mu) * inv_std
    dxh = g * gamma
    dx = (
        inv_std
        / count
        * (
            count * dxh
            - dxh.sum(axis=axis, keepdims=True)
            - xh * (dxh * xh).sum(axis=axis, keepdims=True)
        )
    )
    return {"dL/dx": dx, "dL/dgamma": (g * xh).sum(axis=0), "dL/dbeta": g.sum(axis=0)}


def batchnorm(v: Values) -> Values:
    return _normalisation(v, axis=0)


def layernorm(v: Values) -> Values:
    return _normalisation(v, axis=1)


def dropout(v: Values) -> Values:
    p = float(v["p"])
    return {"dL/dx": v["dloss/dout"] * (v["r"] < p) / p}


def embedding(v: Values) -> Values:
    grad = np.zeros_like(v["W"])
    np.add.at(grad, _labels(v, "idx"), v["dloss/dout"])
    return {"dL/dW": grad}


def attention(v: Values) -> Values:
    Q, K, V, g = v["Q"], v["K"], v["V"], v["dloss/dO"]
    n, dk = Q.shape
    scale = 1 / np.sqrt(dk)
    causal = np.triu(np.ones((n, n)), k=1) * 1e9
    A = _softmax(Q @ K.T * scale - causal, axis=1)
    dA = g @ V.T
    dS = A * (dA - (dA * A).sum(axis=1, keepdims=True))
    return {"dL/dQ": dS @ K * scale, "dL/dK": dS.T @ Q * scale, "dL/dV": A.T @ g}


def linear_regression(v: Values) -> Values:
    X, w, b, y = v["X"], v["w"], float(v["b"]), v["y"]
    r = X @ w + b - y
    n = X.shape[0]
    return {"dL/dw": 2 / n * X.T @ r, "dL/db": np.asarray(2 / n * r.sum())}


def logistic_regression(v: Values) -> Values:
    X, t, w, lam = v["X"], v["t"], v["w"], float(v["lam"])
    s = 1 / (1 + np.exp(-(X @ w)))
    return {"dL/dw": X.T @ (s - t) / X.shape[0] + lam * w}


def logistic_hessian(v: Values) -> Values:
    """The Hessian Newton's method uses, Xᵀ diag(s (1 - s)) X / n, written
    once by hand; `dg/dw` (g the named gradient) and `d2L/dw2` are both it."""
    X, t, w = v["X"], v["t"], v["w"]
    s = 1 / (1 + np.exp(-(X @ w)))
    n = X.shape[0]
    hessian = X.T @ np.diag(s * (1 - s)) @ X / n
    return {"dL/dw": X.T @ (s - t) / n, "dg/dw": hessian, "d2L/dw2": hessian}


def cosine_similarity(v: Values) -> Values:
    a, b = v["a"], v["b"]
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    c = a @ b / (na * nb)
    return {"dc/da": b / (na * nb) - c * a / na**2}


def global_max_pool(v: Values) -> Values:
    x, g = v["x"], v["dloss/dm"]
    grad = np.zeros_like(x)
    first = x.argmax(axis=1)  # numpy's argmax is the first maximum too
    rows, channels = np.meshgrid(np.arange(x.shape[0]), np.arange(x.shape[2]), indexing="ij")
    grad[rows, first, channels] = g
    return {"dL/dx": grad}


def rnn(v: Values) -> Values:
    Wx, Wh, b = v["Wx"], v["Wh"], v["b"]
    states = [v["h0"]]
    for t in range(1, 5):
        states.append(np.tanh(v[f"x{t}"] @ Wx + states[-1] @ Wh + b))
    dh = 2 * (states[4] - v["target"]) / states[4].size
    grads = {"dL/dWh": np.zeros_like(Wh), "dL/dWx": np.zeros_like(Wx), "dL/db": np.zeros_like(b)}
    for t in range(4, 0, -1):
        dpre = dh * (1 - states[t] ** 2)
        grads["dL/dWh"] += np.outer(states[t - 1], dpre)
        grads["dL/dWx"] += np.outer(v[f"x{t}"], dpre)
        grads["dL/db"] += dpre
        dh = Wh @ dpre
    return grads


def conv1d(v: Values) -> Values:
    # Valid correlation y = x ⋆ w + b: the input's gradient is the full
    # convolution of the upstream gradient with the kernel.
    x, w, g = v["x"], v["w"], v["dloss/dy"]
    assert g.shape == (x.size - w.size + 1,)
    return {
        "dL/dw": np.correlate(x, g, mode="valid"),
        "dL/db": g.sum(),
        "dL/dx": np.convolve(g, w, mode="full"),
    }


def conv2d(v: Values) -> Values:
    X, K, G = v["X"], v["K"], v["dloss/dY"]
    k, m = K.shape[0], G.shape[0]
    assert m == X.shape[0] - k + 1
    dX = np.zeros_like(X)
    dK = np.zeros_like(K)
    for u in range(k):
        for w in range(k):
            dX[u : u + m, w : w + m] += G * K[u, w]
            dK[u, w] = np.sum(G * X[u : u + m, w : w + m])
    return {"dL/dK": dK, "dL/dc": G.sum(), "dL/dX": dX}


def max_pool(v: Values) -> Values:
    # Each 2×2 window's first maximum in row-major order takes the gradient.
    X, G = v["X"], v["dloss/dY"]
    p = G.shape[0]
    assert X.shape == (2 * p, 2 * p)
    windows = X.reshape(p, 2, p, 2).transpose(0, 2, 1, 3).reshape(p, p, 4)
    first = windows.argmax(axis=-1)
    dX = np.zeros_like(X)
    rows, cols = np.meshgrid(np.arange(p), np.arange(p), indexing="ij")
    dX[2 * rows + first // 2, 2 * cols + first % 2] = G
    return {"dL/dX": dX}


def lstm(v: Values) -> Values:
    x, hp, cp, W, U, b = (v[k] for k in ("x", "hp", "cp", "W", "U", "b"))
    h = hp.shape[1]
    Z = x @ W + hp @ U + b
    s = 1 / (1 + np.exp(-Z))
    i, f, o = s[:, :h], s[:, h : 2 * h], s[:, 3 * h :]
    g = np.tanh(Z[:, 2 * h : 3 * h])
    c = f * cp + i * g
    dh = v["dloss/dhn"]
    dc = dh * o * (1 - np.tanh(c) ** 2)
    dZ = np.concatenate(
        [
            dc * g * i * (1 - i),
            dc * cp * f * (1 - f),
            dc * i * (1 - g**2),
            dh * np.tanh(c) * o * (1 - o),
        ],
        axis=1,
    )
    return {"dL/dW": x.T @ dZ, "dL/dU": hp.T @ dZ, "dL/db": dZ.sum(axis=0), "dL/dcp": dc * f}


def rnn_sequence(v: Values) -> Values:
    # Backpropagation through time with a loss at every step: each step's
    # state gets the gradient of its own loss plus what flows back from later.
    Wx, Wh, b = v["Wx"], v["Wh"], v["b"]
    steps = 4
    states = [v["h0"]]
    for t in range(1, steps + 1):
        states.append(np.tanh(v[f"x{t}"] @ Wx + states[-1] @ Wh + b))
    grads = {"dL/dWh": np.zeros_like(Wh), "dL/dWx": np.zeros_like(Wx), "dL/db": np.zeros_like(b)}
    from_later = np.zeros_like(b)
    for t in range(steps, 0, -1):
        dh = 2 * (states[t] - v[f"y{t}"]) / b.size + from_later
        dpre = dh * (1 - states[t] ** 2)
        grads["dL/dWh"] += np.outer(states[t - 1], dpre)
        grads["dL/dWx"] += np.outer(v[f"x{t}"], dpre)
        grads["dL/db"] += dpre
        from_later = Wh @ dpre
    return grads


def discounted_return(v: Values) -> Values:
    steps = 5
    rewards = np.array([float(v[f"r{t}"]) for t in range(1, steps + 1)])
    returns = np.array(
        [sum(0.9 ** (s - t) * rewards[s] for s in range(t, steps)) for t in range(steps)]
    )
    values = np.array([np.tanh(v[f"x{t + 1}"] @ v["w"]) for t in range(steps)])
    error = 2 * (values - returns) / steps
    dw = sum(error[t] * (1 - values[t] ** 2) * v[f"x{t + 1}"] for t in range(steps))
    # r3 (index 2) enters the returns of steps 1..3, discounted by its delay.
    dr3 = -sum(error[t] * 0.9 ** (2 - t) for t in range(3))
    return {"dL/dw": dw, "dL/dr3": np.asarray(dr3)}


REFERENCES: dict[str, Callable[[Values], Values]] = {
    f.__name__: f
    for f in (
        affine,
        relu,
        leaky_relu,
        sigmoid,
        softmax_loss,
        svm_loss,
        two_layer_net,
        batchnorm,
        layernorm,
        dropout,
        embedding,
        attention,
        linear_regression,
        logistic_regression,
        logistic_hessian,
        cosine_similarity,
        global_max_pool,
        rnn,
        conv1d,
        conv2d,
        max_pool,
        lstm,
        rnn_sequence,
        discounted_return,
    )
}


def test_every_course_file_has_a_reference() -> None:
    assert sorted(p.stem for p in COURSE.glob("*.idx")) == sorted(REFERENCES)


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_the_derivatives_equal_a_hand_written_numpy_gradient(name: str, tmp_path: Path) -> None:
    values = _saved(name, tmp_path)
    expected = REFERENCES[name](values)
    for label, gradient in expected.items():
        assert label in values, f"{label} was not derived"
        np.testing.assert_allclose(values[label], gradient, rtol=1e-7, atol=1e-10, err_msg=label)
