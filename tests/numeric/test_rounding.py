"""Running error bounds (`numeric/rounding.py`): with `worst_sums`, as ties
are looked at, the bound holds for sums added in order, however many terms
(property), against exact rational sums."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from shapecheck.check.program import Size
from shapecheck.numeric.rounding import Magnitudes, rounding_error
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
    value, size = Magnitudes({}, {}, worst_sums=True).both(term)
    exact = sum((Fraction(v) for v in values), Fraction(0))
    error = abs(Fraction(float(value)) - exact)
    assert error <= Fraction(float(rounding_error(size)))


@given(_TERMS)
def test_a_contraction_stays_within_its_bound(values: list[float]) -> None:
    # Σ_k a[k] one[k], as einsum contracts it.
    k = t.Idx("k", Size("n", len(values)))
    term = t.Product((t.Tensor("a", (k,)), t.Tensor("one", (k,))), (k,))
    arrays = {"a": np.array(values), "one": np.ones(len(values))}
    value, size = Magnitudes(arrays, {}, worst_sums=True).both(term)
    exact = sum((Fraction(v) for v in values), Fraction(0))
    error = abs(Fraction(float(value)) - exact)
    assert error <= Fraction(float(rounding_error(size)))


def test_a_long_sum_counts_its_additions() -> None:
    # 200 terms: 199 additions of up to ε Σ|terms| each, not ROUNDING ε.
    term = t.Add(tuple(t.Const(1.0) for _ in range(200)), ())
    _, size = Magnitudes({}, {}, worst_sums=True).both(term)
    assert float(size) == 200.0 * 2 * 199 / 16
    short = t.Add(tuple(t.Const(1.0) for _ in range(16)), ())
    assert float(Magnitudes({}, {}, worst_sums=True).both(short)[1]) == 16.0
    assert np.isfinite(size)
    # Finite differences' round-off estimates keep ROUNDING ulps for every sum.
    assert float(Magnitudes({}, {}).both(term)[1]) == 200.0
