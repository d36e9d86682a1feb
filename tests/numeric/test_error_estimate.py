"""No false verdict from finite differences' own error (issue 14): round-off and
truncation are estimated per entry, entries they swamp are left out and
counted, and a check with nothing left is inconclusive, never E401 nor a pass."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from support import run

from shapecheck.numeric import differences
from shapecheck.numeric.verdicts import Settings, Verdict

HEADER = "dim n = 2, m = 3\nparam A[n, m], v[n], w[m], s\n"

# L ≈ 1e34 from one entry of v: a step in the other entry moves L below float64's
# resolution, so its finite difference is exactly 0 while the derivative is 28.2.
ROUNDOFF = HEADER + "y[i] = exp(((v[i])^2)^2)\nL = y[i] y[i]\n"

TRUNCATION = """\
dim a = 3, b = 4, c = 2
param Y2[a, b, c], X1[c, a, b]
Y3[q, p, k, r] = ((Y2[q, k, r] Y2[p, k, r] - X1[r, p, k])^(2))^-2
derive dY3/dX1
"""


def test_round_off_that_swamps_an_entry_leaves_it_out_instead_of_failing() -> None:
    report = run(ROUNDOFF)
    assert [d.code for d in report.diagnostics if d.is_error] == []
    (result,) = report.derivatives
    assert result.check is not None
    assert result.check.verdict is Verdict.OK
    assert (result.check.compared, result.check.undecidable) == (1, 1)
    assert result.check.hints == (
        "1 entry could not be resolved numerically (left out; 1 compared)",
    )


def test_nothing_resolvable_is_inconclusive_with_the_reason() -> None:
    # exp(3.2⁴) ≈ 1e45 next to s² = 0.25: no step in s moves L in float64.
    report = run("param s = 0.5, x = 3.2\nL = exp(x^4) + s^2\nderive dL/ds\n")
    (result,) = report.derivatives
    assert result.check is not None
    assert result.check.verdict is Verdict.INCONCLUSIVE
    assert (result.check.compared, result.check.undecidable) == (0, 1)
    assert result.check.reason is not None
    assert result.check.reason.startswith("none of its 1 entries could be resolved numerically")
    # Not verified, a warning: the user did nothing wrong (spec 6).
    assert [d.code for d in report.diagnostics] == ["W113"]


def test_truncation_near_a_pole_is_estimated_not_failed() -> None:
    for seed in range(5):
        report = run(TRUNCATION, seed=seed)
        assert [d.code for d in report.diagnostics if d.is_error] == [], seed
        (result,) = report.derivatives
        assert result.check is not None and result.check.verdict is Verdict.OK
        assert result.check.compared > 0


def _at_steps(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, h: np.ndarray
) -> differences.Estimate:
    """The estimate from f at x ± h, x ± 2h, x ± 4h and x, as `full_check` takes it."""
    plus = f(np.stack([x + h, x + 2 * h, x + 4 * h]))
    minus = f(np.stack([x - h, x - 2 * h, x - 4 * h]))
    # The step actually taken, as `full_check` measures it.
    return differences.estimate(plus, minus, (x + h) - (x - h), f(x), Settings())


def test_a_coarse_step_still_gives_an_honest_estimate() -> None:
    # f(x) = 1/x² near its pole: D(h) is off by far more than rtol, and the
    # estimate says so rather than letting a right derivative fail.
    x = np.array([0.05])
    h = np.array([1e-3])

    def f(points: np.ndarray) -> np.ndarray:
        return 1.0 / points**2

    found = _at_steps(f, x, h)
    truth = -2.0 / x**3
    assert abs(found.value - truth) <= found.error
    assert abs((f(x + h) - f(x - h)) / (2 * h) - truth) > 1e-5 * abs(truth)


def test_round_off_estimate_grows_with_the_output_magnitude() -> None:
    def flat(level: float) -> differences.Estimate:
        return differences.estimate(
            np.full((3, 1), level), np.full((3, 1), level), np.array([1e-5]), level, Settings()
        )

    small, large = flat(1.0), flat(1e34)
    assert float(small.value[0]) == 0.0 == float(large.value[0])
    assert float(small.error[0]) < 1e-8 < 1e20 < float(large.error[0])


def test_a_step_far_outside_the_linear_regime_decides_nothing() -> None:
    # cos(F x) with F h ≫ 1: the argument moves by many radians over one step,
    # so D(h), D(2h), D(4h) are garbage, which may even alias to a smooth-looking
    # curve (issue 14, fuzz case 4197). The samples alone are fooled somewhere;
    # with the derived value's reach, no entry is decided wrongly.
    for frequency in (1e10, 1e6, 1e5):
        x = np.linspace(0.3, 2.0, 400)
        h = differences.STEP * np.maximum(1.0, np.abs(x))
        truth = -frequency * np.sin(frequency * x)

        def f(points: np.ndarray, frequency: float = frequency) -> np.ndarray:
            return np.cos(frequency * points)

        first = _at_steps(f, x, h)
        allowed = 1e-8 + 1e-5 * np.abs(truth)
        found = differences.resolved(first, truth, h)
        decided = found.error <= allowed
        wrong = np.abs(found.value - truth) > allowed + found.error
        assert not np.any(decided & wrong), frequency
        # The ratio and even tests alone let some aliased entries through.
        # (decided as `Comparison` decides: tolerance on the larger of the two).
        if frequency == 1e10:
            loose = 1e-8 + 1e-5 * np.maximum(np.abs(truth), np.abs(first.value))
            fooled = np.abs(first.value - truth) > loose + first.error
            assert np.any((first.error <= loose) & fooled)


def test_smooth_functions_stay_decidable_at_every_scale() -> None:
    # The regime test must not cost decidable entries: sin, exp, a polynomial,
    # at small and large arguments, and a function that is flat at its point.
    small = np.array([0.0, 1e-3, 0.7, 3.0, 40.0])
    wide = np.array([0.0, 1e-3, 0.7, 3.0, 40.0, 1e4])
    for x, f, df in (
        (small, np.sin, np.cos),
        (wide, lambda p: np.exp(p / 1e4), lambda p: np.exp(p / 1e4) / 1e4),
        (wide, lambda p: p**4 - 3 * p, lambda p: 4 * p**3 - 3),
        (wide, lambda p: p**4, lambda p: 4 * p**3),
    ):
        h = differences.STEP * np.maximum(1.0, np.abs(x))
        found = _at_steps(f, x, h)
        allowed = 1e-8 + 1e-5 * np.abs(df(x))
        assert np.all(found.error <= allowed), (found.error, allowed)
        assert np.all(np.abs(found.value - df(x)) <= allowed)


def test_the_ratio_test_rejects_differences_that_do_not_shrink_by_four() -> None:
    odd = [np.array([1.0]), np.array([2.0]), np.array([3.0])]  # gaps −1, −1: ratio 1
    even = [np.array([1.0]), np.array([4.0]), np.array([16.0])]
    zero, one = np.array([0.0]), np.array([1.0])
    assert not differences.asymptotic(odd, even, zero, one, np.array([1e-8]))[0]
    odd = [np.array([1.0]), np.array([1.5]), np.array([3.5])]  # gaps −0.5, −2: ratio 4
    assert differences.asymptotic(odd, even, zero, one, np.array([1e-8]))[0]
    # Even differences that do not grow as h² betray a step outside the regime.
    bent = [np.array([1.0]), np.array([-3.0]), np.array([16.0])]
    assert not differences.asymptotic(odd, bent, zero, one, np.array([1e-8]))[0]
