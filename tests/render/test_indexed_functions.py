"""softmax, logsumexp and norm (spec 9.5) in every output: each format prints
them; every printed formula is valid `.idx` that means the same (pasted back
as a claim, it is confirmed symbolically); the emitted numpy module computes
them stably and its backward pass agrees with finite differences of a forward
pass written here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from support import load_module, run

from shapecheck.render.notation import notation
from shapecheck.render.output import FORMATS, render
from shapecheck.symbolic.formula import formula

PROGRAM = """dim n = 2, c = 3
input Z[n, c] = [[1000, 999, -1000], [0.5, -0.25, 2]]
param W[c, c]
param v[c]
S[i, k] = Z[i, j] W[j, k] / 1000
P[i, k] = softmax[k](S[i, k])
m[i] = logsumexp[k](S[i, k] + v[k])
r = norm[j, k](W[j, k])
d[j] = sum[k](softmax[k](W[j, k]) delta[k, j])
y = sum[k](softmax[k](v[k]) delta[k, 2])
L = P[i, k] v[k] + m[i] + r + d[k] + y
derive dP/dS, dm/dS, dr/dW, dd/dW, dy/dv, dL/dW, dL/dv
"""


def _status(reports: object) -> int:
    del reports
    return 0


@pytest.mark.parametrize("output", sorted(FORMATS))
def test_every_format_prints_the_functions(output: str) -> None:
    report = run(PROGRAM)
    assert report.errors == 0, report.diagnostics
    text, _ = render([report], output, strict=False, status_of=_status, detailed=True)
    if output in ("text", "json", "jsonl"):
        for word in ("softmax[k](S[i,k])", "logsumexp[k](", "norm[j,k](W[j,k])"):
            assert word in text, (output, word)
    if output in ("latex", "markdown"):
        assert r"\operatorname{softmax}_{k}\left(S_{i,k}\right)" in text
        assert r"\operatorname{norm}_{j,k}\left(W_{j,k}\right)" in text


def test_printed_formulas_parse_back_and_are_confirmed() -> None:
    report = run(PROGRAM)
    assert report.errors == 0, report.diagnostics
    assert report.checked is not None
    claims = []
    for result in report.derivatives:
        derivation = result.derivation
        indices = ", ".join(i.name for i in derivation.signature)
        at = f"[{indices}]" if indices else ""
        claims.append(f"{derivation.label}{at} = {formula(derivation.formula)}")
    definitions = [
        f"{d.name}2{'[' + ', '.join(d.indices) + ']' if d.indices else ''} = {notation(d.rhs)}"
        for d in report.checked.definitions
    ]
    # Adjoints print in the file's names; only derivatives without them are pasted.
    pasted = [c for c in claims if "/d" not in c.split("=", 1)[1]]
    assert len(pasted) >= 5
    again = run(PROGRAM + "\n".join(definitions + pasted) + "\n")
    assert again.errors == 0, again.diagnostics
    assert [c.symbolic.matches for c in again.claims] == [True] * len(pasted), pasted
    # Each definition printed with its sums written out means the same.
    assert again.checked is not None
    copies = again.checked.definitions[len(report.checked.definitions) :]
    for original, copy in zip(report.checked.definitions, copies, strict=True):
        assert notation(copy.rhs) == notation(original.rhs)


def _forward(z: np.ndarray, w: np.ndarray, v: np.ndarray) -> float:
    """L of PROGRAM in plain numpy, stably."""
    s = z @ w / 1000
    e = np.exp(s - s.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    a = s + v
    m = a.max(axis=1) + np.log(np.exp(a - a.max(axis=1, keepdims=True)).sum(axis=1))
    ew = np.exp(w - w.max(axis=1, keepdims=True))
    d = np.diag(ew / ew.sum(axis=1, keepdims=True))
    ev = np.exp(v - v.max())
    y = (ev / ev.sum())[1]
    return float(np.sum(p @ v) + m.sum() + np.sqrt(np.sum(w**2)) + d.sum() + y)


def test_emitted_module_is_stable_and_right(tmp_path: Path) -> None:
    report = run(PROGRAM)
    text, _ = render([report], "text", strict=False, status_of=_status)
    from shapecheck.render import numpy_module

    source = numpy_module.render([report])
    for helper in ("def _softmax(", "def _logsumexp(", "def _norm("):
        assert helper in source
    module = load_module(source, tmp_path, "emitted_softmax")
    rng = np.random.default_rng(7)
    w, v = rng.standard_normal((3, 3)), rng.standard_normal(3)
    z = np.array([[1000, 999, -1000], [0.5, -0.25, 2]])
    forward = module.forward(W=w, v=v)
    assert all(np.all(np.isfinite(value)) for value in forward.values())
    np.testing.assert_allclose(forward["L"], _forward(z, w, v))
    grads = module.backward(W=w, v=v)
    for name, base in (("W", w), ("v", v)):
        expected = np.zeros_like(base)
        for position in np.ndindex(base.shape):
            plus, minus = base.copy(), base.copy()
            plus[position] += 1e-6
            minus[position] -= 1e-6
            args = {"W": w, "v": v, name: plus}
            up = _forward(z, args["W"], args["v"])
            args[name] = minus
            expected[position] = (up - _forward(z, args["W"], args["v"])) / 2e-6
        np.testing.assert_allclose(grads[f"dL/d{name}"], expected, rtol=1e-5, atol=1e-7)
    assert "dL/dW" in text
