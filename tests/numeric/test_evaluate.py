"""Evaluation of each term kind, against numpy written out by hand."""

from __future__ import annotations

import numpy as np
import pytest
from support import run

from shapecheck.check.program import Size
from shapecheck.numeric.evaluate import EvaluationError, Evaluator, align
from shapecheck.numeric.verdicts import Verdict
from shapecheck.symbolic import terms as t

IX = t.Idx("i", Size("n", 3))
JX = t.Idx("j", Size("m", 2))
RNG = np.random.default_rng(0)
A = RNG.standard_normal((3, 2))
S = RNG.standard_normal((3, 3))
V = RNG.standard_normal(3)
VALUES = {"A": A, "S": S, "v": V, "dloss/dv": np.arange(3.0)}


def _value(term: t.Term) -> np.ndarray:
    return Evaluator(VALUES).value(term)


def test_leaves() -> None:
    assert _value(t.Const(2.5)) == 2.5
    assert _value(t.SizeOf(Size("n", 3))) == 3.0
    np.testing.assert_array_equal(_value(t.Zero((IX, JX))), np.zeros((3, 2)))
    np.testing.assert_array_equal(_value(t.Tensor("A", (JX, IX))), A)  # free order: as written


def test_literal_and_repeated_indices() -> None:
    np.testing.assert_array_equal(_value(t.Tensor("A", (IX, t.Fixed(2)))), A[:, 1])
    np.testing.assert_array_equal(_value(t.Tensor("S", (IX, IX))), np.diag(S))


def test_deltas() -> None:
    k = t.Idx("k", Size("n", 3))
    np.testing.assert_array_equal(_value(t.Delta((IX, k))), np.eye(3))
    np.testing.assert_array_equal(_value(t.Delta((IX, t.Fixed(2)))), np.eye(3)[1])
    np.testing.assert_array_equal(_value(t.Delta((t.Fixed(1), t.Fixed(2), IX))), np.zeros(3))


def test_functions_powers_and_loss() -> None:
    np.testing.assert_allclose(
        _value(t.Func("sigmoid", t.Tensor("v", (IX,)))), 1 / (1 + np.exp(-V))
    )
    np.testing.assert_array_equal(_value(t.Func("step", t.Tensor("v", (IX,)))), (V > 0) * 1.0)
    squared = t.Pow(t.Tensor("v", (IX,)), t.Const(2.0))
    np.testing.assert_allclose(_value(squared), V**2)
    assert _value(t.Loss("v")) == pytest.approx(float(np.arange(3.0) @ V))


def test_sums_broadcast_and_products_contract() -> None:
    total = t.Add((t.Tensor("A", (IX, JX)), t.Tensor("v", (IX,))), (IX, JX))
    np.testing.assert_allclose(_value(total), A + V[:, None])
    product = t.Product((t.Tensor("v", (IX,)), t.Tensor("A", (IX, JX))), (IX,))
    np.testing.assert_allclose(_value(product), V @ A)


def test_a_missing_value_is_an_evaluation_error() -> None:
    with pytest.raises(EvaluationError, match="no value for `B`"):
        _value(t.Tensor("B", (IX,)))


def test_align_transposes_and_broadcasts() -> None:
    aligned = align(A, ("i", "j"), (JX, t.Idx("k", Size("p", 4)), IX))
    assert aligned.shape == (2, 4, 3)
    np.testing.assert_array_equal(aligned[:, 2, :], A.T)


def test_a_product_over_more_indices_than_einsum_has_letters_is_contracted_stepwise() -> None:
    # 100 factors, 100 distinct indices: one einsum cannot name them (52 letters);
    # factor by factor, each index is summed as soon as it is done with.
    factors = " ".join(f"a[i{k}]" for k in range(100))
    report = run(f"dim k = 2\nparam a[k]\nL = {factors}\nderive dL/da\n")
    assert [d.code for d in report.diagnostics] == []
    (result,) = report.derivatives
    assert result.check is not None and result.check.verdict is Verdict.OK


def test_stepwise_agrees_with_one_einsum() -> None:
    from shapecheck.numeric.evaluate import contract_product, planned, stepwise

    rng = np.random.default_rng(3)
    n = Size("n", 3)
    i, j, k, m = (t.Idx(name, n) for name in "ijkm")
    product = t.Product(
        (t.Tensor("A", (i, j)), t.Tensor("B", (j, k)), t.Tensor("C", (k, m)), t.Tensor("D", (i,))),
        (j, k),
    )
    arrays = [rng.standard_normal(s) for s in ((3, 3), (3, 3), (3, 3), (3,))]
    expected = contract_product(product, arrays)
    assert np.allclose(stepwise(product, arrays), expected)
    # With a batch axis on the second factor.
    batched = [arrays[0], np.stack([arrays[1], 2 * arrays[1]]), arrays[2], arrays[3]]
    flags = (False, True, False, False)
    both = stepwise(product, batched, flags)
    assert np.allclose(both[0], expected) and np.allclose(both[1], 2 * expected)
    assert planned(product, [(3, 3), (3, 3), (3, 3), (3,)]) >= 9


def test_sigmoid_keeps_its_relative_precision_far_out() -> None:
    from shapecheck.numeric.evaluate import _FUNCTIONS

    x = np.array([-700.0, -104.0, -40.0, 0.0, 40.0, 700.0])
    exact = np.array([np.exp(-700.0), np.exp(-104.0) / (1 + np.exp(-104.0)), 0, 0.5, 0, 1.0])
    exact[2] = np.exp(-40.0) / (1 + np.exp(-40.0))
    exact[4] = 1 / (1 + np.exp(-40.0))
    got = _FUNCTIONS["sigmoid"](x)
    assert np.all(np.isfinite(got))
    assert np.allclose(got, exact, rtol=1e-14, atol=0)


def test_a_product_of_many_factors_is_contracted_factor_by_factor() -> None:
    """Regression (fuzzing): numpy's path planning for 500 factors of one
    summed index took 50 s; past 32 factors the product goes factor by factor,
    with the same value."""
    from shapecheck.numeric.evaluate import contract_product

    n = Size("n", 3)
    i = t.Idx("i", n)
    a = np.array([0.9, -1.1, 1.05])
    product = t.Product(tuple(t.Tensor("a", (i,)) for _ in range(200)), (i,))
    np.testing.assert_allclose(contract_product(product, [a] * 200), np.sum(a**200))
