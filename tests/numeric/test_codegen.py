"""The printed numpy code computes what the evaluator computes, for every term kind."""

from __future__ import annotations

import string
from pathlib import Path

import numpy as np
import pytest
from support import printed_value, saved

from shapecheck.check.program import Size
from shapecheck.numeric.codegen import CodeError, numpy_code, python_name
from shapecheck.numeric.evaluate import Evaluator, align
from shapecheck.symbolic import terms as t

IX = t.Idx("i", Size("n", 3))
JX = t.Idx("j", Size("m", 2))
KX = t.Idx("k", Size("n", 3))
RNG = np.random.default_rng(0)
VALUES = {
    "A": RNG.standard_normal((3, 2)),
    "S": RNG.standard_normal((3, 3)),
    "v": RNG.standard_normal(3),
    "dloss/dv": RNG.standard_normal(3),
    "dL/dA": RNG.standard_normal((3, 2)),
}
V = t.Tensor("v", (IX,))
TERMS: dict[str, t.Term] = {
    "const": t.Const(1.5),
    "size": t.SizeOf(Size("n", 3)),
    "zero": t.Zero((IX, JX)),
    "tensor": t.Tensor("A", (IX, JX)),
    "transposed": t.Tensor("A", (JX, IX)),
    "literal index": t.Tensor("A", (IX, t.Fixed(2))),
    "diagonal": t.Tensor("S", (IX, IX)),
    "derivative name": t.Tensor("dL/dA", (IX, JX), t.ADJOINT),
    "delta": t.Delta((IX, KX)),
    "delta with a literal": t.Delta((IX, t.Fixed(2), KX)),
    "delta of literals": t.Delta((t.Fixed(1), t.Fixed(2), IX)),
    # `δ[j, 2 2 2]`: 8 is outside j's 1..2, so the delta is 0 everywhere (spec 9.4)
    "delta at a literal outside its range": t.Delta((JX, t.Fixed(8))),
    "three-way delta": t.Delta((IX, KX, t.Idx("l", Size("n", 3)))),
    "loss": t.Loss("v"),
    "functions": t.Add(tuple(t.Func(f, V) for f in ("relu", "step", "sigmoid", "tanh")), (IX,)),
    "power": t.Pow(t.Func("exp", V), t.Tensor("A", (IX, JX))),
    "broadcast sum": t.Add((t.Tensor("A", (IX, JX)), V), (IX, JX)),
    "sum of lower rank": t.Add((V, t.Tensor("A", (t.Fixed(1), JX))), (IX, JX)),
    "product": t.Product((t.Const(2.0), V, t.Tensor("A", (IX, JX))), (IX,)),
    "outer product": t.Product((V, t.Tensor("A", (KX, JX)))),
    "scalar product": t.Product((t.Const(2.0), t.SizeOf(Size("n", 3)))),
    "one factor": t.Product((t.Tensor("A", (IX, JX)),)),
    # spec 9.5; 1000 + A checks the shift by the largest entry
    "softmax": t.IndexedFunc("softmax", (JX,), t.Tensor("A", (IX, JX)), (JX,)),
    "softmax of large values": t.IndexedFunc(
        "softmax", (JX,), t.Add((t.Const(1000.0), t.Tensor("A", (IX, JX))), (IX, JX)), (JX,)
    ),
    "softmax over two": t.IndexedFunc("softmax", (IX, JX), t.Tensor("A", (IX, JX)), (IX, JX)),
    "softmax at a literal": t.IndexedFunc("softmax", (JX,), t.Tensor("A", (IX, JX)), (t.Fixed(2),)),
    "softmax diagonal": t.IndexedFunc("softmax", (KX,), t.Tensor("S", (IX, KX)), (IX,)),
    "logsumexp": t.IndexedFunc("logsumexp", (IX,), t.Tensor("A", (IX, JX))),
    "logsumexp of large values": t.IndexedFunc(
        "logsumexp", (IX,), t.Add((t.Const(-1000.0), t.Tensor("A", (IX, JX))), (IX, JX))
    ),
    "norm": t.IndexedFunc("norm", (IX, JX), t.Tensor("A", (IX, JX))),
}


@pytest.mark.parametrize("name", sorted(TERMS))
def test_code_computes_the_evaluators_value(name: str) -> None:
    term = TERMS[name]
    namespace = {"np": np, **{python_name(k): v for k, v in VALUES.items()}}
    printed = eval(numpy_code(term), namespace)
    np.testing.assert_allclose(printed, Evaluator(VALUES).value(term))


@pytest.mark.parametrize("name", ["tensor", "broadcast sum", "product", "outer product"])
def test_code_writes_any_target_order(name: str) -> None:
    term = TERMS[name]
    target = (*reversed(term.free), t.Idx("p", Size("q", 4)))
    namespace = {"np": np, **{python_name(k): v for k, v in VALUES.items()}}
    printed = eval(numpy_code(term, target), namespace)
    expected = align(Evaluator(VALUES).value(term), t.names(term.free), target)
    np.testing.assert_allclose(np.broadcast_to(printed, expected.shape), expected)


def test_products_with_more_indices_than_letters_are_refused() -> None:
    indices = [t.Idx(f"x{k}", Size(None, 1)) for k in range(len(string.ascii_letters) + 1)]
    product = t.Product(tuple(t.Tensor("v", (i,)) for i in indices))
    with pytest.raises(CodeError, match="53 indices"):
        numpy_code(product)


def test_python_names_replace_the_slash() -> None:
    assert python_name("dL/dY") == "dL_dY"


@pytest.mark.parametrize(
    "name", ["softmax", "softmax over two", "softmax at a literal", "softmax diagonal"]
)
def test_softmax_values_are_written_here_independently(name: str) -> None:
    # exp(x) / Σ exp(x) in plain numpy, for arguments small enough not to overflow.
    a, s = VALUES["A"], VALUES["S"]
    rows = np.exp(a) / np.exp(a).sum(axis=1, keepdims=True)
    expected = {
        "softmax": rows,
        "softmax over two": np.exp(a) / np.exp(a).sum(),
        "softmax at a literal": rows[:, 1],
        "softmax diagonal": np.diag(np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)),
    }[name]
    np.testing.assert_allclose(Evaluator(VALUES).value(TERMS[name]), expected)


def test_large_values_stay_finite_and_right() -> None:
    a = VALUES["A"]
    softmax = Evaluator(VALUES).value(TERMS["softmax of large values"])
    np.testing.assert_allclose(softmax, np.exp(a) / np.exp(a).sum(axis=1, keepdims=True))
    logsumexp = Evaluator(VALUES).value(TERMS["logsumexp of large values"])
    np.testing.assert_allclose(logsumexp, np.log(np.exp(a).sum(axis=0)) - 1000.0)
    norm = Evaluator(VALUES).value(t.IndexedFunc("norm", (IX,), t.Tensor("v", (IX,))))
    np.testing.assert_allclose(norm, np.sqrt(np.sum(VALUES["v"] ** 2)))


def test_a_scalar_sum_factor_keeps_its_parentheses(tmp_path: Path) -> None:
    """`np.power(3, -1.0) * (2.0 * v + -2.0 * R)`: without the parentheses the
    printed line computed 2 v / 3 - 2 R. Checked against the closed form 2 (v - R) / T."""
    text = "dim T = 3\nparam v, R, u[T]\nL = (v - R)^2 / T + u[t] (v - R)\nderive dL/dv, dL/du\n"
    report, values = saved(text, tmp_path)
    v, r = float(values["v"]), float(values["R"])
    expected = {"dL/dv": 2 * (v - r) / 3 + values["u"].sum(), "dL/du": np.full(3, v - r)}
    for result in report.derivatives:
        np.testing.assert_allclose(
            printed_value(result, values), expected[result.derivation.label], rtol=1e-12
        )
