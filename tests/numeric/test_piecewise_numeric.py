"""Piecewise derivatives against numbers computed here, and kinks in numeric checks
(spec 9.2): entries whose central differences straddle a change of branch are
left out, never a false failure and never a false pass."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from support import assert_clean, central, run, saved

from shapecheck.numeric import kinks
from shapecheck.numeric import values as numbers
from shapecheck.numeric.verdicts import AT_KINK, ClaimVerdict, Verdict

Array = Any


# ---- each derivative rule against independent numbers


def test_hinge_loss_against_finite_differences(tmp_path: Path) -> None:
    text = (
        "dim n = 5, c = 4\nparam s[n, c]\n"
        "H[i, k] = max(0, 1 + s[i, k] - s[i, 1])\nL = H[i, k]\nderive dL/ds\n"
    )
    report, arrays = saved(text, tmp_path)
    assert_clean(report)

    def hinge(s: Array) -> Array:
        return np.maximum(0.0, 1.0 + s - s[:, :1]).sum()

    s = arrays["s"]
    np.testing.assert_allclose(arrays["dL/ds"], central(hinge, s), atol=1e-6)
    # And by hand: +1 where a margin is active, minus their count in column 1.
    active = (1.0 + s - s[:, :1] > 0).astype(float)
    by_hand = active.copy()
    by_hand[:, 0] -= active.sum(axis=1)
    np.testing.assert_allclose(arrays["dL/ds"], by_hand, atol=1e-12)


def test_leaky_relu_as_max(tmp_path: Path) -> None:
    text = (
        "dim n = 6\nparam x[n], w[n]\n"
        "a[i] = max(0.01 x[i], x[i])\nL = a[i] w[i]\nderive dL/dx, dL/dw\n"
    )
    report, arrays = saved(text, tmp_path)
    assert_clean(report)
    x, w = arrays["x"], arrays["w"]
    np.testing.assert_allclose(arrays["dL/dx"], np.where(x > 0, 1.0, 0.01) * w, atol=1e-12)
    np.testing.assert_allclose(
        arrays["dL/dx"], central(lambda v: (np.maximum(0.01 * v, v) * w).sum(), x), atol=1e-6
    )
    np.testing.assert_allclose(arrays["dL/dw"], np.maximum(0.01 * x, x), atol=1e-12)


def test_min_and_the_tie_going_to_the_first_argument(tmp_path: Path) -> None:
    text = (
        "dim n = 5\nparam x[n], y[n]\nm[i] = min(x[i], 2 y[i])\nL = m[i]^2\nderive dL/dx, dL/dy\n"
    )
    report, arrays = saved(text, tmp_path)
    assert_clean(report)
    x, y = arrays["x"], arrays["y"]

    def loss(x: Array, y: Array) -> Array:
        return (np.minimum(x, 2 * y) ** 2).sum()

    np.testing.assert_allclose(arrays["dL/dx"], central(lambda v: loss(v, y), x), atol=1e-6)
    np.testing.assert_allclose(arrays["dL/dy"], central(lambda v: loss(x, v), y), atol=1e-6)


def test_causal_mask_with_index_values(tmp_path: Path) -> None:
    text = (
        "dim n = 4\nparam G[n, n]\n"
        "S[i, j] = G[i, j] (j <= i)\nL = S[i, j] S[i, j]\nderive dL/dG, dS/dG\n"
    )
    report, arrays = saved(text, tmp_path)
    assert_clean(report)
    g = arrays["G"]
    np.testing.assert_allclose(arrays["dL/dG"], 2 * np.tril(g), atol=1e-12)
    np.testing.assert_allclose(arrays["dS/dG"], central(lambda v: np.tril(v), g), atol=1e-6)


def test_discount_with_an_index_value(tmp_path: Path) -> None:
    text = "dim T = 5\nparam r[T]\nR = 0.9^t r[t]\nderive dR/dr\n"
    report, arrays = saved(text, tmp_path)
    assert_clean(report)
    np.testing.assert_allclose(arrays["dR/dr"], 0.9 ** np.arange(1, 6), atol=1e-12)


def test_relu_abs_step_sign_and_a_comparison(tmp_path: Path) -> None:
    text = (
        "dim n = 6\nparam x[n], y[n]\n"
        "E = relu(x[i]) y[i] + abs(x[i]) + step(y[i]) x[i] + sign(x[i]) y[i] + (x[i] > y[i]) x[i]\n"
        "derive dE/dx, dE/dy\n"
    )
    report, arrays = saved(text, tmp_path)
    assert_clean(report)
    x, y = arrays["x"], arrays["y"]

    def energy(x: Array, y: Array) -> Array:
        return (np.maximum(x, 0) * y + np.abs(x) + (y > 0) * x + np.sign(x) * y + (x > y) * x).sum()

    np.testing.assert_allclose(arrays["dE/dx"], central(lambda v: energy(v, y), x), atol=1e-6)
    np.testing.assert_allclose(arrays["dE/dy"], central(lambda v: energy(x, v), y), atol=1e-6)
    by_hand = (x > 0) * y + np.sign(x) + (y > 0) + (x > y)
    np.testing.assert_allclose(arrays["dE/dx"], by_hand, atol=1e-12)


def test_a_derivative_through_a_comparison_only_is_zero_without_w102() -> None:
    report = run("dim n = 3\nparam x[n]\ninput y[n]\nC = sum[i](x[i] > y[i])\nderive dC/dx\n")
    assert [d.code for d in report.diagnostics] == []
    (result,) = report.derivatives
    from shapecheck.symbolic.formula import formula

    assert formula(result.derivation.formula) == "0"


def test_the_numpy_lines_compute_the_derivative(tmp_path: Path) -> None:
    text = (
        "dim n = 4\nparam x[n], G[n, n]\n"
        "L = max(0.1 x[i], x[i]) + G[i, j] (j <= i) + (x[i] >= 0.5) x[i]\nderive dL/dx, dL/dG\n"
    )
    report, arrays = saved(text, tmp_path)
    assert_clean(report)
    from shapecheck.numeric.codegen import numpy_code

    scope = {"np": np, "x": arrays["x"], "G": arrays["G"]}
    for result in report.derivatives:
        derivation = result.derivation
        value = eval(numpy_code(derivation.formula, derivation.signature), scope)
        np.testing.assert_allclose(
            np.broadcast_to(value, arrays[result.derivation.label].shape),
            arrays[result.derivation.label],
            atol=1e-12,
        )


# ---- kinks


def test_literal_values_on_kinks_are_left_out_and_counted() -> None:
    text = "param x[5] = [0, 1, -2, 0.5, 3]\nL = relu(x[i]) + max(x[i], 1) + (x[i] > 0.5) x[i]\n"
    report = run(text + "derive dL/dx\n")
    assert [d.code for d in report.diagnostics] == []
    check = report.derivatives[0].check
    assert check is not None and check.verdict is Verdict.OK
    # x = 0 (relu), 1 (max), 0.5 (the comparison) are kinks; -2 and 3 are compared.
    assert (check.compared, check.at_kink, check.redraws) == (2, 3, 0)
    assert any("3 entries left out at a kink" in h for h in check.hints)


def test_values_near_a_kink_straddle_only_within_reach_of_the_steps() -> None:
    # The steps reach 4 h = 2.4e-5 from x: 1e-7 and -2e-5 straddle relu's kink,
    # 1e-3 does not and is compared (its slope is 1, and checked as such).
    text = "param x[3] = [1e-7, -2e-5, 1e-3]\nL = relu(x[i])\nderive dL/dx\n"
    check = run(text).derivatives[0].check
    assert check is not None and check.verdict is Verdict.OK
    assert (check.compared, check.at_kink) == (1, 2)
    wrong = run(text.replace("derive dL/dx\n", "dL/dx[p] = 2 step(x[p])\n"))
    assert [d.code for d in wrong.diagnostics] == ["E402"]


def test_no_false_pass_a_claim_wrong_away_from_the_kink_is_caught() -> None:
    text = "param x[4] = [0, 1, -2, 3]\nL = relu(x[i])\ndL/dx[p] = (x[p] >= 0) + (x[p] > 2)\n"
    report = run(text)
    assert [d.code for d in report.diagnostics] == ["E402"]
    assert report.diagnostics[0].hints == ("worst at dL/dx[4]: claimed 2, true 1",)


def test_a_claim_that_differs_only_at_the_tie_is_confirmed() -> None:
    report = run("param x[4] = [0, 1, -2, 3]\nL = relu(x[i])\ndL/dx[p] = (x[p] >= 0)\n")
    assert [d.code for d in report.diagnostics] == []
    (claim,) = report.claims
    assert not claim.symbolic.matches
    assert claim.check is not None and claim.check.verdict is ClaimVerdict.OK
    assert claim.check.check.at_kink == 1


def test_everything_at_a_kink_is_w110_for_a_derivative_and_e405_for_a_claim() -> None:
    # `(x[p] >= 0)`, not `(x[p] > 0)`: that one is relu' exactly, confirmed
    # symbolically (language.md 13.4), and then only a warning (W113).
    text = "param x[2] = [0, 0]\nL = relu(x[i])\ndL/dx[p] = (x[p] >= 0)\nderive dL/dx\n"
    report = run(text)
    # In file order: the claim's line comes before the derive statement's.
    assert [d.code for d in report.diagnostics] == ["E405", "W110"]
    error, warning = report.diagnostics
    assert warning.message == "dL/dx is not verified: all entries at a kink"
    assert error.message == "the claim dL/dx[p] could not be verified: all entries at a kink"
    check = report.derivatives[0].check
    assert check is not None and check.reason == AT_KINK


def test_at_values_on_a_kink_are_kept_not_redrawn(tmp_path: Path) -> None:
    path = tmp_path / "at.npz"
    np.savez(path, x=np.array([0.0, 2.0, -1.0]), y=np.array([0.0, 1.0, 1.0]))
    text = "param x[3], y[3]\nL = max(x[i], y[i])\nderive dL/dx, dL/dy\n"
    report = run(text, at=path)
    assert [d.code for d in report.diagnostics] == []
    for result in report.derivatives:
        assert result.check is not None
        assert (result.check.compared, result.check.at_kink, result.check.redraws) == (2, 1, 0)


def test_drawn_values_on_a_kink_are_drawn_again(monkeypatch: pytest.MonkeyPatch) -> None:
    # The first draw of x puts every entry on the kink of relu; a redraw
    # (a stream of its own) moves it off, and the check compares everything.
    real = numbers._stream

    class OnTheKink:
        def standard_normal(self, shape: tuple[int, ...]) -> Array:
            return np.zeros(shape)

    def stream(seed: int, name: str) -> Any:
        return OnTheKink() if name == "x" else real(seed, name)

    monkeypatch.setattr(numbers, "_stream", stream)
    report = run("dim n = 3\nparam x[n]\nL = relu(x[i])\nderive dL/dx\n")
    assert [d.code for d in report.diagnostics] == []
    check = report.derivatives[0].check
    assert check is not None and check.verdict is Verdict.OK
    assert (check.compared, check.at_kink, check.redraws) == (3, 0, 1)
    assert "drawn values redrawn once to move off a kink" in check.hints


def test_drawn_values_always_on_a_kink_give_up_after_five_redraws(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class OnTheKink:
        def standard_normal(self, shape: tuple[int, ...]) -> Array:
            return np.zeros(shape)

    monkeypatch.setattr(numbers, "_stream", lambda seed, name: OnTheKink())
    report = run("dim n = 3\nparam x[n]\nL = relu(x[i])\nderive dL/dx\n")
    assert [d.code for d in report.diagnostics] == ["W110"]
    check = report.derivatives[0].check
    assert check is not None and check.redraws == kinks.MAX_REDRAWS


def test_directions_are_zeroed_where_they_would_straddle(tmp_path: Path) -> None:
    # 500 inputs: checked along random directions; three entries sit on kinks.
    x = np.linspace(-2.0, 2.0, 500)
    x[[10, 250, 400]] = 0.0
    path = tmp_path / "at.npz"
    np.savez(path, x=x)
    text = "dim n = 500\nparam x[n]\ny[i] = relu(x[i])\nderive dy/dx\n"
    report = run(text, at=path)
    assert [d.code for d in report.diagnostics] == []
    check = report.derivatives[0].check
    assert check is not None and check.verdict is Verdict.OK
    assert str(check.mode) == "directions"
    assert check.at_kink == 2 * 3  # three coordinates in each of two directions


def test_a_wrong_derivative_away_from_kinks_still_fails_along_directions(tmp_path: Path) -> None:
    # The kink rule must not hide a real disagreement: a "derivative" off by a
    # factor where nothing is at a kink fails the directional check.
    from shapecheck.numeric import differences
    from shapecheck.numeric.verdicts import Settings

    base = np.linspace(-2.0, 2.0, 50)
    base[[3, 20]] = 0.0
    straddles = kinks.Straddles()

    def rerun(stack: Array) -> Array:
        straddles.rows = (np.sign(stack) != np.sign(base)).any(axis=1)
        return np.maximum(stack, 0.0).sum(axis=1)

    class Derivation:
        of_indices: tuple[()] = ()

    def along(u: Array, v: Array) -> Array:
        return float(v * np.sum(2.0 * (base > 0) * u))  # twice the true slope

    check = differences.directions_check(
        Derivation(),  # type: ignore[arg-type]
        along,
        base,
        rerun,
        Settings(),
        np.random.default_rng(0),
        64,
        None,
        None,
        straddles,
    )
    assert check.verdict is Verdict.FAILED
    assert check.at_kink == 4


def test_clear_direction_finds_exactly_the_straddling_coordinates() -> None:
    u = np.arange(1.0, 65.0)
    bad = {5, 17, 40}
    calls = []

    def straddles(w: Array) -> bool:
        calls.append(1)
        return bool(any(w[k] != 0 for k in bad))

    cleared = kinks.clear_direction(u, straddles)
    assert cleared.zeroed == 3
    assert set(np.flatnonzero(cleared.direction == 0)) == bad
    assert len(calls) < 64  # bisection, not one rerun per coordinate


def test_clear_direction_tests_a_matrix_direction_in_its_own_shape() -> None:
    """Regression (fuzzing): the bisection passed flattened halves to a test
    that adds them to the matrix of values (a broadcast error, E999)."""
    u = np.arange(1.0, 17.0).reshape(4, 4)
    base = np.zeros((4, 4))

    def straddles(w: Array) -> bool:
        assert np.shape(w) == (4, 4)
        moved = base + w
        return bool(moved[1, 2] != 0 or moved[3, 0] != 0)

    cleared = kinks.clear_direction(u, straddles)
    assert cleared.zeroed == 2
    assert cleared.direction.shape == (4, 4)
    assert {tuple(int(c) for c in k) for k in np.argwhere(cleared.direction == 0)} == {
        (1, 2),
        (3, 0),
    }


def test_clear_direction_within_its_budget_clears_as_without_one() -> None:
    u = np.arange(1.0, 65.0)
    bad = {5, 17, 40}

    def straddles(w: Array) -> bool:
        return bool(any(w[k] != 0 for k in bad))

    clearing = kinks.ClearingBudget(test_cost=10)
    cleared = kinks.clear_direction(u, straddles, clearing)
    assert not cleared.dropped and not clearing.exhausted
    assert np.array_equal(cleared.direction, kinks.clear_direction(u, straddles).direction)
    assert clearing.left < kinks.CLEARING_MAX_WORK  # every test was paid


def test_clear_direction_past_its_budget_leaves_the_direction_out_whole() -> None:
    u = np.arange(1.0, 65.0)
    calls = []

    def straddles(w: Array) -> bool:
        calls.append(1)
        return bool(np.any(w != 0))  # every coordinate straddles: ~2n tests

    clearing = kinks.ClearingBudget(test_cost=10, left=10 * 7)
    cleared = kinks.clear_direction(u, straddles, clearing)
    assert len(calls) == 7  # no test past the budget
    assert cleared.dropped and clearing.exhausted
    assert cleared.zeroed == 64 and not np.any(cleared.direction)
    # Spent: the next direction is left out without a test.
    assert kinks.clear_direction(u, straddles, clearing).dropped and len(calls) == 7


def test_kink_clearing_stops_at_its_budget_inconclusive_without_redraws(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A many-index step(...) reran its definitions ~36 times per check and
    redrew five times (17 s at m = 6): the clearing budget bounds the reruns of
    one derivative, over its redraws, and the verdict is inconclusive, never a
    pass or a failure drawn from what was not compared."""
    from shapecheck.numeric import verify

    paid: list[int] = []
    tight = kinks.ClearingBudget(test_cost=1, left=3)

    def clearing_budget(deriver: Any, derivation: Any) -> kinks.ClearingBudget:
        paid.append(1)
        return tight

    monkeypatch.setattr(verify, "clearing_budget", clearing_budget)

    class OnTheKink:
        def standard_normal(self, shape: tuple[int, ...]) -> Array:
            return np.zeros(shape)

    # Drawn values all on the kink: without the budget, five redraws.
    monkeypatch.setattr(numbers, "_stream", lambda seed, name: OnTheKink())
    text = "dim n = 500\nparam x[n]\nL = relu(x[i])\nderive dL/dx\n"
    report = run(text)
    assert [d.code for d in report.diagnostics] == ["W110"]
    check = report.derivatives[0].check
    assert check is not None and check.verdict is Verdict.INCONCLUSIVE
    assert check.reason == AT_KINK and check.redraws == 0
    assert tight.exhausted and tight.left == 0 and paid == [1]
    assert any("reached its budget" in hint for hint in check.hints)


def test_the_branch_of_a_scalar_with_a_nan_is_its_own() -> None:
    """Regression (fuzzing): a 0-d operand holding a NaN crashed the branch."""
    assert int(kinks.branch(_relu(), (np.float64("nan"),))) == 2
    assert int(kinks.branch(_relu(), (np.float64(-1.0),))) == -1
    np.testing.assert_array_equal(
        kinks.branch(_relu(), (np.array([1.0, 0.0, np.nan]),)), np.array([1, 0, 2])
    )


def _relu() -> Any:
    from shapecheck.symbolic import terms as t

    return t.Func("relu", t.Const(0.0))
