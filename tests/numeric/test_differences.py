"""Finite differences: the full Jacobian and random directions, against a
numerator computed here by hand (independently of the derivation)."""

from __future__ import annotations

import numpy as np
from support import run

from shapecheck.numeric import differences
from shapecheck.numeric.evaluate import Evaluator
from shapecheck.numeric.verdicts import Mode, Settings, Verdict
from shapecheck.symbolic.derive import Derivation, Deriver

TEXT = "dim n = 4, d = 3, h = 2\ninput X[n, d]\nparam W[d, h]\nY[i, k] = X[i, j] W[j, k]\n"
RNG = np.random.default_rng(0)
X = RNG.standard_normal((4, 3))
W = RNG.standard_normal((3, 2))


def _derivation(of: str, wrt: str) -> Derivation:
    report = run(TEXT, verify=False)
    assert report.checked is not None
    return Deriver(report.checked).derive(of, wrt)


def _by_hand(stack: np.ndarray) -> np.ndarray:
    """Y for a stack of W values (leading batch axis), as `rerun` is called."""
    return X @ stack


def test_full_check_passes_the_true_jacobian_and_fails_another() -> None:
    derivation = _derivation("Y", "W")
    # dY[i,k]/dW[j,l] = X[i,j] δ[k,l], numerator order (i, k, j, l).
    true = np.einsum("ij,kl->ikjl", X, np.eye(2))
    check = differences.full_check(derivation, true, W, _by_hand, Settings(), chunk=8)
    assert check.verdict is Verdict.OK and check.mode is Mode.FULL
    assert check.compared == true.size
    wrong = true.copy()
    wrong[1, 0, 2, 0] += 1.0
    failed = differences.full_check(derivation, wrong, W, _by_hand, Settings(), chunk=8)
    assert failed.verdict is Verdict.FAILED
    assert failed.worst is not None and failed.worst.index is not None
    # The worst entry is named 1-based, in signature order.
    order = differences.signature_permutation(derivation)
    assert failed.worst.index == tuple((1, 0, 2, 0)[k] + 1 for k in order)


def test_directions_check_contracts_instead_of_building_the_jacobian() -> None:
    derivation = _derivation("Y", "W")
    contracted = differences.contracted(derivation)
    assert {i.name for i in contracted.free} == set()
    values = {"X": X, "W": W}

    def along(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        return Evaluator({**values, "#u": u, "#v": v}).value(contracted)

    def wrong(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        return 2 * along(u, v)

    rng = np.random.default_rng(1)
    check = differences.directions_check(derivation, along, W, _by_hand, Settings(), rng, 4)
    assert check.verdict is Verdict.OK and check.mode is Mode.DIRECTIONS
    assert check.compared == differences.DIRECTIONS
    failed = differences.directions_check(derivation, wrong, W, _by_hand, Settings(), rng, 4)
    assert failed.verdict is Verdict.FAILED
    assert failed.worst is not None and failed.worst.direction in (1, 2)
