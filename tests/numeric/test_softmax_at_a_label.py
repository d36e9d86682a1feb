"""A softmax read at a label (`Σ_k softmax[k](S[i,k]) δ[k, y[i]]`, the delta
eaten into the softmax) is evaluated as written, in the verifier, the printed
numpy lines and the emitted module (a regression: it was read at the label's
name, a false E401)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
from support import central, saved
from typer.testing import CliRunner

from shapecheck.cli import app

SOURCE = (
    "dim n = 3, c = 4\n"
    "input S[n, c]\n"
    "input y[n] in c\n"
    "L = sum[k](softmax[k](S[i, k]) delta[k, y[i]])\n"
    "derive dL/dS\n"
)


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _expected(S: np.ndarray, y: np.ndarray) -> np.ndarray:
    """d/dS Σ_i P[i, y_i] = P[i, y_i] (onehot - P), by hand."""
    P = _softmax(S)
    rows = np.arange(S.shape[0])
    onehot = np.zeros_like(S)
    onehot[rows, y - 1] = 1.0
    return P[rows, y - 1][:, None] * (onehot - P)


def test_the_derivative_verifies_and_equals_the_hand_written_one(tmp_path: Path) -> None:
    source = tmp_path / "g.idx"
    source.write_text(SOURCE)
    saved = tmp_path / "g.npz"
    result = CliRunner().invoke(app, ["check", str(source), "--save", str(saved)])
    assert result.exit_code == 0, result.output
    with np.load(saved) as values:
        np.testing.assert_allclose(values["dL/dS"], _expected(values["S"], values["y"]), atol=1e-12)


def test_the_emitted_module_agrees(tmp_path: Path) -> None:
    source = tmp_path / "g.idx"
    source.write_text(SOURCE)
    result = CliRunner().invoke(app, ["derive", str(source), "--emit", "numpy"])
    assert result.exit_code == 0, result.output
    module_path = tmp_path / "g_module.py"
    module_path.write_text(result.output)
    spec = importlib.util.spec_from_file_location("g_module", module_path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    S = np.random.default_rng(1).standard_normal((3, 4))
    y = np.array([2, 4, 1])
    grads = module.backward(S=S, y=y)
    np.testing.assert_allclose(grads["dL/dS"], _expected(S, y), atol=1e-12)


def test_a_softmax_read_at_a_selection_too(tmp_path: Path) -> None:
    """The same with `argmax[j](Z[i, j])` in the delta instead of a label."""
    source = tmp_path / "s.idx"
    source.write_text(
        "dim n = 3, c = 4\n"
        "input S[n, c], Z[n, c]\n"
        "L = sum[k](softmax[k](S[i, k]) delta[k, argmax[j](Z[i, j])])\n"
        "derive dL/dS\n"
    )
    saved = tmp_path / "s.npz"
    result = CliRunner().invoke(app, ["check", str(source), "--save", str(saved)])
    assert result.exit_code == 0, result.output
    with np.load(saved) as values:
        chosen = values["Z"].argmax(axis=1) + 1
        np.testing.assert_allclose(values["dL/dS"], _expected(values["S"], chosen), atol=1e-12)


def test_an_inline_softmax_that_a_label_delta_eats(tmp_path: Path) -> None:
    """Regression (fuzzing): `softmax[k](s[k]) delta[k, y[i]]` lost the label's
    index `i` from the softmax's free indices: E999 in the forward pass."""
    source = tmp_path / "i.idx"
    source.write_text(
        "dim n = 3, c = 4\nparam s[c]\ninput y[n] in c\nL = softmax[k](s[k]) delta[k, y[i]]\n"
    )
    saved = tmp_path / "i.npz"
    result = CliRunner().invoke(app, ["check", str(source), "--save", str(saved)])
    assert result.exit_code == 0, result.output
    with np.load(saved) as values:
        s, y = values["s"], values["y"]
        p = np.exp(s - s.max()) / np.exp(s - s.max()).sum()
        expected = sum(p[label - 1] * (np.eye(4)[label - 1] - p) for label in y)
        np.testing.assert_allclose(values["dL/ds"], expected, atol=1e-12)


def test_the_batched_evaluator_keeps_what_it_remembers_alive() -> None:
    """Regression (fuzzing): whether a term depends on the perturbed array was
    remembered by the term's id alone, and a softmax's written form, made and
    freed during a run, passed its id on to another term (E999 on a file with
    `softmax[e](B2[e]) delta[e, y3[k, k]]`). Each answer now keeps its term."""
    from shapecheck.numeric.batched import BatchedEvaluator
    from shapecheck.symbolic import terms as t

    evaluator = BatchedEvaluator({"a": np.ones((2, 3))}, {"a"})
    size = t.Size("n", 3)
    written = t.Tensor("a", (t.Idx("i", size),))
    assert evaluator._mentions_batched(written)
    kept = [entry[0] for entry in evaluator._depends.values()]
    assert any(term is written for term in kept)


def test_a_softmax_read_at_a_label_keeps_the_labels_index_free(tmp_path: Path) -> None:
    # softmax[v, k] read at y[p]: its written form `Σ softmax(…) δ[v, y[p]]`
    # once summed over a fresh `p`, capturing the label's `p` (an E999 found
    # by fuzzing; the sizes of n and m differ).
    text = (
        "dim n, m = 2\ninput X0[m] positive\ninput y2[n] in m\n"
        "Y0 = delta[v, y2[p]] softmax[v, k](X0[v] X0[k])\nderive dY0/dX0\n"
    )
    report, values = saved(text, tmp_path)
    assert [d.code for d in report.diagnostics if d.is_error] == []
    labels = values["y2"] - 1

    def forward(x: np.ndarray) -> float:
        scores = np.exp(np.outer(x, x))
        weights = scores / scores.sum()
        return float(weights[labels].sum())

    np.testing.assert_allclose(values["dY0/dX0"], central(forward, values["X0"]), rtol=1e-6)
