"""Running error bounds (`numeric/rounding.py`): counting every operation, as
ties are looked at, the bound holds for sums added in order however many
terms, contractions however long, and running sums however deep
(properties, against exact rational sums)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from shapecheck.check.program import Size
from shapecheck.numeric.rounding import Magnitudes, forward_scales, rounding_error
from shapecheck.symbolic import terms as t

# Terms of every size, and the adversarial case: one large term and many
# below half its ulp, each lost on its own in an in-order sum.
_TERMS = st.one_of(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=400),
    st.integers(17, 400).map(lambda n: [1.0] + [1.1102230246251565e-16] * (n - 1)),
)


@given(_TERMS)
def test_a_sum_in_order_stays_within_its_bound(values: list[float]) -> None:
    term = t.Add(tuple(t.Const(v) for v in values), ())
    value, size = Magnitudes({}, {}, per_operation=True).both(term)
    exact = sum((Fraction(v) for v in values), Fraction(0))
    error = abs(Fraction(float(value)) - exact)
    assert error <= Fraction(float(rounding_error(size)))


@given(_TERMS)
def test_a_contraction_stays_within_its_bound(values: list[float]) -> None:
    # Σ_k a[k] one[k], as einsum contracts it.
    k = t.Idx("k", Size("n", len(values)))
    term = t.Product((t.Tensor("a", (k,)), t.Tensor("one", (k,))), (k,))
    arrays = {"a": np.array(values), "one": np.ones(len(values))}
    value, size = Magnitudes(arrays, {}, per_operation=True).both(term)
    exact = sum((Fraction(v) for v in values), Fraction(0))
    error = abs(Fraction(float(value)) - exact)
    assert error <= Fraction(float(rounding_error(size)))


def test_each_addition_counts_once() -> None:
    # 200 terms: 199 additions of up to ε Σ|terms| each, besides the terms' own.
    term = t.Add(tuple(t.Const(1.0) for _ in range(200)), ())
    _, size = Magnitudes({}, {}, per_operation=True).both(term)
    assert float(size) == 200.0 + 199 / 16 * 200.0
    # Finite differences' round-off estimates keep ROUNDING ulps for a whole
    # evaluation.
    assert float(Magnitudes({}, {}).both(term)[1]) == 200.0


@given(_TERMS)
def test_a_running_sum_stays_within_its_bound(values: list[float]) -> None:
    # s1 = a1, s{t} = s{t-1} + a{t}: one addition per definition, the bound
    # carried from one to the next (`known`), as a loop unrolls a recurrence.
    leaves = {f"a{k}": np.float64(v) for k, v in enumerate(values)}
    steps = [("s0", (), t.Tensor("a0", ()))]
    for k in range(1, len(values)):
        steps.append((f"s{k}", (), t.Add((t.Tensor(f"s{k - 1}", ()), t.Tensor(f"a{k}", ())), ())))
    scales = forward_scales(leaves, steps, per_operation=True)
    value = np.float64(values[0])
    for v in values[1:]:
        value = value + np.float64(v)
    exact = sum((Fraction(v) for v in values), Fraction(0))
    error = abs(Fraction(float(value)) - exact)
    assert error <= Fraction(float(rounding_error(scales[f"s{len(values) - 1}"])))


def test_every_kind_of_node_counts_per_operation_on_its_own_indices() -> None:
    # Softmax keeps its index, a norm drops it: each bound stays on its node's indices.
    from support import run

    from shapecheck.numeric.values import draw_values
    from shapecheck.symbolic.derive import Deriver

    report = run(
        "dim n = 3, m = 2\nparam x[m], W[n, m]\n"
        "Y[i, j] = softmax[j](W[i, j] x[j]) + norm[k](W[i, k]) + exp(x[j])^2\n",
        verify=False,
    )
    assert report.checked is not None
    _, rhs = Deriver(report.checked).lowered["Y"]
    values = draw_values(report.checked, 0)
    plain, plain_size = Magnitudes(values, {}).both(rhs)
    value, size = Magnitudes(values, {}, per_operation=True).both(rhs)
    assert np.shape(size) == np.shape(plain_size) == (3, 2)
    assert np.array_equal(value, plain)
    assert np.all(size >= plain_size)
