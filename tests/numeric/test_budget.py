"""The memory budget: estimates, the choice of a full check, and sizes that fit."""

from __future__ import annotations

from support import run

from shapecheck.numeric import budget
from shapecheck.numeric.verdicts import Mode, Settings, Verdict
from shapecheck.symbolic.derive import Deriver

AFFINE = (
    "dim n = 8, d = 3, h = 5\ninput X[n, d]\nparam W[d, h], b[h]\n"
    "Y[i, k] = X[i, j] W[j, k] + b[k]\nL = Y[i, k] Y[i, k]\n"
)


def _derivation(text: str, of: str, wrt: str, sizes: tuple[tuple[str, int], ...] = ()):  # type: ignore[no-untyped-def]
    report = run(text, verify=False, sizes=sizes)
    assert report.checked is not None and report.errors == 0
    return report.checked, Deriver(report.checked).derive(of, wrt)


def test_count_and_largest_node_measure_entries() -> None:
    _, derivation = _derivation(AFFINE, "Y", "X")
    assert budget.count(derivation.indices) == 8 * 5 * 8 * 3
    # The Jacobian W[q,k] δ[i,p] is no larger than its own entries.
    assert budget.largest_node(derivation.formula) <= budget.count(derivation.indices)
    assert budget.derived_bytes(derivation) == 8 * 3 * budget.count(derivation.indices)


def test_forward_entries_counts_every_array_twice() -> None:
    checked, _ = _derivation(AFFINE, "Y", "X")
    # X, W, b, Y, L; twice for the values and the perturbed copies.
    assert budget.forward_entries(checked) == 2 * (8 * 3 + 3 * 5 + 5 + 8 * 5 + 1)


def test_small_jacobians_are_checked_in_full_only_within_the_budget() -> None:
    _, derivation = _derivation(AFFINE, "Y", "X")
    assert budget.full_fits(derivation, [], 0, 2**30)
    assert not budget.full_fits(derivation, [], 0, 1000)
    many = _derivation(AFFINE, "Y", "X", sizes=(("n", 200), ("d", 3)))[1]
    assert not budget.full_fits(many, [], 0, 2**30)  # 600 inputs: too many for full


def test_too_large_suggests_sizes_that_fit() -> None:
    sizes = (("n", 4000), ("d", 3000), ("h", 2000))
    checked, derivation = _derivation(AFFINE, "Y", "X", sizes=sizes)
    settings = Settings(budget_bytes=2**20)
    check = budget.too_large(checked, derivation, settings)
    assert check.verdict is Verdict.NOT_VERIFIED
    assert check.mode is Mode.NONE
    assert check.reason == "evaluating it would need more than the memory budget (1 MB)"
    suggested = dict(check.suggested_sizes)
    assert suggested and all(suggested[name] < dict(sizes)[name] for name in suggested)
    assert check.hints == (
        "check it at a smaller size: "
        + ", ".join(f"--size {name}={value}" for name, value in check.suggested_sizes),
    )
    smaller = _derivation(AFFINE, "Y", "X", sizes=tuple({**dict(sizes), **suggested}.items()))
    checked, derivation = smaller
    assert 8 * budget.forward_entries(checked) + budget.derived_bytes(derivation) <= 2**20
