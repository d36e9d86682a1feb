"""Verification speed: derive + verify end to end, against baselines from the same run.

Prints, for each case, the median time of `analyze_source` with numeric
verification, the same with `verify=False` (parse, check, derive only), and a
plain numpy forward pass of the same model written by hand, with the ratios.
Cases: the RNN (benchmarks/derive_rnn.py) at T = 100 and T = 1000, a
two-layer-net homework with a softmax-like loss and five claims, the course's
two-layer net (samples/course/two_layer_net.idx, softmax and labels) with
three more claims (five), and the affine
dL/dW at n = 512, d = h = 1024 (checked along random directions). Targets from
issue 14: RNN T = 1000 ≤ 0.5 s, homework ≤ 0.1 s. Never a test.

    PYTHONPATH=. python benchmarks/verify_speed.py
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from derive_rnn import rnn_source

from shapecheck.pipeline import FileReport, Options, analyze_source
from shapecheck.source import Source

HOMEWORK = """\
dim n = 6, d = 4, h = 5, c = 3
input X[n, d], T[n, c]
param W1[d, h], b1[h], W2[h, c], b2[c]
H[i, k] = tanh(X[i, j] W1[j, k] + b1[k])
Z[i, m] = H[i, k] W2[k, m] + b2[m]
S[i] = exp(Z[i, e])
L = -T[i, m] Z[i, m] + log(S[i])
derive dL/dW1, dL/db1, dL/dW2, dL/db2
dL/dZ[i, m] = exp(Z[i, m]) / S[i] - T[i, m]
dL/db2[m] = dL/dZ[i, m]
dL/dW2[k, m] = H[i, k] dL/dZ[i, m]
dL/dH[i, k] = dL/dZ[i, m] W2[k, m]
dL/db1[k] = dL/dH[i, k] (1 - H[i, k]^2)
"""

# samples/course/two_layer_net.idx (ReLU, softmax, cross-entropy with labels,
# L2 regularisation; two claims) with three more claims: the homework of
# issue 14's target, a two-layer net with a softmax loss and five claims.
TWO_LAYER_NET = (
    Path(__file__).resolve().parent.parent / "samples/course/two_layer_net.idx"
).read_text()
TWO_LAYER_NET_CLAIMS = """\
dL/dH[i, k] = (P[i, m] - delta[m, y[i]]) W2[k, m] / n
dL/db1[k] = sum[i](dL/dH[i, k] (H[i, k] > 0))
dL/dW1[j, k] = X[i, j] dL/dH[i, k] (H[i, k] > 0) + reg W1[j, k]
"""

AFFINE = """\
dim n = 512, d = 1024, h = 1024
input X[n, d]
param W[d, h], b[h]
Y[i, k] = X[i, j] W[j, k] + b[k]
L = Y[i, k] Y[i, k]
derive dL/dW
"""


def _timed(action: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _analyse(text: str, verify: bool = True) -> FileReport:
    return analyze_source(Source("bench.idx", text), Options(verify=verify))


def _rnn_numpy(steps: int) -> Callable[[], object]:
    rng = np.random.default_rng(0)
    w, u, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 4)), rng.standard_normal(4)
    xs = rng.standard_normal((steps, 3))

    def forward() -> object:
        s = np.zeros(4)
        for x in xs:
            s = np.tanh(x @ w + s @ u + b)
        return s.sum()

    return forward


def _homework_numpy() -> Callable[[], object]:
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((6, 4)), rng.standard_normal((6, 3))
    w1, b1, w2, b2 = (rng.standard_normal(s) for s in ((4, 5), (5,), (5, 3), (3,)))

    def forward() -> object:
        z = np.tanh(x @ w1 + b1) @ w2 + b2
        return -(t * z).sum() + np.log(np.exp(z).sum(axis=1)).sum()

    return forward


def _two_layer_numpy() -> Callable[[], object]:
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((5, 4)), rng.integers(0, 3, 5)
    w1, b1, w2, b2 = (rng.standard_normal(s) for s in ((4, 6), (6,), (6, 3), (3,)))

    def forward() -> object:
        s = np.maximum(0, x @ w1 + b1) @ w2 + b2
        p = np.exp(s - s.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        return -np.log(p[np.arange(5), y]).mean() + 0.5 * ((w1**2).sum() + (w2**2).sum())

    return forward


def _affine_numpy() -> Callable[[], object]:
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((512, 1024)), rng.standard_normal((1024, 1024)), np.ones(1024)

    def forward() -> object:
        y = x @ w + b
        return (y * y).sum()

    return forward


def main() -> None:
    cases: list[tuple[str, str, Callable[[], object], float | None, int]] = [
        ("RNN T=100, dL/dU", rnn_source(100), _rnn_numpy(100), None, 5),
        ("RNN T=1000, dL/dU", rnn_source(1000), _rnn_numpy(1000), 0.5, 3),
        ("homework, 5 claims", HOMEWORK, _homework_numpy(), 0.1, 9),
        (
            "two-layer net, 5 claims",
            TWO_LAYER_NET + TWO_LAYER_NET_CLAIMS,
            _two_layer_numpy(),
            0.1,
            9,
        ),
        ("affine n=512 d=h=1024, dL/dW", AFFINE, _affine_numpy(), None, 1),
    ]
    print(
        f"{'case':<30} {'verified':>9} {'no verify':>10} {'numpy fwd':>10} "
        f"{'÷ no verify':>12} {'÷ numpy':>9} {'target':>7}"
    )
    for name, text, forward, target, repeats in cases:
        report = _analyse(text)
        problems = [d.code for d in report.diagnostics if d.code != "W101"]
        verdicts = [str(r.check.verdict) for r in report.derivatives if r.check is not None]
        claims = [str(c.check.verdict) for c in report.claims if c.check is not None]
        verified = _timed(lambda text=text: _analyse(text), repeats)
        plain = _timed(lambda text=text: _analyse(text, verify=False), repeats)
        numpy_time = _timed(forward, max(repeats, 3))
        mark = "" if target is None else f"{target:.2f}s" + (" ✓" if verified <= target else " ✗")
        print(
            f"{name:<30} {verified:>8.3f}s {plain:>9.3f}s {numpy_time:>9.4f}s "
            f"{verified / plain:>11.1f}× {verified / numpy_time:>8.0f}× {mark:>7}"
        )
        print(f"{'':<30} derivatives {verdicts}; claims {claims}; diagnostics {problems or 'none'}")


if __name__ == "__main__":
    main()
