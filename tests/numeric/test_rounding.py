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


# ---------------------------------------------------------------------------
# det and inv of a computed matrix pass on the rounding it carries in.

_N = Size("n", 2)
_I, _J = t.Idx("i", _N), t.Idx("j", _N)
# M[i, j] = (x[i, j] + c) - c: exactly x, computed off by up to half an ulp of c.
_CANCELLED = t.Add(
    (
        t.Add((t.Tensor("x", (_I, _J)), t.Tensor("c", (_I, _J))), (_I, _J)),
        t.Product((t.Const(-1.0), t.Tensor("c", (_I, _J)))),
    ),
    (_I, _J),
)


def _exact_det_and_inverse(x: np.ndarray) -> tuple[Fraction, list[list[Fraction]]] | None:
    """In rational arithmetic; None near singular, where the condition number
    alone is past any use."""
    (a, b), (c, d) = [[Fraction(float(v)) for v in row] for row in x]
    det = a * d - b * c
    if abs(det) < Fraction(1, 100):
        return None
    return det, [[d / det, -b / det], [-c / det, a / det]]


@given(
    st.lists(st.floats(-4.0, 4.0, allow_nan=False), min_size=4, max_size=4),
    st.sampled_from([1.0, 1e4, 1e8, 1e12, 1e14, 1e15]),
)
def test_det_and_inv_of_a_computed_matrix_stay_within_their_bounds(
    entries: list[float], offset: float
) -> None:
    x = np.array(entries).reshape(2, 2)
    exact = _exact_det_and_inverse(x)
    if exact is None:
        return
    det, inverse = exact
    values = {"x": x, "c": np.full((2, 2), offset)}
    scales = forward_scales(values, [("M", (_I, _J), _CANCELLED)])
    values["M"] = (x + offset) - offset
    magnitudes = Magnitudes(values, scales)
    value, size = magnitudes.both(t.Matrix("det", "M"))
    assert abs(Fraction(float(value)) - det) <= Fraction(float(rounding_error(size)))
    value, size = magnitudes.both(t.Matrix("inv", "M", (_I, _J)))
    bound = rounding_error(size)
    for row in range(2):
        for col in range(2):
            error = abs(Fraction(float(value[row, col])) - inverse[row][col])
            assert error <= Fraction(float(bound[row, col]))
