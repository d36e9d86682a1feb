"""No false verdict from finite differences' own error (issue 14): round-off and
truncation are estimated per entry, entries they swamp are left out and
counted, and a check with nothing left is inconclusive, never E401 nor a pass."""

from __future__ import annotations

import numpy as np
from support import run

from shapecheck.numeric import differences
from shapecheck.numeric.verdicts import Verdict

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
    assert [d.code for d in report.diagnostics if d.is_error] == ["E403"]


def test_truncation_near_a_pole_is_estimated_not_failed() -> None:
    for seed in range(5):
        report = run(TRUNCATION, seed=seed)
        assert [d.code for d in report.diagnostics if d.is_error] == [], seed
        (result,) = report.derivatives
        assert result.check is not None and result.check.verdict is Verdict.OK
        assert result.check.compared > 0


def test_a_coarse_step_still_gives_an_honest_estimate() -> None:
    # f(x) = 1/x² near its pole: D(h) is off by far more than rtol, and the
    # estimate says so rather than letting a right derivative fail.
    x = np.array([0.05])
    h = np.array([1e-3])

    def f(points: np.ndarray) -> np.ndarray:
        return 1.0 / points**2

    plus = f(np.stack([x + h, x + 2 * h]))
    minus = f(np.stack([x - h, x - 2 * h]))
    found = differences.estimate(plus, minus, 2 * h)
    truth = -2.0 / x**3
    assert abs(found.value - truth) <= found.error
    assert abs((plus[0] - minus[0]) / (2 * h) - truth) > 1e-5 * abs(truth)


def test_round_off_estimate_grows_with_the_output_magnitude() -> None:
    small = differences.estimate(np.ones((2, 1)), np.ones((2, 1)), np.array([1e-5]))
    large = differences.estimate(np.full((2, 1), 1e34), np.full((2, 1), 1e34), np.array([1e-5]))
    assert float(small.value[0]) == 0.0 == float(large.value[0])
    assert float(small.error[0]) < 1e-8 < 1e20 < float(large.error[0])
