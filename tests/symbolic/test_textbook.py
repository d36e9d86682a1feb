"""Textbook forms (spec 10, docs/language.md 13.3): the printed formulas of the
softmax family, and each rewrite rule that makes them, against numbers.

The rules' values are compared with the reference evaluator of
test_rewrite_properties (plain loops over index values); the printed
derivatives with central differences written here in numpy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from support import central, printed_value, run
from symbolic.test_rewrite_properties import IDX, VALUES, table

from shapecheck.pipeline import Options, analyze_path
from shapecheck.symbolic import rules
from shapecheck.symbolic import terms as t
from shapecheck.symbolic.formula import formula
from shapecheck.symbolic.simplify import simplify

ROOT = Path(__file__).resolve().parents[2]
COURSE = ROOT / "samples" / "course"
AI, AJ, AK = IDX["i"], IDX["j"], IDX["k"]
RNG = np.random.default_rng(1311)
# P and G over i×j, u over i, for the softmax-shaped terms.
NUMBERS = {
    **VALUES,
    "P": RNG.uniform(0.5, 1.5, (2, 3)),
    "G": RNG.normal(size=(2, 3)),
    "u": RNG.uniform(0.5, 1.5, (2,)),
}


def _same_value(before: t.Term, after: t.Term) -> None:
    free = before.free
    assert {i.name for i in after.free} <= {i.name for i in free}
    np.testing.assert_allclose(
        table(after, free, NUMBERS), table(before, free, NUMBERS), rtol=1e-12, atol=1e-12
    )


def _shown(report: object, label: str) -> str:
    for result in report.derivatives:  # type: ignore[attr-defined]
        if result.derivation.label == label:
            shown = result.expanded if result.expanded is not None else result.derivation.formula
            return formula(shown)
        for adjoint in result.derivation.adjoints:
            if adjoint.label == label:
                return formula(adjoint.formula)
    raise KeyError(label)


# ---------------------------------------------------------------------------
# Each rule on its own, against the reference evaluator


def test_a_delta_meets_its_sum_and_the_softmax_backward_factors() -> None:
    s = t.Idx("s", AJ.size)
    p_s, g_s, p_j = t.Tensor("P", (AI, s)), t.Tensor("G", (AI, s)), t.Tensor("P", (AI, AJ))
    jacobian = t.add([t.Delta((s, AJ)), t.Product((t.Const(-1.0), p_j))])
    term = t.Product((p_s, g_s, jacobian), (s,))
    split = rules.distribute_over_delta(term)
    assert split is not None
    _same_value(term, split)
    simplified = simplify(term)
    _same_value(term, simplified)
    assert formula(simplified) == "P[i,j] (G[i,j] - Σ_s G[i,s] P[i,s])"


def test_a_shifted_delta_is_not_taken_out_of_its_sum() -> None:
    shifted = t.shift([(AJ, t.SizeSum.number(1))], t.SizeSum.number(-1))
    term = t.Product(
        (t.Tensor("w", (AJ,)), t.add([t.Delta((AK, shifted)), t.Tensor("v", (AK,))])), (AJ,)
    )
    assert rules.distribute_over_delta(term) is None


def test_a_common_factor_and_a_common_sum_come_out() -> None:
    a = t.Product((t.Tensor("A", (AI, AJ)), t.Tensor("B", (AJ, AK)), t.Tensor("s", ())), (AJ,))
    b = t.Product((t.Tensor("A", (AI, AJ)), t.Tensor("w", (AJ,)), t.Tensor("s", ())), (AJ,))
    term = t.add([a, b])
    pulled = rules.factor_common(term)
    assert pulled is not None
    _same_value(term, pulled)
    assert formula(simplify(term)) == "Σ_j A[i,j] s (B[j,k] + w[j])"


def test_a_factor_some_terms_sum_stays() -> None:
    # A[i,j] is summed over j in one term and free in the other: not common.
    a = t.Product((t.Tensor("A", (AI, AJ)), t.Tensor("w", (AJ,))), (AJ,))
    b = t.Product((t.Tensor("A", (AI, AJ)), t.Tensor("v", (AI,))))
    assert rules.factor_common(t.add([a, b], (AI, AJ))) is None


def test_a_negated_difference_turns_round_and_sums_start_positive() -> None:
    v, w = t.Tensor("v", (AI,)), t.Tensor("u", (AI,))
    term = t.Product((t.Const(-2.0), t.add([v, t.Product((t.Const(-1.0), w))])))
    turned = rules.negate_difference(term)
    assert turned is not None
    _same_value(term, turned)
    assert formula(simplify(term)) == "2 u[i] - 2 v[i]"
    started = t.add([t.Product((t.Const(-1.0), v)), w])
    first = rules.positive_first(started)
    assert first is not None
    _same_value(started, first)
    assert formula(first) == "u[i] - v[i]"


def test_a_factor_cancels_through_a_delta() -> None:
    # u[i] (δ[i,k] / u[k] - v[i]): the u[i] goes in and cancels where i = k.
    u_i, u_k = t.Tensor("u", (AI,)), t.Tensor("u", (AK,))
    quotient = t.Product((t.Delta((AI, AK)), t.Pow(u_k, t.Const(-1.0))))
    term = t.Product((u_i, t.add([quotient, t.Product((t.Const(-1.0), t.Tensor("v", (AI,))))])))
    spread = rules.distribute_to_cancel(term)
    assert spread is not None
    _same_value(term, spread)
    simplified = simplify(term)
    _same_value(term, simplified)
    assert formula(simplified) == "δ[i,k] - u[i] v[i]"
    alone = t.Product((u_i, t.Delta((AI, AK)), t.Pow(u_k, t.Const(-1.0))))
    read = rules.cancel_through_delta(alone)
    assert read is not None
    _same_value(alone, read)
    assert formula(simplify(alone)) == "δ[i,k]"


def test_a_common_coefficient_comes_out_beside_another_factor() -> None:
    v, w = t.Tensor("v", (AI,)), t.Tensor("u", (AI,))
    difference = t.add([t.Product((t.Const(2.0), v)), t.Product((t.Const(-2.0), w))])
    term = t.Product((t.Pow(t.SizeOf(AJ.size), t.Const(-1.0)), difference))
    pulled = rules.pull_common_scale(term)
    assert pulled is not None
    _same_value(term, pulled)
    assert formula(simplify(term)) == "2 (v[i] - u[i]) / j"


def test_like_terms_collect() -> None:
    x = t.Tensor("v", (AI,))
    term = t.add([x, x])
    assert formula(simplify(term)) == "2 v[i]"
    scaled = t.add([t.Product((t.Tensor("s", ()), x)), t.Product((t.Tensor("u", (AI,)), x))])
    _same_value(scaled, simplify(scaled))
    assert formula(simplify(scaled)) == "v[i] (s + u[i])"


# ---------------------------------------------------------------------------
# The softmax family as printed (golden), and its values


@pytest.fixture(scope="module")
def course() -> dict[str, object]:
    names = ("attention", "two_layer_net", "softmax_loss")
    return {name: analyze_path(COURSE / f"{name}.idx", Options()) for name in names}


@pytest.fixture(scope="module")
def expanded() -> dict[str, object]:
    names = ("attention", "two_layer_net", "softmax_loss")
    return {name: analyze_path(COURSE / f"{name}.idx", Options(expand=True)) for name in names}


def test_the_softmax_backward_is_printed_as_in_the_notes(course: dict) -> None:
    assert _shown(course["attention"], "dL/dS") == "A[i,j] (dL/dA[i,j] - Σ_p A[i,p] dL/dA[i,p])"
    assert _shown(course["two_layer_net"], "dL/dS") == "(P[i,m] - δ[m,y[i]]) / n"
    assert _shown(course["softmax_loss"], "dL/dx") == "(P[i,k] - δ[k,y[i]]) / n"
    # The one-hot upstream is written out, and its line no longer listed.
    labels = [a.label for r in course["softmax_loss"].derivatives for a in r.derivation.adjoints]
    assert labels == []


def test_expand_reaches_the_same_forms(expanded: dict) -> None:
    assert _shown(expanded["softmax_loss"], "dL/dx") == "(P[i,k] - δ[k,y[i]]) / n"
    assert _shown(expanded["two_layer_net"], "dL/db2") == "Σ_i (P[i,m] - δ[m,y[i]]) / n"
    assert "δ" not in _shown(expanded["attention"], "dL/dQ")


def test_the_textbook_cross_entropy_gradient_has_the_right_values(course: dict) -> None:
    report = run((COURSE / "softmax_loss.idx").read_text())
    (result,) = report.derivatives
    x = np.random.default_rng(5).normal(size=(5, 4))
    y = np.array([1, 4, 2, 2, 3])

    def softmax(z: np.ndarray) -> np.ndarray:
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def loss(z: np.ndarray) -> np.ndarray:
        return -np.mean(np.log(softmax(z)[np.arange(5), y - 1]))

    shown = printed_value(result, {"x": x, "y": y, "P": softmax(x)})
    np.testing.assert_allclose(shown, central(loss, x), rtol=1e-6, atol=1e-8)


def test_the_softmax_backward_has_the_right_values() -> None:
    text = (
        "dim n = 3, c = 4\ninput S[n, c]\nP[i, k] = softmax[k](S[i, k])\n"
        "L = loss(P)\nderive dL/dS\n"
    )
    report = run(text)
    (result,) = report.derivatives
    s = np.random.default_rng(6).normal(size=(3, 4))
    g = np.random.default_rng(7).normal(size=(3, 4))

    def softmax(z: np.ndarray) -> np.ndarray:
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    shown = printed_value(result, {"S": s, "P": softmax(s), "dloss/dP": g})
    np.testing.assert_allclose(
        shown, central(lambda z: np.sum(g * softmax(z)), s), rtol=1e-6, atol=1e-8
    )
    assert formula(result.derivation.formula).startswith("P[i,k] (dL/dP[i,k] - Σ_")


def test_a_power_whose_exponent_cancelled_is_one(tmp_path: Path) -> None:
    # `0.9^(t - t)` leaves an exponent that is the zero array: the discounted
    # return's dL/dr3 printed `dL/dR3 0.9^0`, which its claim did not match.
    term = t.Product((t.Pow(t.Const(0.9), t.Zero(())), t.Tensor("v", (IDX["i"],))))
    assert formula(simplify(term, rules.RULES)) == "v[i]"
    text = (
        "dim T = 3\nparam r[T]\nfor t in 1..T:\n    R{t} = sum[s in t..T](0.9^(s - t) r[s])\n"
        "L = R1 + R2 + R3\nderive dL/dr\n"
    )
    (result,) = run(text).derivatives
    assert "^" not in formula(result.derivation.formula)
