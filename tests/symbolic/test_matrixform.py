"""Matrix notation (spec 10) of index-notation terms: each mapping printed as a
textbook writes it and evaluated with numpy against values written here (or,
for generated terms, against the tool's index-notation evaluator)."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from matrix_values import as_result, evaluate

from shapecheck.check.program import Size
from shapecheck.numeric.evaluate import Evaluator
from shapecheck.render import matrixform as shown
from shapecheck.symbolic import matrixform as m
from shapecheck.symbolic import terms as t

N, D, H = Size("n", 4), Size("d", 3), Size("h", 2)
II, I2 = t.Idx("i", N), t.Idx("p", N)
J, J2 = t.Idx("j", D), t.Idx("q", D)
K, K2 = t.Idx("k", H), t.Idx("r", H)
AXES = {"n": II, "d": J, "h": K}
RNG = np.random.default_rng(11)
ARRAYS = {"X": (N, D), "W": (D, H), "Y": (N, H), "G": (N, H), "b": (H,), "x": (D,), "y": (N,)}
VALUES: dict[str, Any] = {
    name: RNG.uniform(0.5, 1.5, tuple(s.value or 0 for s in shape))
    for name, shape in ARRAYS.items()
}
VALUES["c"] = np.asarray(0.7)
VALUES["dL/dY"] = RNG.normal(size=(4, 2))


def T(name: str, *indices: t.Index, kind: str = t.ARRAY) -> t.Tensor:
    return t.Tensor(name, indices, kind)


UPSTREAM = T("dL/dY", II, K, kind=t.ADJOINT)


def _show(term: t.Term, order: tuple[t.Idx, ...]) -> str:
    form = m.matrix_form(term, order)
    assert form is not None
    return shown.text(form)


def _value(term: t.Term, order: tuple[t.Idx, ...]) -> Any:
    form = m.matrix_form(term, order)
    assert form is not None
    shape = tuple(i.size.value or 0 for i in order)
    return as_result(evaluate(form, VALUES), shape)


def test_a_contraction_transposes_the_factor_whose_index_it_is() -> None:
    # dL/dW[j,k] = Σ_i X[i,j] dL/dY[i,k] = Xᵀ G
    term = t.Product((T("X", II, J), UPSTREAM), (II,))
    assert _show(term, (J, K)) == "Xᵀ (dL/dY)"
    np.testing.assert_allclose(_value(term, (J, K)), VALUES["X"].T @ VALUES["dL/dY"])
    # the other layout: rows k, columns j
    assert _show(term, (K, J)) == "(dL/dY)ᵀ X"
    np.testing.assert_allclose(_value(term, (K, J)), VALUES["dL/dY"].T @ VALUES["X"])
    # dL/dX[i,j] = Σ_k dL/dY[i,k] W[j,k] = G Wᵀ
    back = t.Product((UPSTREAM, T("W", J, K)), (K,))
    assert _show(back, (II, J)) == "(dL/dY) Wᵀ"
    np.testing.assert_allclose(_value(back, (II, J)), VALUES["dL/dY"] @ VALUES["W"].T)


def test_a_sum_over_rows_is_ones_transposed() -> None:
    term = t.Product((UPSTREAM,), (II,))
    assert _show(term, (K,)) == "1ᵀ (dL/dY)"
    np.testing.assert_allclose(_value(term, (K,)), VALUES["dL/dY"].sum(axis=0))
    both = t.Product((T("Y", II, K),), (II, K))
    assert _show(both, ()) == "1ᵀ Y 1"
    np.testing.assert_allclose(_value(both, ()), VALUES["Y"].sum())


def test_an_elementwise_product_and_function() -> None:
    # (1 - H²) with H = tanh(Y): `⊙`, a scalar broadcast, a power written H ⊙ H
    square = t.Pow(T("Y", II, K), t.Const(2.0))
    term = t.Product((UPSTREAM, t.add([t.Const(1.0), t.Product((t.Const(-1.0), square))])))
    assert _show(term, (II, K)) == "(dL/dY) ⊙ (1 - Y ⊙ Y)"
    truth = VALUES["dL/dY"] * (1 - VALUES["Y"] ** 2)
    np.testing.assert_allclose(_value(term, (II, K)), truth)
    relu = t.Product((UPSTREAM, t.Compare("<", t.Const(0.0), T("Y", II, K))))
    assert _show(relu, (II, K)) == "(dL/dY) ⊙ (0 < Y)"
    np.testing.assert_allclose(_value(relu, (II, K)), VALUES["dL/dY"] * (VALUES["Y"] > 0))
    tanh = t.Func("tanh", t.add([t.Product((T("X", II, J), T("W", J, K)), (J,)), T("b", K)]))
    assert _show(tanh, (II, K)) == "tanh(X W + 1 bᵀ)"
    np.testing.assert_allclose(
        _value(tanh, (II, K)), np.tanh(VALUES["X"] @ VALUES["W"] + VALUES["b"])
    )


def test_an_outer_product_and_an_inner_product() -> None:
    outer = t.Product((T("y", II), T("b", K)))
    assert _show(outer, (II, K)) == "y bᵀ"
    assert _show(outer, (K, II)) == "b yᵀ"
    np.testing.assert_allclose(_value(outer, (II, K)), np.outer(VALUES["y"], VALUES["b"]))
    inner = t.Product((T("x", J), T("x", J)), (J,))
    assert _show(inner, ()) == "xᵀ x"
    np.testing.assert_allclose(_value(inner, ()), VALUES["x"] @ VALUES["x"])


def test_scalar_factors_and_a_vector_scaling_rows() -> None:
    scaled = t.Product(
        (t.Const(2.0), T("c"), T("Y", II, K), t.Pow(t.SizeOf(N), t.Const(-1.0)), T("b", K))
    )
    assert _show(scaled, (II, K)) == "2 c Y diag(b) / n"
    np.testing.assert_allclose(_value(scaled, (II, K)), 2 * 0.7 * VALUES["Y"] * VALUES["b"] / 4)
    negative = t.Product((t.Const(-0.5), T("Y", II, K)))
    assert _show(negative, (II, K)) == "-0.5 Y"


def test_a_sum_of_terms_each_laid_out_alike() -> None:
    # Σ_i X[i,j] dL/dY[i,k] + c W[j,k] - b[k] (b broadcast over j)
    term = t.add(
        [
            t.Product((T("X", II, J), UPSTREAM), (II,)),
            t.Product((T("c"), T("W", J, K))),
            t.Product((t.Const(-1.0), T("b", K))),
        ]
    )
    assert _show(term, (J, K)) == "Xᵀ (dL/dY) + c W - 1 bᵀ"
    truth = VALUES["X"].T @ VALUES["dL/dY"] + 0.7 * VALUES["W"] - VALUES["b"]
    np.testing.assert_allclose(_value(term, (J, K)), truth)


def test_identities_diagonals_and_a_trace() -> None:
    assert _show(t.Delta((II, I2)), (II, I2)) == "I"
    diagonal = t.Product((t.Const(2.0), T("y", II), t.Delta((II, I2))))
    assert _show(diagonal, (II, I2)) == "2 diag(y)"
    np.testing.assert_allclose(_value(diagonal, (II, I2)), 2 * np.diag(VALUES["y"]))
    # Σ_i Σ_j Σ_k X[i,j] W[j,k] Y[i,k]... closes through Yᵀ: tr(X W Yᵀ)
    cycle = t.Product((T("X", II, J), T("W", J, K), T("Y", II, K)), (II, J, K))
    assert _show(cycle, ()) == "tr(X W Yᵀ)"
    np.testing.assert_allclose(
        _value(cycle, ()), np.trace(VALUES["X"] @ VALUES["W"] @ VALUES["Y"].T)
    )


def test_no_form_where_there_is_none() -> None:
    assert m.matrix_form(T("A", II, J, K), (II, J, K)) is None  # rank 3
    label = t.Gather("y", (II,))
    assert m.matrix_form(T("Y", II, label), (II,)) is None  # gather at a label
    assert m.matrix_form(T("Y", II, t.Fixed(1)), (II,)) is None  # a literal index
    shifted = t.shift([(II, t.SizeSum.number(1))], t.SizeSum.number(1))
    assert m.matrix_form(T("y", shifted), (II,)) is None  # a shifted index
    # a delta that is not an identity, and a rank-3 intermediate under a sum
    assert m.matrix_form(t.Delta((II, t.Fixed(2))), (II,)) is None
    three = t.Product((T("X", II, J), T("W", J, K), T("Y", II, K)), (J,))
    assert m.matrix_form(three, (II, K)) is None  # i and k each in two factors
    softmax = t.IndexedFunc("softmax", (K,), T("Y", II, K), (K,))
    assert m.matrix_form(softmax, (II, K)) is None


def test_latex_and_names() -> None:
    term = t.Product((T("X", II, J), UPSTREAM), (II,))
    form = m.matrix_form(term, (J, K))
    assert form is not None
    assert shown.latex(form) == r"X^\top \frac{\partial L}{\partial Y}"
    # an array named I: the identity is spelled Id
    named = t.add([T("I", II, I2), t.Delta((II, I2))])
    named_form = m.matrix_form(named, (II, I2))
    assert named_form is not None and shown.text(named_form) == "I + Id"


# ---------------------------------------------------------------------------
# Generated terms: products and sums of rank ≤ 2 factors

INDEX_POOL = {"n": (II, I2), "d": (J, J2), "h": (K, K2)}
TENSORS = [("X", ("n", "d")), ("W", ("d", "h")), ("Y", ("n", "h")), ("G", ("n", "h"))]
TENSORS += [("b", ("h",)), ("x", ("d",)), ("y", ("n",)), ("c", ())]


@st.composite
def factors(draw: st.DrawFn) -> t.Term:
    name, sizes = draw(st.sampled_from(TENSORS))
    indices = tuple(draw(st.sampled_from(INDEX_POOL[s])) for s in sizes)
    tensor = T(name, *indices)
    wrap = draw(st.sampled_from(["none", "tanh", "square", "inverse", "scale", "delta"]))
    if wrap == "tanh":
        return t.Func("tanh", tensor)
    if wrap == "square":
        return t.Pow(tensor, t.Const(2.0))
    if wrap == "inverse":
        return t.Pow(tensor, t.Const(-1.0))
    if wrap == "scale":
        return t.Product((t.Const(draw(st.sampled_from([2.0, -1.0, 0.5]))), tensor))
    if wrap == "delta":
        size = draw(st.sampled_from(["n", "d", "h"]))
        return t.Delta(INDEX_POOL[size])
    return tensor


@st.composite
def products(draw: st.DrawFn) -> t.Term:
    chosen = draw(st.lists(factors(), min_size=1, max_size=4))
    names = sorted({i.name: i for f in chosen for i in f.free}.items())
    summed = tuple(i for _, i in names if draw(st.booleans()))
    return t.Product(tuple(chosen), summed)


@st.composite
def results(draw: st.DrawFn) -> t.Term:
    first = draw(products())
    if draw(st.booleans()):
        return first
    others = [p for p in draw(st.lists(products(), max_size=2)) if p.free == first.free]
    return t.add([first, *others])


def _index_value(term: t.Term) -> Any:
    """The term's value by the tool's index-notation evaluator, axes in `term.free` order."""
    return np.asarray(Evaluator(dict(VALUES)).value(term), dtype=float)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(results())
def test_every_matrix_form_has_the_value_of_its_index_form(term: t.Term) -> None:
    order = term.free
    assume(len(order) <= 2)
    form = m.matrix_form(term, order)
    assume(form is not None)
    assert form is not None
    shape = tuple(i.size.value or 0 for i in order)
    got = as_result(evaluate(form, VALUES), shape)
    np.testing.assert_allclose(got, _index_value(term), rtol=1e-9, atol=1e-12)
    # Transposed layouts mean the transpose; the printers never fail.
    if len(order) == 2:
        flipped = m.matrix_form(term, (order[1], order[0]))
        assert flipped is not None
        np.testing.assert_allclose(evaluate(flipped, VALUES), got.T, rtol=1e-9, atol=1e-12)
    assert shown.text(form) and shown.latex(form)


@settings(max_examples=200, deadline=None)
@given(results())
def test_transpose_keeps_the_value(term: t.Term) -> None:
    form = m.matrix_form(term, term.free)
    assume(form is not None and len(term.free) == 2)
    assert form is not None
    value = evaluate(form, VALUES)
    np.testing.assert_allclose(evaluate(m.transpose(form), VALUES), value.T, rtol=1e-9)
