"""Verification benchmark: shapecheck beside torch.autograd.gradcheck and
jax.test_util.check_grads, on the same functions, in the same run.

    pip install ".[bench]"          # torch==2.13.0 (CPU) and jax: benchmark only
    python benchmarks/verify_vs_autograd.py

Functions: the affine layer's squared loss L = Σ (XW + b)² (gradients in W and
b) and a 4-step RNN with L = Σ s₄² (gradients in U and W), at a small size
(n=8, d=16, h=32) and a large one (n=64, d=128, h=256). For each tool it prints
the wall time (median of runs) of checking those gradients, its verdict
(a correct gradient must pass: anything else is a false failure), and the
ratio to shapecheck. shapecheck's time is its verification alone (derivation
is timed by derive_rnn.py); torch's default gradcheck builds the full
numerical Jacobian and is cut off after TIME_LIMIT_S. Never a test.
"""

from __future__ import annotations

import signal
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from shapecheck.numeric.values import draw_values
from shapecheck.numeric.verify import Settings, Verifier
from shapecheck.pipeline import Options, analyze_source
from shapecheck.source import Source
from shapecheck.symbolic.derive import Deriver

TIME_LIMIT_S = 60
SIZES = {"small": (8, 16, 32), "large": (64, 128, 256)}
STEPS = 4

AFFINE = """dim n = {n}, d = {d}, h = {h}
input X[n, d]
param W[d, h], b[h]
Y[i, k] = X[i, j] W[j, k] + b[k]
L = Y[i, k] Y[i, k]
derive dL/dW, dL/db
"""

RNN = """dim d = {d}, h = {h}
param W[d, h], U[h, h], b[h]
input s0[h]
for t in 1..{steps}:
    input x{{t}}[d]
    s{{t}}[i] = tanh(x{{t}}[j] W[j, i] / {scale} + s{{t-1}}[k] U[k, i] / {scale} + b[i])
L = s{steps}[i] s{steps}[i]
derive dL/dU, dL/dW
"""


class _TimeLimit(Exception):
    pass


def _timed(function: Callable[[], Any], runs: int = 3) -> tuple[float, Any]:
    """Median wall time, and the last result; ('timeout', None) past the limit."""

    def alarm(*_: Any) -> None:
        raise _TimeLimit

    times = []
    result: Any = None
    previous = signal.signal(signal.SIGALRM, alarm)
    try:
        for _ in range(runs):
            signal.alarm(TIME_LIMIT_S)
            start = time.perf_counter()
            try:
                result = function()
            except _TimeLimit:
                return float("inf"), "timeout"
            finally:
                signal.alarm(0)
            times.append(time.perf_counter() - start)
            if times[-1] > 5:
                break  # one run is enough for the slow ones
    finally:
        signal.signal(signal.SIGALRM, previous)
    return statistics.median(times), result


def shapecheck_check(text: str) -> Callable[[], bool]:
    report = analyze_source(Source("bench.idx", text), Options(verify=False))
    assert report.checked is not None and report.errors == 0
    program = report.checked
    deriver = Deriver(program)
    derivations = [deriver.derive(r.of, r.wrt) for r in program.requests]
    values = draw_values(program, 0)

    def run() -> bool:
        verifier = Verifier(program, deriver, values, Settings())
        return all(verifier.check(d).verdict == "ok" for d in derivations)

    return run


def torch_checks(kind: str, n: int, d: int, h: int, fast: bool) -> Callable[[], bool]:
    import torch

    generator = torch.Generator().manual_seed(0)

    def param(*shape: int) -> Any:
        return torch.randn(*shape, generator=generator, dtype=torch.float64, requires_grad=True)

    if kind == "affine":
        x = torch.randn(n, d, generator=generator, dtype=torch.float64)
        inputs = (param(d, h), param(h))

        def loss(w: Any, b: Any) -> Any:
            return ((x @ w + b) ** 2).sum()
    else:
        xs = [torch.randn(d, generator=generator, dtype=torch.float64) for _ in range(STEPS)]
        s0 = torch.randn(h, generator=generator, dtype=torch.float64)
        b = torch.randn(h, generator=generator, dtype=torch.float64)
        scale = float(np.sqrt(h))
        inputs = (param(h, h), param(d, h))

        def loss(u: Any, w: Any) -> Any:
            s = s0
            for x in xs:
                s = torch.tanh(x @ w / scale + s @ u / scale + b)
            return (s * s).sum()

    def run() -> bool:
        return bool(torch.autograd.gradcheck(loss, inputs, fast_mode=fast, raise_exception=False))

    return run


def jax_checks(kind: str, n: int, d: int, h: int) -> Callable[[], bool]:
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    from jax.test_util import check_grads

    key = jax.random.PRNGKey(0)
    keys = jax.random.split(key, 8)
    if kind == "affine":
        x = jax.random.normal(keys[0], (n, d), dtype=jnp.float64)
        args = (
            jax.random.normal(keys[1], (d, h), dtype=jnp.float64),
            jax.random.normal(keys[2], (h,), dtype=jnp.float64),
        )

        def loss(w: Any, b: Any) -> Any:
            return jnp.sum((x @ w + b) ** 2)
    else:
        xs = [jax.random.normal(keys[3 + k], (d,), dtype=jnp.float64) for k in range(STEPS)]
        s0 = jax.random.normal(keys[0], (h,), dtype=jnp.float64)
        b = jax.random.normal(keys[1], (h,), dtype=jnp.float64)
        scale = float(np.sqrt(h))
        args = (
            jax.random.normal(keys[2], (h, h), dtype=jnp.float64),
            jax.random.normal(keys[7], (d, h), dtype=jnp.float64),
        )

        def loss(u: Any, w: Any) -> Any:
            s = s0
            for x in xs:
                s = jnp.tanh(x @ w / scale + s @ u / scale + b)
            return jnp.sum(s * s)

    def run() -> bool:
        try:
            check_grads(loss, args, order=1, modes=("rev",))
        except AssertionError:
            return False
        return True

    return run


def _available(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def main() -> None:
    have_torch, have_jax = _available("torch"), _available("jax")
    print("Verification time of correct gradients (median wall time; ratio = tool / shapecheck)")
    header = f"{'function':<8} {'size':<6} {'tool':<28} {'time':>10} {'ratio':>8}  verdict"
    print(header)
    print("-" * len(header))
    for kind in ("affine", "rnn"):
        for size_name, (n, d, h) in SIZES.items():
            text = (
                AFFINE.format(n=n, d=d, h=h)
                if kind == "affine"
                else RNN.format(d=d, h=h, steps=STEPS, scale=int(np.sqrt(h)))
            )
            ours, ok = _timed(shapecheck_check(text))
            rows: list[tuple[str, float, Any]] = [("shapecheck", ours, ok)]
            if have_torch:
                rows.append(
                    ("torch gradcheck (fast_mode)", *_timed(torch_checks(kind, n, d, h, True)))
                )
                rows.append(
                    ("torch gradcheck (default)", *_timed(torch_checks(kind, n, d, h, False)))
                )
            if have_jax:
                rows.append(("jax check_grads", *_timed(jax_checks(kind, n, d, h))))
            for tool, seconds, verdict in rows:
                shown = "timeout" if verdict == "timeout" else ("pass" if verdict else "FAIL")
                time_text = f">{TIME_LIMIT_S}s" if seconds == float("inf") else f"{seconds:.3f}s"
                ratio = "" if seconds == float("inf") else f"{seconds / ours:.2f}"
                print(f"{kind:<8} {size_name:<6} {tool:<28} {time_text:>10} {ratio:>8}  {shown}")
    if not (have_torch and have_jax):
        print("(install the bench extra for torch and jax: pip install '.[bench]')")


if __name__ == "__main__":
    main()
