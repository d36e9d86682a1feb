"""Memory estimates match what verification allocates (issue 14): an upper
bound of the bytes numpy allocates during a check, measured with tracemalloc,
and not absurdly loose; the affine layer at n = 512, d = h = 1024 fits."""

from __future__ import annotations

import tracemalloc

import pytest
from support import run

from shapecheck.numeric.values import draw_values
from shapecheck.numeric.verdicts import Mode, Settings, Verdict
from shapecheck.numeric.verify import Verifier
from shapecheck.symbolic.derive import Deriver

AFFINE = (
    "dim n = {n}, d = {d}, h = {h}\ninput X[n, d]\nparam W[d, h], b[h]\n"
    "Y[i, k] = X[i, j] W[j, k] + b[k]\nL = Y[i, k] Y[i, k]\n"
)


def _verifier(text: str, budget: int) -> tuple[Verifier, Deriver]:
    report = run(text, verify=False)
    assert report.checked is not None
    deriver = Deriver(report.checked)
    values = draw_values(report.checked, 0, None)
    return Verifier(report.checked, deriver, values, Settings(budget_bytes=budget)), deriver


@pytest.mark.parametrize(
    ("sizes", "wrt", "mode"),
    [((64, 96, 128), "W", Mode.DIRECTIONS), ((48, 40, 24), "b", Mode.FULL)],
)
def test_the_estimate_bounds_what_a_check_allocates(
    sizes: tuple[int, int, int], wrt: str, mode: Mode
) -> None:
    n, d, h = sizes
    verifier, deriver = _verifier(AFFINE.format(n=n, d=d, h=h), 8 * 2**20)
    of = "L"
    derivation = deriver.derive(of, wrt)
    plan = verifier.plan(derivation)
    assert (plan.contracted is None) == (mode is Mode.FULL)
    tracemalloc.start()
    try:
        check = verifier.check(derivation)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert check.verdict is Verdict.OK and check.mode is mode
    assert peak <= plan.bytes, (peak, plan)
    assert plan.bytes <= 12 * peak, (peak, plan)


def test_the_affine_gradient_at_full_size_is_verified_along_directions() -> None:
    report = run(AFFINE.format(n=512, d=1024, h=1024) + "derive dL/dW\n")
    (result,) = report.derivatives
    assert result.check is not None
    assert result.check.verdict is Verdict.OK
    assert result.check.mode is Mode.DIRECTIONS
    assert [d.code for d in report.diagnostics] == []
