"""The tolerance: within it passes, beyond it fails, NaN is never a pass, the
finite difference's own uncertainty widens it, and the worst entry is kept."""

from __future__ import annotations

import numpy as np

from shapecheck.numeric.comparison import Comparison
from shapecheck.numeric.verdicts import Mode, Settings, Verdict, Worst


def _at(flat: int) -> Worst:
    return Worst((flat + 1,), None, 0.0, 0.0)


def test_agreement_within_the_tolerance_passes() -> None:
    comparison = Comparison(Settings(rtol=1e-5, atol=1e-8))
    comparison.add(np.array([1.0, 2.0]), np.array([1.0 + 1e-7, 2.0]), 0.0, _at)
    check = comparison.result(Mode.FULL)
    assert check.verdict is Verdict.OK
    assert check.mode is Mode.FULL
    assert check.compared == 2
    assert abs(check.max_abs_error - 1e-7) < 1e-12


def test_disagreement_beyond_the_tolerance_fails_at_the_worst_entry() -> None:
    comparison = Comparison(Settings())
    comparison.add(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.5, 3.1]), 0.0, _at)
    check = comparison.result(Mode.FULL)
    assert check.verdict is Verdict.FAILED
    assert check.worst == Worst((2,), None, 0.0, 0.0)
    assert abs(check.max_abs_error - 0.5) < 1e-12
    assert abs(check.max_rel_error - 0.2) < 1e-12


def test_uncertainty_of_the_finite_difference_widens_the_tolerance() -> None:
    strict, lenient = Comparison(Settings()), Comparison(Settings())
    strict.add(np.array([1.0]), np.array([1.01]), 0.0, _at)
    lenient.add(np.array([1.0]), np.array([1.01]), 0.01, _at)
    assert strict.result(Mode.FULL).verdict is Verdict.FAILED
    assert lenient.result(Mode.FULL).verdict is Verdict.OK


def test_nan_or_inf_is_inconclusive_never_a_pass() -> None:
    for derived, reference in [(np.nan, 1.0), (1.0, np.inf)]:
        comparison = Comparison(Settings())
        comparison.add(np.array([1.0]), np.array([1.0]), 0.0, _at)
        comparison.add(np.array([derived]), np.array([reference]), 0.0, _at)
        check = comparison.result(Mode.DIRECTIONS)
        assert check.verdict is Verdict.INCONCLUSIVE
        assert check.reason == "NaN or Inf in the comparison"
