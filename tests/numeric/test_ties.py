"""Kinked nodes within rounding of their tie (`numeric/ties.py`): found where a
computed side meets its tie, never for bare values or a clear margin; a
derived derivative or a claim that disagrees there is inconclusive, not wrong,
unless a claim disagrees at an entry no tie reaches."""

from __future__ import annotations

import numpy as np
from support import run

from shapecheck.numeric.rounding import Magnitudes
from shapecheck.numeric.ties import tied_entries, tied_node
from shapecheck.numeric.values import draw_values
from shapecheck.numeric.verdicts import NEAR_TIE, ClaimVerdict, Settings, Verdict
from shapecheck.numeric.verify import Verifier
from shapecheck.symbolic.derive import Deriver

VALUES = "dim n = 2\nparam x[n] = [0.1, 0.7]\ninput y[n] = [3, 5]\n"


def _tied(definition: str) -> str | None:
    report = run(VALUES + definition, verify=False)
    assert report.checked is not None
    deriver = Deriver(report.checked)
    _, rhs = deriver.lowered["L"]
    node = tied_node([rhs], draw_values(report.checked, 0), {})
    return None if node is None else type(node).__name__


def test_a_computed_side_at_its_tie_is_found() -> None:
    # At j = k, x y[j] / y[k] is x up to rounding: 0.1 · 3 / 3 is 0.1 + 1 ulp.
    assert _tied("L = x[i] (x[i] y[j] / y[k] <= x[i])\n") == "Compare"
    assert _tied("L = relu(x[i] y[j] / y[k] - x[i])\n") == "Func"
    assert _tied("L = max(x[i] y[j] / y[k], x[i])\n") == "Extremum"


def test_bare_values_and_clear_margins_are_not_ties() -> None:
    # Equal entries of an array tie exactly, and every evaluation says so alike.
    assert _tied("L = x[i] (x[i] <= x[j])\n") is None
    assert _tied("L = x[i] (x[i] y[j] / y[k] <= x[i] + 1)\n") is None
    assert _tied("L = relu(x[i] y[j] - 1)\n") is None


def test_a_selection_with_two_extremes_within_rounding_is_found() -> None:
    # x + y is 3.1 and 5.7: one clear maximum.
    assert _tied("L = max[j](x[j] + y[j])\n") is None
    tied = "dim n = 2\nparam x[n] = [0.5, 1.5]\ninput y[n] = [3, 2]\n"
    report = run(tied + "L = max[j](x[j] + y[j])\n", verify=False)
    assert report.checked is not None
    _, rhs = Deriver(report.checked).lowered["L"]
    assert tied_node([rhs], draw_values(report.checked, 0), {}) is not None


FUZZED = (
    # seed 2042, run 43444: the derived dL/dW1 reads the comparison as
    # W1[k,b] W1[k,a] W1[q,q]^-1, the forward pass as (W1[k,a] W1[k,b]) / W1[q,q];
    # at k = b = q and a = e both sides are W1[k,a], and rounding picked
    # opposite branches: a false E401.
    "dim n = 2\ninput X0 positive\nparam W1[n, n] positive\n"
    "L = (W1[j, u] X0 / W1[j, 2])^2 W1[a, k] sum[b](W1[b, e] >= W1[k, a] W1[k, b] / W1[q, q])\n"
    "derive dL/dX0, dL/dW1\n"
)


def test_a_fuzzed_tie_is_no_failure() -> None:
    report = run(FUZZED)
    assert not [d.code for d in report.diagnostics if d.is_error]
    for result in report.derivatives:
        assert result.check is not None
        assert result.check.verdict in (Verdict.OK, Verdict.INCONCLUSIVE)
        if result.check.verdict is Verdict.INCONCLUSIVE:
            assert result.check.reason == NEAR_TIE


def test_a_claim_disagreeing_at_a_tie_is_inconclusive_with_the_node() -> None:
    # The claim is off by 2, but its comparison sits at a tie that rounding
    # decides: the disagreement cannot be told from two branches taken.
    text = (
        VALUES
        + "L = x[i] (x[i] y[j] / y[k] <= x[i])\n"
        + "dL/dx[i] = 2 sum[j, k](x[i] (y[j] / y[k]) <= x[i])\n"
    )
    (claim,) = run(text).claims
    assert claim.check is not None
    assert claim.check.verdict is ClaimVerdict.INCONCLUSIVE
    assert claim.check.check.reason == NEAR_TIE
    assert "within rounding of its tie" in claim.check.check.hints[-1]


def _reached(definition: str) -> list[list[bool]] | None:
    report = run(VALUES + definition, verify=False)
    assert report.checked is not None
    _, rhs = Deriver(report.checked).lowered["Y"]
    reached = tied_entries(rhs, {}, Magnitudes(draw_values(report.checked, 0), {}))
    return None if reached is None else np.asarray(reached).tolist()


def test_a_tie_reaches_its_own_entries_and_what_sums_over_them() -> None:
    # At i = j, x[i] y[j] / y[i] is x[i] up to rounding; elsewhere y[j] / y[i]
    # is 5/3 or 3/5, a clear margin.
    diagonal = [[True, False], [False, True]]
    assert _reached("Y[i, j] = x[i] (x[i] y[j] / y[i] <= x[i])\n") == diagonal
    assert _reached("Y[i, j] = tanh(relu(x[i] y[j] / y[i] - x[i])) + x[j]\n") == diagonal
    # Summed over j, every i reads its diagonal entry.
    assert _reached("Y[i] = x[i] (x[i] y[j] / y[i] <= x[i])\n") == [True, True]
    # A softmax along j: every entry of a row reads the row's tie.
    assert _reached("Y[i, j] = softmax[j](x[i] (x[i] y[j] / y[i] <= x[i]))\n") == [
        [True, True],
        [True, True],
    ]
    assert _reached("Y[i, j] = x[i] (x[i] y[j] / y[i] <= x[i] + 1)\n") is None


def test_a_tie_reaches_through_the_adjoint_lines() -> None:
    # dL/dx[i] = 2 dL/dY[i] x[i]: the tie is in the line dL/dY[i] = Σ_j
    # dL/dZ[i,j] (x[i] y[j] / y[i] <= x[i]) alone, and every i sums over j = i.
    text = (
        VALUES + "Y[i] = x[i]^2\nZ[i, j] = Y[i] (x[i] y[j] / y[i] <= x[i])\n"
        "L = Z[i, j] Z[i, j]\nderive dL/dx\n"
    )
    report = run(text, verify=False)
    assert report.checked is not None
    (result,) = report.derivatives
    derivation = result.derivation
    assert [a.label for a in derivation.adjoints] == ["dL/dZ", "dL/dY"]
    assert tied_node([derivation.formula], draw_values(report.checked, 0), {}) is None
    values = draw_values(report.checked, 0)
    verifier = Verifier(report.checked, Deriver(report.checked), values, Settings())
    reached = verifier.derived.tied_entries(derivation)
    assert reached is not None and np.asarray(reached).tolist() == [True, True]


def test_a_claim_wrong_away_from_a_tie_is_wrong() -> None:
    # Off by 2 everywhere; the tie at i = j reaches only the diagonal, and
    # at i = 2, j = 1 the comparison holds with a clear margin: 2 against 1.
    text = (
        VALUES
        + "Y[i, j] = x[i] (x[i] y[j] / y[i] <= x[i])\n"
        + "dY/dx[i, j, p] = 2 delta[i, p] (x[i] y[j] / y[i] <= x[i])\n"
    )
    report = run(text)
    (claim,) = report.claims
    assert claim.check is not None
    assert claim.check.verdict is ClaimVerdict.WRONG
    assert claim.check.check.compared == 4  # the 4 entries at i = j left out
    assert claim.check.check.worst is not None
    assert claim.check.check.worst.index == (2, 1, 2)
    hints = claim.check.check.hints
    assert any("4 entries left out where a comparison" in h for h in hints)
    assert "the entries it can reach were left out" in hints[-1]
    assert "E402" in [d.code for d in report.diagnostics]


REFERENCED = (
    "dim n = 2\nparam x[n] = [0.1, 0.7]\ninput y[n] = [3, 5]\ninput z[n] = [3, 5]\n"
    "input w[n] = [4, 5]\n"
    # At i = 1, x + y - z is 0.10000000000000009: the derived dM/dx is 0 there,
    # where exactly it is 1.
    "M[i] = x[i] (x[i] + y[i] - z[i] <= x[i])\n"
)


def test_a_claim_reading_a_derivative_at_a_tie_is_not_wrong() -> None:
    # Exactly, dM/dx = δ and dL/dx = 2δ: the claim is right, and its value
    # differs from the truth only where the referenced dM/dx is at its tie
    # (found by review: a false E402 before, with or without a tie of its own
    # in the truth).
    for truth in ("x[i] + x[i] (x[i] y[i] / w[i] <= x[i])", "x[i] + x[i]"):
        text = REFERENCED + f"L[i] = {truth}\ndL/dx[i, p] = dM/dx[i, p] + delta[i, p]\n"
        report = run(text)
        (claim,) = report.claims
        assert claim.check is not None
        assert claim.check.verdict is ClaimVerdict.INCONCLUSIVE, truth
        assert claim.check.check.reason == NEAR_TIE
        assert "E402" not in [d.code for d in report.diagnostics]


# Found by review: `g[i] = dM/dw[i]` is 0 exactly (M is), but the forward pass
# computes g[1] = 0 and the claim's dM/dw[1] = -1.1e-17 through its adjoint
# lines: `g[i] >= 0` and `dM/dw[i] >= 0` took opposite branches, and both
# sides being arrays, neither was looked at as a tie.
ONE_QUANTITY_TWO_WAYS = (
    "dim n = 2\nparam w[n], v[n]\ninput y[n] = [49, 5]\n"
    "H[i, j] = w[i] y[j] / y[i]\nM = H[i, i] - w[i]\ng[i] = dM/dw[i]\n"
    "L = v[i] (g[i] >= 0)\n"
)


def test_a_computed_array_is_no_bare_value() -> None:
    # The right claim, read through the derivative g stands for; with a factor
    # that keeps the symbolic comparison from confirming it, and without.
    for claim in ("(1 + 1e-300 v[1]) (dM/dw[i] >= 0)", "(dM/dw[i] >= 0)"):
        report = run(ONE_QUANTITY_TWO_WAYS + f"dL/dv[i] = {claim}\n")
        (result,) = report.claims
        assert result.check is not None
        assert result.check.verdict is ClaimVerdict.INCONCLUSIVE, claim
        assert result.check.check.reason == NEAR_TIE
        codes = [d.code for d in report.diagnostics]
        assert "E402" not in codes and "E401" not in codes, claim


def test_only_given_arrays_and_constants_are_exact() -> None:
    report = run(ONE_QUANTITY_TWO_WAYS, verify=False)
    assert report.checked is not None
    values = draw_values(report.checked, 0)
    magnitudes = Magnitudes(values, {"g": np.ones(2)})
    _, rhs = Deriver(report.checked).lowered["L"]
    v, compare = rhs.factors  # type: ignore[attr-defined]
    assert magnitudes.exact(v)
    assert not magnitudes.exact(compare.left)  # g: computed
    assert magnitudes.exact(compare.right)


def test_a_long_sum_added_in_order_is_looked_at_as_a_tie() -> None:
    # Exactly, Σ a = 1 + 199 · 2⁻⁵³ ≥ 1 + 1.11e-14, and the claim's 1 is right;
    # the truth's sum, added term by term, stays 1 and takes the other branch,
    # 2.2e-14 off: more than 16 ulps of Σ|a| (found by review: a false E402).
    # Also where the sum is a defined array the comparison reads.
    given = (
        "dim n = 200\nparam x\ninput o[n]\n"
        "a[k] = (k == 1) + 1.1102230246251565e-16 (k > 1) + 0 o[k]\n"
    )
    claim = "dL/dx = (sum[k](a[k]) >= 1.000000000000011)\n"
    for loss in (
        "L = x (sum[t in 1..200](a[t]) >= 1.000000000000011)\n",
        "S = sum[t in 1..200](a[t])\nL = x (S >= 1.000000000000011)\n",
    ):
        _assert_at_a_tie(given + loss + claim)


def test_a_long_contraction_is_looked_at_as_a_tie() -> None:
    # einsum keeps a few running sums: Σ_k a[k] one[k] over 2,000 entries is
    # 1 + 1.1e-13 where exactly it is 1 + 2.2e-13 (and Σ_k a[k] is), so the
    # truth's comparison with 1 + 1.7e-13 took the wrong branch, 500 ulps
    # off, and the right claim was wrong (E402).
    text = (
        "dim n = 2000\nparam x\ninput o[n]\n"
        "a[k] = (k == 1) + 1.1102230246251565e-16 (k > 1) + 0 o[k]\n"
        "one[k] = 1 + 0 o[k]\n"
        "L = x (a[k] one[k] >= 1.00000000000017)\n"
        "dL/dx = (1 + 1e-300 x) (sum[k](a[k]) >= 1.00000000000017)\n"
    )
    _assert_at_a_tie(text)


def _assert_at_a_tie(text: str) -> None:
    """The file's one claim is inconclusive for a tie rounding decides."""
    (claim,) = run(text).claims
    assert claim.check is not None
    assert claim.check.verdict is ClaimVerdict.INCONCLUSIVE, text
    assert claim.check.check.reason == NEAR_TIE


# Found by the second review: 1 + 2⁻⁵³ added 199 times, three more ways.
_SMALL_TERMS = (
    "dim n = 200\nparam x, w\ninput o[n]\ninput c = 1.00000000000022\n"
    "a[k] = (k == 1) + 1.1102230246251565e-16 (k > 1) + 0 o[k]\n"
)


def test_a_claim_reading_a_derivative_of_a_long_sum_is_not_wrong() -> None:
    # dM/dw is S, 2.2e-14 short of its exact value: the claim reads it
    # through the derivative's own rounding bound, counted per operation.
    text = (
        _SMALL_TERMS + "S = sum[t in 1..200](a[t])\nM = w S\nL = x (c >= 1.000000000000011)\n"
        "dL/dx = (1 + 1e-300 x) (dM/dw >= 1.000000000000011)\n"
    )
    _assert_at_a_tie(text)


def test_a_running_sum_across_definitions_is_looked_at_as_a_tie() -> None:
    # s{t} = s{t-1} + a[t]: one addition per definition, 200 of them.
    text = (
        _SMALL_TERMS + "s1 = a[1]\nfor t in 2..200:\n    s{t} = s{t-1} + a[t]\n"
        "L = x (s200 >= 1.000000000000011)\ndL/dx = 1\n"
    )
    _assert_at_a_tie(text)


def test_an_exact_zero_is_no_tie() -> None:
    # h[2] is 0 with a bound of 0 (masked): every evaluation takes relu's
    # same branch there, and the claim, off by 2 everywhere, is wrong.
    text = (
        "dim n = 3\nparam x[n], W[n, n]\ninput m[n] = [1, 0, 1]\n"
        "h[i] = W[i, j] x[j] m[i]\nL = relu(h[i])\n"
        "dL/dx[j] = 2 (h[i] > 0) W[i, j] m[i]\n"
    )
    report = run(text)
    (claim,) = report.claims
    assert claim.check is not None
    assert claim.check.verdict is ClaimVerdict.WRONG
    assert "E402" in [d.code for d in report.diagnostics]


def test_an_underflow_is_no_exact_zero() -> None:
    # Found by the third review: 1e-200 · 1e-200 and exp(-800) are 0 in
    # float64, and so are their magnitudes, where exactly both are above 0:
    # a bound of 0 there is underflow, not an exact side.
    _assert_at_a_tie(
        "param x\ninput a = 1e-200\ninput b = 1e-200\nL = x (a b > 0)\n"
        "dL/dx = (1 + 1e-300 x) ((a > 0) (b > 0))\n"
    )
    _assert_at_a_tie(
        "param x\ninput a = -800\nL = x (exp(a) > 0)\ndL/dx = (1 + 1e-300 x) (a > -1000)\n"
    )
