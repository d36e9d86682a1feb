"""The tolerance: within it passes, beyond it fails, NaN is never a pass, the
finite difference's own uncertainty widens it, and the worst entry is kept."""

from __future__ import annotations

import numpy as np

from shapecheck.numeric.comparison import Comparison
from shapecheck.numeric.verdicts import NEAR_TIE, Mode, Settings, Verdict, Worst


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


def test_the_error_estimate_widens_the_tolerance() -> None:
    # 1e-6 of estimated error is below what rtol 1e-5 detects at 1.0: decidable.
    strict, lenient = Comparison(Settings()), Comparison(Settings())
    strict.add(np.array([1.0]), np.array([1.0 + 2e-5]), 0.0, _at)
    lenient.add(np.array([1.0]), np.array([1.0 + 2e-5]), 1e-5, _at)
    assert strict.result(Mode.FULL).verdict is Verdict.FAILED
    assert lenient.result(Mode.FULL).verdict is Verdict.OK


def test_an_entry_the_estimate_cannot_resolve_is_left_out_and_counted() -> None:
    comparison = Comparison(Settings())
    # The second entry's estimated error (50) exceeds its tolerance and its
    # disagreement (28.2) is within it: it decides nothing.
    comparison.add(np.array([1.0, 28.2]), np.array([1.0, 0.0]), np.array([0.0, 50.0]), _at)
    check = comparison.result(Mode.FULL)
    assert check.verdict is Verdict.OK
    assert (check.compared, check.undecidable) == (1, 1)
    assert check.hints == ("1 entry could not be resolved numerically (left out; 1 compared)",)


def test_a_disagreement_beyond_a_large_estimate_is_decided() -> None:
    comparison = Comparison(Settings())
    # The estimate (0.5) exceeds the tolerance, but the two differ by far more
    # than it can explain: the entry is decided, and it fails.
    comparison.add(np.array([1.0, 28.2]), np.array([1.0, 0.0]), np.array([0.0, 0.5]), _at)
    check = comparison.result(Mode.FULL)
    assert check.verdict is Verdict.FAILED
    assert (check.compared, check.undecidable) == (2, 0)


def test_nothing_resolved_is_inconclusive_never_a_pass_nor_a_failure() -> None:
    comparison = Comparison(Settings(), unit=("direction", "directions"))
    comparison.add(np.array([28.2, 1.0]), np.array([0.0, 3.0]), np.array([1e30, 1e30]), _at)
    check = comparison.result(Mode.DIRECTIONS)
    assert check.verdict is Verdict.INCONCLUSIVE
    assert (check.compared, check.undecidable) == (0, 2)
    assert check.reason is not None
    assert check.reason.startswith("none of its 2 directions could be resolved numerically")


def test_nan_or_inf_is_inconclusive_never_a_pass() -> None:
    for derived, reference in [(np.nan, 1.0), (1.0, np.inf)]:
        comparison = Comparison(Settings())
        comparison.add(np.array([1.0]), np.array([1.0]), 0.0, _at)
        comparison.add(np.array([derived]), np.array([reference]), 0.0, _at)
        check = comparison.result(Mode.DIRECTIONS)
        assert check.verdict is Verdict.INCONCLUSIVE
        assert check.reason == "NaN or Inf in the comparison"


def test_entries_a_tie_reaches_are_left_out_and_counted_apart_from_kinks() -> None:
    comparison = Comparison(Settings())
    derived = np.array([1.0, 9.0, 3.0, 7.0])
    reference = np.array([1.0, 2.0, 3.0, 4.0])
    at_kink = np.array([False, True, False, False])
    at_tie = np.array([False, True, False, True])
    comparison.add(derived, reference, 0.0, _at, at_kink, at_tie=at_tie)
    check = comparison.result(Mode.FULL)
    assert check.verdict is Verdict.OK
    assert (check.compared, check.at_kink, comparison.at_tie) == (2, 1, 1)
    assert any("1 entry left out where a comparison or kink" in h for h in check.hints)


def test_every_entry_at_a_tie_is_inconclusive_never_a_pass() -> None:
    comparison = Comparison(Settings())
    comparison.add(np.array([1.0, 9.0]), np.array([1.0, 2.0]), 0.0, _at, at_tie=np.ones(2, bool))
    check = comparison.result(Mode.FULL)
    assert check.verdict is Verdict.INCONCLUSIVE
    assert check.reason == NEAR_TIE
