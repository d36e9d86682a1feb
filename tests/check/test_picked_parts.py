"""An integer array or a selection as a part of an index expression (spec 9.4):
`W[idx[i] + 1, k]`, `x[2 a + argmax[u:2](...) - 2]`. The range proof bounds
it by its range; lowering, evaluation, the numpy lines, `--emit numpy` and
LaTeX read it; each derivative is checked against a gradient written here
in numpy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from support import codes, formulas, load_module, printed_value, rendered, run, saved

from shapecheck.render import numpy_module, output

EMBEDDING = (
    "dim n = 5, c = 4, d = 3, c1 = c + 1\n"
    "input idx[n] in c\n"
    "param W[c1, d]\n"
    "E[i, k] = W[idx[i] + 1, k]\n"
    "L = loss(E)\n"
    "derive dL/dW\n"
)

# 2-wide max pooling with stride 2, written by hand: the entry the argmax picks.
POOLING = (
    "dim n, p = (n - 2) / 2 + 1\n"
    "param x[n]\n"
    "y[a:p] = x[2 a + argmax[u:2](x[2 a + u - 2]) - 2]\n"
    "L = loss(y)\n"
    "derive dL/dx\n"
)


def _embedding_gradient(read: np.ndarray, upstream: np.ndarray, rows: int) -> np.ndarray:
    """dL/dW of E[i, k] = W[r(i), k], `read` holding each r(i) 0-based: row r(i)
    gets dL/dE[i] (for `W[idx[i] + 1, k]`, the 1-based idx[i] + 1 is idx[i])."""
    gradient = np.zeros((rows, upstream.shape[1]))
    np.add.at(gradient, read.astype(int), upstream)
    return gradient


def _pooling_gradient(x: np.ndarray, upstream: np.ndarray) -> np.ndarray:
    """dL/dx of y[a] = max(x[2a-1], x[2a]) (1-based): the first maximum gets dL/dy[a]."""
    gradient = np.zeros_like(x)
    for a, window in enumerate(x.reshape(-1, 2)):
        gradient[2 * a + int(np.argmax(window))] += upstream[a]
    return gradient


def test_an_embedding_read_at_an_offset(tmp_path: Path) -> None:
    report, values = saved(EMBEDDING, tmp_path)
    assert report.errors == 0, rendered(report)
    assert formulas(report)["dL/dW"] == "Σ_i dL/dE[i,q] δ[idx[i] + 1, p]"
    idx, W = values["idx"], values["W"]
    expected = _embedding_gradient(idx, values["dloss/dE"], W.shape[0])
    np.testing.assert_allclose(values["dL/dW"], expected, rtol=1e-12, atol=1e-12)
    (result,) = report.derivatives
    assert result.check is not None and result.check.verdict.name == "OK"
    namespace = {name: values[name] for name in ("idx", "W")}
    namespace["dloss/dE"] = values["dloss/dE"]
    np.testing.assert_allclose(printed_value(result, namespace), expected, atol=1e-12)


def test_the_emitted_module_reads_the_offset(tmp_path: Path) -> None:
    report = run(EMBEDDING)
    module = load_module(numpy_module.render([report]), tmp_path, "emitted_offset")
    rng = np.random.default_rng(3)
    idx = np.array([4, 1, 1, 3, 2, 4, 4])  # sizes from the arrays: n = 7 here
    W, upstream = rng.standard_normal((5, 3)), rng.standard_normal((7, 3))
    forward = module.forward(idx=idx, W=W, dloss_dE=upstream)
    np.testing.assert_allclose(forward["E"], W[idx])
    gradient = module.backward(idx=idx, W=W, dloss_dE=upstream)["dL/dW"]
    np.testing.assert_allclose(gradient, _embedding_gradient(idx, upstream, 5), atol=1e-12)


def test_an_offset_that_can_leave_the_axis_is_E140() -> None:
    text = EMBEDDING.replace("param W[c1, d]", "param W[c, d]")
    assert rendered(run(text)) == (
        "test.idx:4:13: error[E140]: the first index of W may leave its range: needs "
        "c + 1 <= c\n"
        "  4 | E[i, k] = W[idx[i] + 1, k]\n"
        "    |             ^^^^^^^^^^\n"
        "  = help: `idx[i] + 1` must stay inside 1..c over the range of its indices\n"
        "  = help: `idx[i]` takes values in 1..c"
    )


def test_a_negative_coefficient_bounds_from_the_other_end(tmp_path: Path) -> None:
    # c + 1 - idx[i] runs over 1..c: inside W[c, d]; c + 2 - idx[i] is not.
    inside = EMBEDDING.replace("param W[c1, d]", "param W[c, d]")
    backwards = inside.replace("W[idx[i] + 1, k]", "W[c + 1 - idx[i], k]")
    report, values = saved(backwards, tmp_path)
    assert report.errors == 0, rendered(report)
    rows = values["W"].shape[0]  # row c + 1 - idx (1-based) is c - idx, 0-based
    flipped = _embedding_gradient(rows - values["idx"], values["dloss/dE"], rows)
    np.testing.assert_allclose(values["dL/dW"], flipped, rtol=1e-12, atol=1e-12)
    outside = inside.replace("W[idx[i] + 1, k]", "W[c + 2 - idx[i], k]")
    assert codes(outside) == ["E140"]
    assert "needs c + 1 <= c" in rendered(run(outside))


def test_a_pooling_written_by_hand(tmp_path: Path) -> None:
    report, values = saved(POOLING, tmp_path)
    assert report.errors == 0, rendered(report)
    x, upstream = values["x"], values["dloss/dy"]
    expected = _pooling_gradient(x, upstream)
    np.testing.assert_allclose(values["dL/dx"], expected, rtol=1e-12, atol=1e-12)
    shown = formulas(report)["dL/dx"]
    assert shown == "Σ_a dL/dy[a] δ[2 a + argmax[u:2](x[2 a + u - 2]) - 2, q]"
    # Pasted back, the printed formula is confirmed symbolically.
    again = run(POOLING + f"dL/dx[q] = {shown}\n")
    (claim,) = again.claims
    assert again.errors == 0 and claim.symbolic.matches, rendered(again)


def test_the_emitted_module_pools(tmp_path: Path) -> None:
    module = load_module(numpy_module.render([run(POOLING)]), tmp_path, "emitted_pool")
    rng = np.random.default_rng(5)
    x, upstream = rng.standard_normal(8), rng.standard_normal(4)
    np.testing.assert_allclose(module.forward(x=x, dloss_dy=upstream)["y"], x.reshape(4, 2).max(1))
    gradient = module.backward(x=x, dloss_dy=upstream)["dL/dx"]
    np.testing.assert_allclose(gradient, _pooling_gradient(x, upstream), atol=1e-12)


def test_a_selection_part_sizes_its_own_indices(tmp_path: Path) -> None:
    # `i` stands only inside the argmax's argument: it is sized there (no E204).
    text = (
        "dim n = 4, m = 3, m2 = m + 2\nparam X[n, m], v[m2]\n"
        "y[i] = v[argmax[j](X[i, j]) + 2] X[i, 1]\nL = loss(y)\nderive dL/dv, dL/dX\n"
    )
    report, values = saved(text, tmp_path)
    assert report.errors == 0, rendered(report)
    X, v, upstream = values["X"], values["v"], values["dloss/dy"]
    picked = X.argmax(axis=1) + 2  # 0-based: argmax (1-based) + 2, less one
    expected_v = np.zeros_like(v)
    np.add.at(expected_v, picked, upstream * X[:, 0])
    np.testing.assert_allclose(values["dL/dv"], expected_v, rtol=1e-12, atol=1e-12)
    expected_X = np.zeros_like(X)
    expected_X[:, 0] = upstream * v[picked]  # the selection is a constant
    np.testing.assert_allclose(values["dL/dX"], expected_X, rtol=1e-12, atol=1e-12)


def test_a_selection_part_is_range_proved() -> None:
    text = "dim n = 7, k = 2\ninput x[n]\nparam w[k]\nq[i:k] = x[2 argmax[j](w[j]) + i]\n"
    assert codes(text + "L = loss(q)\n") == []  # 3..6 inside 1..7
    wide = rendered(run(text.replace("n = 7", "n = 5") + "L = loss(q)\n"))
    assert "needs 3 k <= n" in wide
    assert "`argmax[j](w[j])` takes values in 1..k" in wide


@pytest.mark.parametrize(
    ("position", "message"),
    [
        ("i z[i]", "`i * z[i]` multiplies an integer array (`z[i]`) by the index `i`"),
        ("z[i] z[i]", "`z[i] * z[i]` multiplies an integer array (`z[i]`) by `z[i]`"),
        (
            "argmax[j](x[j]) i",
            "`argmax[j](x[j]) * i` multiplies a selection (`argmax[j](x[j])`) by the index `i`",
        ),
    ],
)
def test_a_product_with_a_picked_part_is_E031(position: str, message: str) -> None:
    text = f"dim n = 3\ninput x[n]\ninput z[n] in n\nq[i] = x[{position}]\n"
    shown = rendered(run(text))
    assert codes(text) == ["E031"], shown
    assert message in shown


def test_latex_prints_the_parts_in_math() -> None:
    for text, wanted in (
        (EMBEDDING, r"W_{\mathit{idx}_{i} + 1,k}"),
        (POOLING, r"y_{a} &= x_{2 a + \operatorname{argmax}_{u}\left(x_{2 a + u - 2}\right) - 2}"),
    ):
        report = run(text)
        latex, _ = output.render([report], "latex", strict=False, status_of=lambda r: 0)
        assert wanted in latex


def test_softmax_takes_no_range_in_its_brackets() -> None:
    text = "dim n = 3\nparam x[n]\ny[u:2] = softmax[u:2](x[u + 1])\n"
    assert codes(text) == ["E023"]
    assert "`softmax[u:2]` is read at `u`, which it does not bind" in rendered(run(text))


def test_a_reduction_annotated_in_its_brackets_reads_a_window(tmp_path: Path) -> None:
    text = "dim n = 4\nparam x[n]\ny = logsumexp[u:2](x[u + 1])\nderive dy/dx\n"
    report, values = saved(text, tmp_path)
    assert report.errors == 0, rendered(report)
    window = values["x"][1:3]
    weights = np.exp(window) / np.exp(window).sum()
    np.testing.assert_allclose(values["dy/dx"], [0.0, *weights, 0.0], rtol=1e-12)
    # Printed with its range, the formula reads back.
    shown = formulas(report)["dy/dx"]
    assert shown.startswith("Σ_{u:2} "), shown
    assert run(text + f"dy/dx[p] = {shown}\n").errors == 0


def test_a_selection_left_alone_by_a_loop_reads_back_as_a_part() -> None:
    # At t = 1, `2 t + argmax[u:2](…) - 2` is the selection alone; printed
    # bare it would read as standing in the delta itself (E205: sizes 2 and n).
    text = (
        "dim n = 6\nparam x[n]\nfor t in 1..2:\n"
        "    y{t} = x[2 t + argmax[u:2](x[2 t + u - 2]) - 2]\nL = y1 + y2\nderive dL/dx\n"
    )
    report = run(text)
    assert report.errors == 0, rendered(report)
    shown = formulas(report)["dL/dx"]
    assert shown == ("dL/dy1 δ[argmax[u:2](x[u]) + 0, p] + dL/dy2 δ[argmax[u:2](x[u + 2]) + 2, p]")
    again = run(text + f"dL/dx[p] = {shown}\n")
    (claim,) = again.claims
    assert again.errors == 0 and claim.symbolic.matches, rendered(again)


def test_claims_with_a_gather_in_an_expression() -> None:
    right = "dL/dW[p, q] = Σ_i dL/dE[i,q] δ[p, 1 + idx[i]]\n"
    report = run(EMBEDDING + right)
    (claim,) = report.claims
    assert report.errors == 0 and claim.symbolic.matches, rendered(report)
    # One row off: wrong, and the diagnosis names the delta.
    wrong = run(EMBEDDING + right.replace("1 + idx[i]", "idx[i] + 0"))
    assert codes(EMBEDDING + right.replace("1 + idx[i]", "idx[i] + 0")) == ["E402"]
    assert "it has `δ[p, idx[i] + 0]` where the derivation has `δ[idx[i] + 1, p]`" in rendered(
        wrong
    )
